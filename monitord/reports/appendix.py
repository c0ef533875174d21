"""The monthly report's appendix: every device's availability, as CSV or as an HTML page.

At fleet size the per-device table is hundreds of pages no customer reads in a PDF; it
goes into a file beside the report (or an API route) that a spreadsheet or a browser
opens, and the report itself shows the worst devices and names the file.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

from monitord.present.devices import local
from monitord.present.text import csv_cell
from monitord.reports.document import Document, Section, Table
from monitord.reports.monthly import MonthlyReport
from monitord.reports.words import duration, percent, w

_COLUMNS = ("site", "device_id", "device", "kind", "observed_h", "downtime_h", "failures",
            "tickets", "availability_pct", "warranty_end")  # fmt: skip
# The HTML page: widths that fit an A4 page when printed, cells wrapping inside them.
_WIDTHS = (16, 22, 11, 10, 10, 8, 8, 15)


def file_name(report_file: Path | str, fmt: str = "csv") -> str:
    """The appendix's name beside `report_file`: june.pdf -> june-devices.csv."""
    return f"{Path(report_file).stem}-devices.{fmt}"


def _warranty(r: MonthlyReport) -> dict[str, dt.date]:
    return {x.device.id: x.ends for x in r.warranty}


def to_csv(r: MonthlyReport) -> str:
    """One row per device, figures as plain numbers (hours, per cent) for a spreadsheet;
    UTF-8 with a BOM so that Excel reads the Chinese, every text cell inert."""
    lang, ends = r.lang, _warranty(r)
    buffer = io.StringIO()
    out = csv.writer(buffer, lineterminator="\r\n")
    out.writerow([w(f"apx_{c}", lang) for c in _COLUMNS])
    for s in r.sites:
        for line in s.devices:
            d, u = line.device, line.uptime
            share = "" if u.availability is None else f"{u.availability * 100:.3f}"
            end = ends.get(d.id)
            out.writerow(
                [
                    csv_cell(s.site.id),
                    csv_cell(d.id),
                    csv_cell(d.name),
                    w(d.kind, lang),
                    f"{u.observed.total_seconds() / 3600:.2f}",
                    f"{u.down.total_seconds() / 3600:.2f}",
                    u.failures,
                    line.tickets,
                    share,
                    end.isoformat() if end else "",
                ]
            )
    return "\ufeff" + buffer.getvalue()


def document(r: MonthlyReport, generated: dt.datetime) -> Document:
    """The same rows as a page to read or print (render with reports.html)."""
    lang = r.lang
    header = tuple(
        w(k, lang)
        for k in ("site", "device", "kind", "observed", "downtime", "failures", "tickets",
                  "availability")
    )  # fmt: skip
    rows = tuple(
        (
            f"{s.site.name} ({s.site.id})",
            f"{line.device.name} ({line.device.id})",
            w(line.device.kind, lang),
            duration(line.uptime.observed, lang),
            duration(line.uptime.down, lang),
            str(line.uptime.failures),
            str(line.tickets),
            percent(line.uptime.availability, lang, 3),
        )
        for s in r.sites
        for line in s.devices
    )
    meta = (
        (w("contract", lang), f"{r.contract.name} ({r.contract.id})"),
        (w("period", lang), r.period.label),
        (w("generated", lang), local(generated, r.period.tz)),
    )
    table = Table(header, rows, frozenset({3, 4, 5, 6, 7}), _WIDTHS)
    title = f"{w('appendix_title', lang)} · {r.period.label}"
    return Document(title, lang, meta, (Section(w("availability_devices", lang), (table,)),))
