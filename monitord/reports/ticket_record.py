"""One ticket as one record (R1): its four documents and the customer's sign-off.

Seed 000 §2(2) 5-6: every maintenance job hands over the fault diagnosis report, the
maintenance and recovery plan, the stage reports and the maintenance work report, and is
accepted by the customer. The ticket's log holds each as an event (`diagnosis`, `plan`,
`stage`, `resolved`, `verified`); a document written after an emergency repair is marked so.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from monitord.config.contracts import Contract
from monitord.present.devices import local
from monitord.present.signature import signed
from monitord.reports.document import Block, Document, Image, Paragraph, Section, Table, Text
from monitord.reports.words import event, milestone, status, w
from monitord.store.records import DeviceRecord, TicketEventRecord, TicketRecord
from monitord.ticketing.lifecycle import EventKind, as_events
from monitord.ticketing.sla import deadlines

DOCUMENTS = (
    EventKind.DIAGNOSIS,
    EventKind.PLAN,
    EventKind.STAGE,
    EventKind.RESOLVED,
    EventKind.VERIFIED,
)


def document(
    ticket: TicketRecord,
    events: Sequence[TicketEventRecord],
    contract: Contract | None,
    zone: str,
    tz: str,
    device: DeviceRecord | None,
    warranty_end: dt.date | None,
    lang: str,
    now: dt.datetime,
) -> Document:
    meta = (
        (w("contract", lang), ticket.contract),
        (w("site", lang), f"{ticket.site_id} ({status(zone, lang)})"),
        (w("class", lang), f"{ticket.ticket_class or '-'} ({ticket.rule})"),
        (w("status", lang), status(ticket.status, lang)),
        (w("opened", lang), local(ticket.opened_at, tz)),
        (w("time_zone", lang), tz),
    )
    sections = [
        _summary(ticket, device, warranty_end, lang, tz),
        _deadlines(events, contract, zone, tz, lang, now),
        *(_documents(kind, events, tz, lang) for kind in DOCUMENTS),
        _log(events, tz, lang),
    ]
    return Document(
        w("record_title", lang).format(id=ticket.id), lang, meta, tuple(s for s in sections if s)
    )


def _summary(
    ticket: TicketRecord,
    device: DeviceRecord | None,
    warranty_end: dt.date | None,
    lang: str,
    tz: str,
) -> Section:
    rows = [
        (w("title", lang), ticket.title),
        (w("root_device", lang), _device(ticket.root_device, device)),
        (w("impacted", lang), ", ".join(ticket.impacted) or "-"),
    ]
    if ticket.root_device:
        # Judged when the fault happened: a fault under warranty is repaired free.
        rows.append(
            (w("warranty_state", lang), _warranty(warranty_end, ticket.opened_at, tz, lang))
        )
    return Section(w("ticket", lang), (Table(("", ""), tuple(rows)),))


def _device(root: str | None, device: DeviceRecord | None) -> str:
    if device is None:
        return root or "-"
    extra = " ".join(x for x in (device.vendor, device.model, device.serial) if x)
    return f"{device.name} ({device.id}){'  ' + extra if extra else ''}"


def _warranty(end: dt.date | None, opened: dt.datetime, tz: str, lang: str) -> str:
    if end is None:
        return w("warranty_unknown", lang)
    day = opened.astimezone(ZoneInfo(tz)).date()
    key = "under_warranty" if end >= day else "out_of_warranty"
    return w(key, lang).format(date=end.isoformat())


def _deadlines(
    events: Sequence[TicketEventRecord],
    contract: Contract | None,
    zone: str,
    tz: str,
    lang: str,
    now: dt.datetime,
) -> Section | None:
    if contract is None:
        return None
    rows = []
    for d in deadlines(as_events(list(events)), contract, zone, now):
        if d.breached(now):
            state = w("breached", lang)
        elif d.met_at is not None:
            state = w("met", lang)
        else:
            state = w("paused" if d.paused else "running", lang)
        rows.append(
            (
                milestone(d.milestone, lang),
                local(d.due, tz) if d.due else "-",
                local(d.met_at, tz) if d.met_at else "-",
                state,
            )
        )
    header = tuple(w(k, lang) for k in ("milestone", "due_at", "met_at", "state"))
    return Section(w("milestones", lang), (Table(header, tuple(rows)),))


def _documents(kind: EventKind, events: Sequence[TicketEventRecord], tz: str, lang: str) -> Section:
    blocks: list[Block] = []
    for e in (e for e in events if e.kind == kind.value):
        who = w("signed_by" if kind == EventKind.VERIFIED else "by", lang)
        late = f" · {w('late', lang)}" if e.data.get("late") else ""
        blocks.append(Paragraph(f"{local(e.at, tz)} · {who}: {signed(e.by, e.data)}{late}",
                                note=True))  # fmt: skip
        blocks.append(Text(e.text or "-"))
        if kind == EventKind.VERIFIED:
            blocks += _signature(e, lang)
        if e.data.get("photos"):  # the console's work forms (console/photos.py): listed
            blocks.append(Paragraph(_photos(e.data["photos"], lang), note=True))
    if not blocks:
        blocks.append(Paragraph(w("not_written", lang)))
    return Section(w(f"doc_{kind.value}", lang), tuple(blocks))


def _signature(e: TicketEventRecord, lang: str) -> list[Block]:
    """The customer's drawn signature (console/signature.py checked it), or that it was
    a typed name only; nothing for sign-offs from before the console."""
    out: list[Block] = []
    name = e.data.get("signed_by")
    if isinstance(name, str) and name and name != e.by:  # the name typed by the signer
        out.append(Paragraph(f"{w('signed_by', lang)}: {name}"))
    drawn = e.data.get("signature")
    if isinstance(drawn, dict) and isinstance(drawn.get("png"), str):
        label = w("signature_drawn", lang)
        return [*out, Image(drawn["png"], label, str(drawn.get("sha256", "")),
                      int(drawn.get("width", 0)), int(drawn.get("height", 0)))]  # fmt: skip
    if e.data.get("signature_kind") == "typed":
        out.append(Paragraph(w("signature_typed", lang), note=True))
    return out


def _photos(refs: Sequence[dict[str, object]], lang: str) -> str:
    names = ", ".join(f"{r.get('name')} ({int(str(r.get('bytes', 0))) // 1024} KiB)" for r in refs)
    return f"{w('photos', lang).format(n=len(refs))}: {names}"


def _log(events: Sequence[TicketEventRecord], tz: str, lang: str) -> Section:
    header = ("#", w("time", lang), w("event", lang), w("by", lang), w("text", lang))
    rows = tuple(
        (
            str(e.seq),
            local(e.at, tz),
            event(e.kind, lang),
            signed(e.by, e.data),
            e.text.splitlines()[0] if e.text else "",
        )
        for e in events
    )
    return Section(w("log", lang), (Table(header, rows, frozenset({0})),))
