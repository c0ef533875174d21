"""Per-customer service log and system operation log (R3, seed 004 §3.3).

The service log is what was done for the customer: every ticket event of its sites. The
system operation log is what the systems did: every entry of its devices' operation
records (state changes, reboots, firmware and archive changes). Both over a period, oldest
first, as CSV (for a spreadsheet) or Markdown.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass

from monitord.present.devices import local
from monitord.present.signature import signed
from monitord.present.text import csv_cell
from monitord.reports.document import Document, Paragraph, Section, Table

_MOVES = ("state", "link")  # link: the centre lost a site poller, then heard it again
from monitord.reports.period import Period
from monitord.reports.words import event, w
from monitord.store import Store
from monitord.store.records import SiteRecord

SERVICE, OPERATION = "service", "operation"


@dataclass(frozen=True, slots=True)
class Entry:
    at: dt.datetime
    log: str  # SERVICE or OPERATION
    site: str
    ticket: int | None
    device: str
    event: str
    by: str
    detail: str


def entries(
    store: Store, sites: list[SiteRecord], period: Period, more: Sequence[Entry] = ()
) -> list[Entry]:
    """Both logs of these sites over [period.start, period.end), merged in time order, with
    `more` service entries (inspections, follow-up visits) kept elsewhere."""
    site_ids = {s.id for s in sites}
    devices = {d.id: d for d in store.devices.all(include_removed=True) if d.site_id in site_ids}
    out = [
        Entry(
            e.at,
            SERVICE,
            t.site_id,
            t.id,
            t.root_device or "",
            e.kind,
            signed(e.by, e.data),
            e.text,
        )
        for t, e in store.history.ticket_events(period.start, period.end, site_ids)
    ]
    out += [
        Entry(
            e.at,
            OPERATION,
            devices[e.device_id].site_id,
            None,
            e.device_id,
            f"{e.from_state or '-'} -> {e.to_state or '-'}" if e.kind in _MOVES else e.kind,
            "monitord",
            e.reason,
        )
        for e in store.history.operation_events(list(devices), period.start, period.end)
    ]
    out += more
    out.sort(key=lambda e: (e.at, e.log, e.ticket or 0))
    return out


_COLUMNS = ("time", "log_kind", "site", "ticket", "device", "event", "actor", "detail")


def to_csv(rows: list[Entry], tz: str, lang: str) -> str:
    """UTF-8 with a byte-order mark, so spreadsheets read the Chinese text correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([*(w(c, lang) for c in _COLUMNS), "UTC"])
    for e in rows:
        writer.writerow(
            csv_cell(cell)
            for cell in [
                local(e.at, tz),
                w(f"{e.log}_log", lang),
                e.site,
                "" if e.ticket is None else str(e.ticket),
                e.device,
                _event(e, lang),
                e.by,
                e.detail,
                e.at.isoformat(),
            ]
        )
    return "\ufeff" + buffer.getvalue()


def _event(e: Entry, lang: str) -> str:
    return event(e.event, lang) if e.log == SERVICE else e.event


def document(rows: list[Entry], scope: str, period: Period, lang: str) -> Document:
    meta = (
        (w("scope", lang), scope),
        (w("period", lang), period.label),
        (w("time_zone", lang), period.tz),
    )
    sections = []
    for log in (SERVICE, OPERATION):
        mine = [e for e in rows if e.log == log]
        header = tuple(w(c, lang) for c in _COLUMNS if c != "log_kind")
        table = Table(
            header,
            tuple(
                (
                    local(e.at, period.tz),
                    e.site,
                    "" if e.ticket is None else f"#{e.ticket}",
                    e.device,
                    _event(e, lang),
                    e.by,
                    e.detail.splitlines()[0] if e.detail else "",
                )
                for e in mine
            ),
        )
        count = Paragraph(f"{len(mine)} {w('entries', lang)}", note=True)
        sections.append(Section(w(f"{log}_log", lang), (count, table) if mine else (count,)))
    return Document(w("log_title", lang), lang, meta, tuple(sections))
