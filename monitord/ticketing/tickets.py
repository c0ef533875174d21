"""Opening tickets for faults (exactly once) and appending events to them.

Synchronous on purpose: the CLI calls these directly, the daemon through a thread. Every
write is one transaction guarded by the ticket's version, and a fault's ticket is found by
its dedup key, so a restart or a crash at any point neither loses nor doubles a ticket.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable, Mapping
from typing import Any

from monitord.config.contracts import Contract, FaultKind, TicketClass
from monitord.health.faults import Fault
from monitord.notify.messages import Routing, messages_for
from monitord.store import Store, TicketConflict
from monitord.store.records import OutboxRecord, TicketEventRecord, TicketRecord
from monitord.ticketing.classify import classify
from monitord.ticketing.lifecycle import EventKind, InvalidTransition, Status, TicketEvent, check
from monitord.ticketing.lifecycle import derive as derive_status

SYSTEM = "monitord"
# Writers that read the same version all retry; only one wins each round. Enough rounds
# for dozens of simultaneous writers, each after a random pause so they stop colliding
# (30 at once lost 6 with five quick retries); bounded: under 4 s of pauses at worst.
ATTEMPTS = 40
_PAUSE_CAP = 0.1  # seconds
_REPAIRED = frozenset({Status.RESOLVED.value, Status.VERIFIED.value})


class NoSuchTicket(LookupError):
    pass


def dedup_key(contract: str, device: str, kind: FaultKind) -> str:
    return f"{contract}/{device}/{kind.value}"


def as_events(records: list[TicketEventRecord]) -> list[TicketEvent]:
    return [TicketEvent(r.at, EventKind(r.kind), r.by, r.text, r.data) for r in records]


def append(
    store: Store,
    ticket_id: int,
    kind: EventKind,
    by: str,
    at: dt.datetime,
    text: str = "",
    data: Mapping[str, Any] | None = None,
    routing: Routing | None = None,
) -> TicketRecord:
    """Add one event if the ticket's status allows it (InvalidTransition says why not).

    With `routing`, the event's messages go into the outbox in the same transaction.
    """
    for attempt in range(ATTEMPTS):
        if attempt:
            time.sleep(random.uniform(0, min(_PAUSE_CAP, 0.002 * 2**attempt)))
        found = store.ticket(ticket_id)
        if found is None:
            raise NoSuchTicket(f"ticket {ticket_id} does not exist")
        record, events = found
        late = check(as_events(events), kind)
        payload = {**(data or {}), **({"late": True} if late else {})}
        event = TicketEventRecord(ticket_id, record.version + 1, at, kind.value, by, text, payload)
        after = derive_status([*as_events(events), _as_event(event)])
        changes: dict[str, Any] = {
            "status": after.status.value,
            "paused": after.paused,
            "recovered": after.recovered,
        }
        if kind == EventKind.RECLASSIFIED:
            changes |= {"ticket_class": payload["to"], "rule": payload.get("rule", "manual")}
        if "impacted" in payload:
            changes["impacted"] = tuple(payload["impacted"])
        log = [*as_events(events), _as_event(event)]
        outbox = _outbox(log, routing)
        try:
            return store.append_ticket_event(ticket_id, record.version, event, changes, outbox)
        except TicketConflict:
            continue  # someone else wrote first: re-read and re-check against their event
    # A true conflict (the API's 409), not a failing database.
    raise TicketConflict(f"ticket {ticket_id} keeps changing under us; try again")


def _as_event(r: TicketEventRecord) -> TicketEvent:
    return TicketEvent(r.at, EventKind(r.kind), r.by, r.text, r.data)


def _outbox(
    log: list[TicketEvent], routing: Routing | None
) -> Callable[[TicketRecord], list[OutboxRecord]]:
    # Rendered by the store once the row is written: an opened ticket's id is known only then.
    if routing is None:
        return lambda _: []
    return lambda ticket: messages_for(ticket, log, routing)


def _impact_data(fault: Fault) -> dict[str, Any]:
    i = fault.impact
    return {
        "impacted": list(i.devices),
        "by_kind": i.by_kind,
        "cameras_dark": i.cameras_dark,
        "cameras_at_site": i.cameras_at_site,
        "recording_affected": i.recording_affected,
        "access_point_out": i.access_point_out,
    }


def open_for_fault(
    store: Store,
    fault: Fault,
    contract: Contract,
    at: dt.datetime,
    title: str,
    routing: Routing | None = None,
) -> tuple[TicketRecord, bool]:
    """The fault's ticket: reused while active, reopened if closed recently, else new."""
    key = dedup_key(contract.id, fault.device_id, fault.kind)
    ticket_class, rule = classify(fault, contract)
    active = store.active_ticket(key)
    if active is None:
        closed = store.last_closed_ticket(key)
        if closed is not None and at - closed.updated_at <= contract.reopen_within:
            reopened = _reopen(store, closed.id, fault, at, routing)
            return update_for_fault(store, reopened, fault, contract, at, routing), False
        first = TicketEventRecord(
            0,
            1,
            at,
            EventKind.OPENED.value,
            SYSTEM,
            f"{rule} -> {ticket_class.value}",
            {
                "class": ticket_class.value,
                "rule": rule,
                "fault": fault.kind.value,
                **_impact_data(fault),
            },
        )
        draft = TicketRecord(
            id=0,
            dedup_key=key,
            contract=contract.id,
            site_id=fault.site,
            root_device=fault.device_id,
            fault_kind=fault.kind.value,
            ticket_class=ticket_class.value,
            rule=rule,
            status=Status.OPEN.value,
            paused=False,
            recovered=False,
            title=title,
            impacted=fault.impact.devices,
            opened_at=at,
            updated_at=at,
            version=1,
        )
        ticket, created = store.open_ticket(draft, first, _outbox([_as_event(first)], routing))
        if created:
            return ticket, True
        active = ticket  # another writer was first
    if active.status in _REPAIRED:
        active = _reopen(store, active.id, fault, at, routing)
    return update_for_fault(store, active, fault, contract, at, routing), False


def _reopen(
    store: Store, ticket_id: int, fault: Fault, at: dt.datetime, routing: Routing | None
) -> TicketRecord:
    return append(
        store,
        ticket_id,
        EventKind.REOPENED,
        SYSTEM,
        at,
        "the fault came back",
        {"fault": fault.kind.value},
        routing,
    )


def update_for_fault(
    store: Store,
    ticket: TicketRecord,
    fault: Fault,
    contract: Contract,
    at: dt.datetime,
    routing: Routing | None = None,
) -> TicketRecord:
    """Add what the fault takes down now to the ticket; raise the class, never lower it.

    The list only grows: it records every device the fault has taken down. A device that
    comes back before its root does must not drop out of it, or the record would depend on
    whether the daemon happened to re-read the fault meanwhile (a restart does).
    """
    known = set(ticket.impacted)
    grown = [d for d in fault.impact.devices if d not in known]
    if grown:
        impacted = [*ticket.impacted, *grown]
        ticket = append(
            store,
            ticket.id,
            EventKind.IMPACT,
            SYSTEM,
            at,
            f"{len(impacted)} device(s) affected",
            {**_impact_data(fault), "impacted": impacted},
        )
    new_class, rule = classify(fault, contract)
    old = TicketClass(ticket.ticket_class) if ticket.ticket_class else None
    if old is not None and new_class.rank > old.rank:
        ticket = append(
            store,
            ticket.id,
            EventKind.RECLASSIFIED,
            SYSTEM,
            at,
            f"{rule} -> {new_class.value}",
            {"from": old.value, "to": new_class.value, "rule": rule},
            routing,
        )
    return ticket


def mark_recovered(
    store: Store,
    contract: str,
    device: str,
    kind: FaultKind,
    at: dt.datetime,
    routing: Routing | None = None,
) -> TicketRecord | None:
    """The monitoring saw the root come back: noted on its ticket, which stays open (T5)."""
    ticket = store.active_ticket(dedup_key(contract, device, kind))
    if ticket is None or ticket.recovered:
        return None
    try:
        return append(
            store,
            ticket.id,
            EventKind.RECOVERED,
            SYSTEM,
            at,
            "the device answers again",
            routing=routing,
        )
    except InvalidTransition:
        return None


def open_hotline(
    store: Store,
    contract: Contract,
    site: str,
    by: str,
    text: str,
    at: dt.datetime,
    device: str | None = None,
    ticket_class: TicketClass | None = None,
    routing: Routing | None = None,
    signature: Mapping[str, str] | None = None,
) -> TicketRecord:
    """A customer's call (T4): opened by hand, the hotline clocks run (first reply in 30 min).
    `signature`: who the face authenticated (present/signature.py), kept in the event."""
    key = f"{contract.id}/hotline/{at.timestamp():.6f}/{by}"
    data: dict[str, Any] = {
        **(signature or {}),
        "hotline": True,
        "rule": "manual",
        "impacted": [device] if device else [],
    }
    if ticket_class is not None:
        data["class"] = ticket_class.value
    first = TicketEventRecord(0, 1, at, EventKind.OPENED.value, by, text, data)
    draft = TicketRecord(
        id=0,
        dedup_key=key,
        contract=contract.id,
        site_id=site,
        root_device=device,
        fault_kind=FaultKind.HOTLINE.value,
        ticket_class=ticket_class.value if ticket_class else None,
        rule="manual",
        status=Status.OPEN.value,
        paused=False,
        recovered=False,
        title=text.splitlines()[0][:120] if text else "hotline call",
        impacted=(device,) if device else (),
        opened_at=at,
        updated_at=at,
        version=1,
    )
    ticket, _ = store.open_ticket(draft, first, _outbox([_as_event(first)], routing))
    return ticket


def warning_key(contract: str, device: str, rule: str) -> str:
    return f"{contract}/{device}/{FaultKind.WARNING.value}/{rule}"


def open_warning(
    store: Store,
    contract: Contract,
    site: str,
    device: str,
    rule: str,
    ticket_class: TicketClass,
    title: str,
    text: str,
    data: Mapping[str, Any],
    at: dt.datetime,
    routing: Routing | None = None,
) -> tuple[TicketRecord, bool]:
    """An early warning's ticket (P2), one per device and rule: reused while active,
    reopened if the system had resolved it, and not opened again within `reopen_within` of
    someone closing it (they saw it). Returns (the ticket, whether it is new)."""
    key = warning_key(contract.id, device, rule)
    name = f"early-{rule}"
    active = store.active_ticket(key)
    if active is not None:
        if active.status in _REPAIRED:
            reopened = append(
                store, active.id, EventKind.REOPENED, SYSTEM, at, text, dict(data), routing
            )
            return reopened, False
        return active, False
    closed = store.last_closed_ticket(key)
    if closed is not None and at - closed.updated_at <= contract.reopen_within:
        return closed, False
    payload = {"class": ticket_class.value, "rule": name, "fault": FaultKind.WARNING.value,
               "impacted": [device], **data}  # fmt: skip
    first = TicketEventRecord(0, 1, at, EventKind.OPENED.value, SYSTEM, text, payload)
    draft = TicketRecord(
        id=0, dedup_key=key, contract=contract.id, site_id=site, root_device=device,
        fault_kind=FaultKind.WARNING.value, ticket_class=ticket_class.value, rule=name,
        status=Status.OPEN.value, paused=False, recovered=False, title=title[:200],
        impacted=(device,), opened_at=at, updated_at=at, version=1,
    )  # fmt: skip
    return store.open_ticket(draft, first, _outbox([_as_event(first)], routing))


def resolve_warning(
    store: Store,
    contract: str,
    device: str,
    rule: str,
    at: dt.datetime,
    text: str,
    routing: Routing | None = None,
) -> TicketRecord | None:
    """The trend went away: the warning's ticket is resolved by the system (None if none)."""
    ticket = store.active_ticket(warning_key(contract, device, rule))
    if ticket is None or ticket.status in _REPAIRED:
        return None
    try:
        return append(store, ticket.id, EventKind.RESOLVED, SYSTEM, at, text, {}, routing)
    except InvalidTransition:
        return None
