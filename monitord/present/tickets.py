"""What `monitord tickets` and `monitord ticket show` print: text tables or JSON."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from monitord.config.contracts import Contract
from monitord.present.devices import local, table
from monitord.present.signature import signed
from monitord.store.records import TicketEventRecord, TicketRecord
from monitord.ticketing.lifecycle import as_events
from monitord.ticketing.sla import deadlines


def _deadline_rows(
    events: Sequence[TicketEventRecord], contract: Contract | None, zone: str, now: dt.datetime
) -> list[dict[str, Any]]:
    if contract is None:
        return []
    rows = []
    for d in deadlines(as_events(list(events)), contract, zone, now):
        remaining = d.remaining(now)
        rows.append(
            {
                "milestone": d.milestone,
                "due": d.due.isoformat() if d.due else None,
                "met_at": d.met_at.isoformat() if d.met_at else None,
                "breached": d.breached(now),
                "paused": d.paused,
                "remaining_seconds": remaining.total_seconds() if remaining is not None else None,
            }
        )
    return rows


def ticket_dict(
    ticket: TicketRecord,
    events: Sequence[TicketEventRecord],
    contract: Contract | None,
    zone: str,
    now: dt.datetime,
) -> dict[str, Any]:
    return {
        "id": ticket.id,
        "contract": ticket.contract,
        "site": ticket.site_id,
        "class": ticket.ticket_class,
        "rule": ticket.rule,
        "status": ticket.status,
        "paused": ticket.paused,
        "recovered": ticket.recovered,
        "title": ticket.title,
        "root_device": ticket.root_device,
        "fault": ticket.fault_kind,
        "impacted_devices": list(ticket.impacted),
        "opened_at": ticket.opened_at.isoformat(),
        "updated_at": ticket.updated_at.isoformat(),
        "deadlines": _deadline_rows(events, contract, zone, now),
        "events": [
            {
                "seq": e.seq,
                "at": e.at.isoformat(),
                "kind": e.kind,
                "by": e.by,
                "signed": signed(e.by, e.data),  # by, beside the authenticated principal
                "text": e.text,
                "data": e.data,
            }
            for e in events
        ],
    }


def tickets_text(tickets: Sequence[TicketRecord], timezones: dict[str, str]) -> str:
    rows = [
        [
            str(t.id),
            t.ticket_class or "-",
            t.status + (" (paused)" if t.paused else ""),
            t.site_id,
            t.root_device or "-",
            str(len(t.impacted)),
            local(t.opened_at, timezones.get(t.site_id, "UTC")),
            t.title,
        ]
        for t in tickets
    ]
    return table(["ID", "CLASS", "STATUS", "SITE", "ROOT", "IMPACTED", "OPENED", "TITLE"], rows)


def ticket_text(
    ticket: TicketRecord,
    events: Sequence[TicketEventRecord],
    contract: Contract | None,
    zone: str,
    tz: str,
    now: dt.datetime,
) -> str:
    data = ticket_dict(ticket, events, contract, zone, now)
    head = [
        f"#{ticket.id}  {ticket.title}",
        f"class {ticket.ticket_class or '-'} ({ticket.rule})  status {ticket.status}"
        + ("  paused" if ticket.paused else "")
        + ("  recovered" if ticket.recovered else ""),
        f"contract {ticket.contract}  site {ticket.site_id} ({zone})  root "
        f"{ticket.root_device or '-'}  impacted {len(ticket.impacted)}: "
        + ", ".join(ticket.impacted),
        "",
    ]
    deadline_rows = []
    for d in data["deadlines"]:
        due = dt.datetime.fromisoformat(d["due"]) if d["due"] else None
        met = dt.datetime.fromisoformat(d["met_at"]) if d["met_at"] else None
        state = (
            ("BREACHED" if d["breached"] else "met")
            if met or d["breached"]
            else ("paused" if d["paused"] else f"{d['remaining_seconds'] / 3600:.1f} h left")
        )
        deadline_rows.append(
            [
                d["milestone"],
                local(due, tz) if due else "(paused)",
                local(met, tz) if met else "-",
                state,
            ]
        )
    event_rows = [
        [
            str(e.seq),
            local(e.at, tz),
            e.kind,
            signed(e.by, e.data),
            e.text + ("  [late]" if e.data.get("late") else ""),
        ]
        for e in events
    ]
    return "\n".join(
        [
            *head,
            table(["DEADLINE", "DUE", "MET", "STATE"], deadline_rows),
            "",
            table(["#", "TIME", "EVENT", "BY", "TEXT"], event_rows),
        ]
    )


def to_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2)
