"""Opening tickets (exactly once) and appending events to them.

Every ticket, whatever opens it (a fault, a hotline call, an early warning, the preventive
side), is opened by `open_ticket` from a `TicketRequest`. Synchronous on purpose: the CLI
calls these directly, the daemon through a thread. Every write is one transaction guarded
by the ticket's version, and a ticket is found by its dedup key, so a restart or a crash at
any point neither loses nor doubles a ticket. An event's messages are rendered by the
injected `MessageRenderer` (ticketing/ports.py) inside that transaction.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from monitord.config.contracts import Contract, FaultKind, TicketClass
from monitord.health.faults import Fault
from monitord.store import RepeatedAction, Store, TicketConflict
from monitord.store.outbox import Outbox
from monitord.store.records import OutboxRecord, TicketEventRecord, TicketRecord
from monitord.ticketing.classify import classify
from monitord.ticketing.lifecycle import (
    EventKind,
    InvalidTransition,
    Status,
    TicketEvent,
    as_events,
    check,
)
from monitord.ticketing.lifecycle import derive as derive_status
from monitord.ticketing.ports import MessageRenderer
from monitord.ticketing.taken import when_taken

SYSTEM = "monitord"
# Writers that read the same version all retry; only one wins each round. Enough rounds
# for dozens of simultaneous writers, each after a random pause so they stop colliding
# (30 at once lost 6 with five quick retries); bounded: under 4 s of pauses at worst.
ATTEMPTS = 40
_PAUSE_CAP = 0.1  # seconds
_REPAIRED = frozenset({Status.RESOLVED.value, Status.VERIFIED.value})


class NoSuchTicket(LookupError):
    pass


def dedup_key(contract: str, *parts: str) -> str:
    """The key that makes a ticket unique: the contract, then what the ticket is about
    (a fault: its root device alone, so one problem episode is one ticket whatever its kind
    does on the way, issue 18 and migration 0010; a call: hotline/instant/caller;
    prevention: kind/its own key)."""
    return "/".join((contract, *parts))


@dataclass(frozen=True, slots=True)
class TicketRequest:
    """A ticket to open: what it is about and the dedup key (`dedup_key`) that names it."""

    key: str
    contract: str
    site: str
    kind: FaultKind
    ticket_class: TicketClass | None  # None: a hotline call not yet classified
    rule: str  # what chose the class ("nvr-down", "manual", "warranty-ending", ...)
    title: str
    text: str  # the opened event's text
    device: str | None = None  # the root device, if the ticket has one
    impacted: Sequence[str] = ()  # empty: the device alone (if any)
    by: str = SYSTEM
    data: Mapping[str, Any] = field(default_factory=dict)  # more for the opened event

    def affected(self) -> tuple[str, ...]:
        return tuple(self.impacted) or ((self.device,) if self.device else ())

    def opened_data(self) -> dict[str, Any]:
        # A call has no fault kind in its event (its "hotline" flag says what it is) and
        # maybe no class yet.
        head: dict[str, Any] = {"class": self.ticket_class.value} if self.ticket_class else {}
        head["rule"] = self.rule
        if self.kind != FaultKind.HOTLINE:
            head["fault"] = self.kind.value
        return {**head, "impacted": list(self.affected()), **self.data}


def open_ticket(
    store: Store, request: TicketRequest, at: dt.datetime, messages: MessageRenderer | None
) -> tuple[TicketRecord, bool]:
    """(the ticket, True if opened now); while a ticket with the key is active, that one."""
    return store.tickets.open(*_draft(request, at, messages))


def _draft(
    request: TicketRequest, at: dt.datetime, messages: MessageRenderer | None
) -> tuple[TicketRecord, TicketEventRecord, Callable[[TicketRecord], list[OutboxRecord]]]:
    """The ticket row, its first event and its messages, as the store opens them."""
    ticket_class = request.ticket_class.value if request.ticket_class else None
    data = request.opened_data()
    first = TicketEventRecord(0, 1, at, EventKind.OPENED.value, request.by, request.text, data)
    draft = TicketRecord(
        id=0,
        dedup_key=request.key,
        contract=request.contract,
        site_id=request.site,
        root_device=request.device,
        fault_kind=request.kind.value,
        ticket_class=ticket_class,
        rule=request.rule,
        status=Status.OPEN.value,
        paused=False,
        recovered=False,
        title=request.title,
        impacted=request.affected(),
        opened_at=at,
        updated_at=at,
        version=1,
    )
    return draft, first, _outbox([_as_event(first)], messages)


def append(
    store: Store,
    ticket_id: int,
    kind: EventKind,
    by: str,
    at: dt.datetime,
    text: str = "",
    data: Mapping[str, Any] | None = None,
    messages: MessageRenderer | None = None,
    idem: str | None = None,
    taken_at: dt.datetime | None = None,
) -> TicketRecord:
    """Add one event if the ticket's status allows it (InvalidTransition says why not).

    With `messages`, the event's messages go into the outbox in the same transaction.
    `idem` is the action's idempotency key (a console form's): if the log already holds
    it, RepeatedAction and nothing is written, checked before the status is (the status
    has moved on since the first time). `taken_at` is when the user says they acted
    (`at` is when it arrived): the event's time where plausible (ticketing/taken.py).
    """
    for attempt in range(ATTEMPTS):
        if attempt:
            time.sleep(random.uniform(0, min(_PAUSE_CAP, 0.002 * 2**attempt)))
        if idem is not None and (done := store.tickets.by_idem(idem)) is not None:
            raise RepeatedAction(idem, *done)
        found = store.tickets.get(ticket_id)
        if found is None:
            raise NoSuchTicket(f"ticket {ticket_id} does not exist")
        record, events = found
        when, said = at, dict(data or {})
        if taken_at is not None:
            chosen = when_taken(taken_at, at, record.opened_at, events[-1].at if events else None)
            when, said = chosen.at, {**said, **chosen.record(taken_at, at)}
        event, changes, outbox = _next_event(record, events, kind, by, when, text, said, messages)
        try:
            return store.tickets.append_event(
                ticket_id, record.version, event, changes, outbox, idem
            )
        except TicketConflict:
            continue  # someone else wrote first: re-read and re-check against their event
    # A true conflict (the API's 409), not a failing database.
    raise TicketConflict(f"ticket {ticket_id} keeps changing under us; try again")


Appended = tuple[TicketEventRecord, dict[str, Any], Callable[[TicketRecord], list[OutboxRecord]]]


def _next_event(
    record: TicketRecord,
    events: list[TicketEventRecord],
    kind: EventKind,
    by: str,
    at: dt.datetime,
    text: str,
    data: Mapping[str, Any] | None,
    messages: MessageRenderer | None,
) -> Appended:
    """The event that follows `events`, the row's changes and its messages (InvalidTransition
    if the status does not allow it)."""
    ticket_id = record.id
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
    if kind == EventKind.FAULT_CHANGED:
        changes["fault_kind"] = payload["to"]
    if "impacted" in payload:
        changes["impacted"] = tuple(payload["impacted"])
    log = [*as_events(events), _as_event(event)]
    outbox = _outbox(log, messages)
    return event, changes, outbox


def _as_event(r: TicketEventRecord) -> TicketEvent:
    return TicketEvent(r.at, EventKind(r.kind), r.by, r.text, r.data)


def _outbox(
    log: list[TicketEvent], messages: MessageRenderer | None
) -> Callable[[TicketRecord], list[OutboxRecord]]:
    # Rendered by the store once the row is written: an opened ticket's id is known only then.
    if messages is None:
        return lambda _: []
    return lambda ticket: messages.render(ticket, log)


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
    messages: MessageRenderer | None = None,
    late: Mapping[str, Any] | None = None,
) -> tuple[TicketRecord, bool]:
    """The fault's ticket: reused while active, reopened if closed recently, else new.
    `late`: why it opens only now (a site's replayed gap, sites/gap.py), kept in its
    opened event as `delayed` for the messages to say."""
    key = dedup_key(contract.id, fault.device_id)
    active = store.tickets.active(key)
    if active is None:
        closed = store.tickets.last_closed(key)
        if closed is not None and at - closed.updated_at <= contract.reopen_within:
            reopened = _reopen(store, closed.id, fault, at, messages)
            return update_for_fault(store, reopened, fault, contract, at, messages), False
        request = _fault_request(FaultTicket(fault, contract, at, title, late), key)
        ticket, created = open_ticket(store, request, at, messages)
        if created:
            return ticket, True
        active = ticket  # another writer was first
    if active.status in _REPAIRED:
        active = _reopen(store, active.id, fault, at, messages)
    return update_for_fault(store, active, fault, contract, at, messages), False


@dataclass(frozen=True, slots=True)
class FaultTicket:
    """One fault whose ticket `open_for_faults` brings up to date."""

    fault: Fault
    contract: Contract
    at: dt.datetime
    title: str
    late: Mapping[str, Any] | None = None  # see `open_for_fault`


def open_for_faults(
    store: Store, wanted: Sequence[FaultTicket], messages: MessageRenderer | None = None
) -> list[tuple[TicketRecord, bool] | None]:
    """`open_for_fault`'s answer for each fault (distinct roots) that a storm's batch
    settles; None for those left to `open_for_fault` itself, one by one.

    A storm: hundreds of roots fail at once and each needs a new ticket, then a bigger
    impact as the devices behind them are confirmed. One read finds which have no ticket
    (nor one to reopen), which only need their impact grown (and then maybe their class
    raised) and which already say it all; the impacts are written in one transaction, the
    raised classes with their messages in a second, then the new tickets, each with its
    first event and messages, in a third. That opening comes last, so a failure (retried
    whole by the caller) never hides that a ticket was opened now. Anything else (someone
    else's new ticket, one to reopen, a kind changed, a conflict) is None.
    """
    keys = [dedup_key(w.contract.id, w.fault.device_id) for w in wanted]
    if len(set(keys)) < len(keys):
        return [None for _ in wanted]
    found = store.tickets.current(keys)
    fresh: list[int] = []
    growing: dict[int, TicketRecord] = {}
    done: dict[int, tuple[TicketRecord, bool]] = {}
    for i, (w, key) in enumerate(zip(wanted, keys, strict=True)):
        active, closed = found[key]
        reopen = closed is not None and w.at - closed.updated_at <= w.contract.reopen_within
        if active is None and not reopen:
            fresh.append(i)
        elif active is not None and _only_grows(active, w.fault):
            growing[i] = active
        elif active is not None and _up_to_date(active, w):
            done[i] = active, False  # what `update_for_fault` would leave as it is
    grown = _grow_impacts(store, growing, wanted)
    for i, ticket in _raise_classes(store, grown, wanted, messages).items():
        done[i] = ticket, False
    drafts = [_draft(_fault_request(wanted[i], keys[i]), wanted[i].at, messages) for i in fresh]
    for i, opened in zip(fresh, store.tickets.open_many(drafts), strict=True):
        if opened is not None and opened[1]:
            done[i] = opened
    return [done.get(i) for i in range(len(wanted))]


def _only_grows(ticket: TicketRecord, fault: Fault) -> bool:
    """The active ticket needs only its impact grown (the storm's second pass)."""
    return (
        ticket.status not in _REPAIRED
        and ticket.fault_kind == fault.kind.value
        and any(d not in set(ticket.impacted) for d in fault.impact.devices)
    )


_Logged = tuple[TicketRecord, list[TicketEventRecord]]  # a ticket and its events


def _up_to_date(ticket: TicketRecord, w: FaultTicket) -> bool:
    """The active ticket already says all the fault does: a storm's later passes, once
    the first one opened it with the whole impact (200 of them were 200 reads, one by one)."""
    return (
        ticket.status not in _REPAIRED
        and ticket.fault_kind == w.fault.kind.value
        and set(w.fault.impact.devices) <= set(ticket.impacted)
        and _reclassified(ticket, w.fault, w.contract) is None
    )


def _reclassified(
    ticket: TicketRecord, fault: Fault, contract: Contract
) -> tuple[str, dict[str, str]] | None:
    """The RECLASSIFIED event's text and data where the fault calls for a higher class
    than the ticket has (never lower)."""
    new_class, rule = classify(fault, contract)
    old = TicketClass(ticket.ticket_class) if ticket.ticket_class else None
    if old is None or new_class.rank <= old.rank:
        return None
    return f"{rule} -> {new_class.value}", {"from": old.value, "to": new_class.value, "rule": rule}


@dataclass(frozen=True, slots=True)
class _Step:
    """One event to append to a ticket as part of a storm's batch."""

    record: TicketRecord
    events: list[TicketEventRecord]
    kind: EventKind
    at: dt.datetime
    text: str
    data: Mapping[str, Any]
    messages: MessageRenderer | None = None


def _append_steps(store: Store, steps: Mapping[int, _Step]) -> dict[int, _Logged]:
    """Each step's event in one transaction: for each ticket that took it, the ticket and
    its events after. A step the status does not allow, or one that would change the
    status (it may meet the dedup index: alone, as `append` does), is left out, to the
    one-by-one path, which says why as it always has."""
    appends: list[tuple[int, int, TicketEventRecord, Mapping[str, Any], Outbox]] = []
    order: list[tuple[int, list[TicketEventRecord]]] = []
    for i, step in steps.items():
        record = step.record
        try:
            event, changes, outbox = _next_event(
                record, step.events, step.kind, SYSTEM, step.at, step.text, step.data,
                step.messages,
            )  # fmt: skip
        except InvalidTransition:
            continue
        if changes["status"] != record.status:
            continue
        appends.append((record.id, record.version, event, changes, outbox))
        order.append((i, [*step.events, event]))
    written = store.tickets.append_many(appends)
    return {
        i: (after, events)
        for (i, events), after in zip(order, written, strict=True)
        if after is not None
    }


def _grow_impacts(
    store: Store, growing: Mapping[int, TicketRecord], wanted: Sequence[FaultTicket]
) -> dict[int, _Logged]:
    """`update_for_fault`'s impact event for several tickets in one transaction: for each
    that took it, the ticket and its events after; the others are left to the one-by-one
    path."""
    if not growing:
        return {}
    found = store.tickets.get_many([t.id for t in growing.values()])
    steps: dict[int, _Step] = {}
    for i, seen in growing.items():
        current = found.get(seen.id)
        if current is None or not _only_grows(current[0], wanted[i].fault):
            continue
        record, events = current
        fault = wanted[i].fault
        known = set(record.impacted)
        impacted = [*record.impacted, *(d for d in fault.impact.devices if d not in known)]
        text = f"{len(impacted)} device(s) affected"
        data = {**_impact_data(fault), "impacted": impacted}
        steps[i] = _Step(record, events, EventKind.IMPACT, wanted[i].at, text, data)
    return _append_steps(store, steps)


def _raise_classes(
    store: Store,
    grown: Mapping[int, _Logged],
    wanted: Sequence[FaultTicket],
    messages: MessageRenderer | None,
) -> dict[int, TicketRecord]:
    """`update_for_fault`'s last step for tickets whose impact just grew: the class raised
    where the bigger impact calls for it (a switch's ticket becomes A as its cameras are
    confirmed), in one transaction with its messages; the ticket after, for each that is
    done. A storm of 200 roots did this one by one: 200 transactions, half of its time."""
    done: dict[int, TicketRecord] = {}
    steps: dict[int, _Step] = {}
    for i, (record, events) in grown.items():
        w = wanted[i]
        raised = _reclassified(record, w.fault, w.contract)
        if raised is None:
            done[i] = record
        else:
            kind = EventKind.RECLASSIFIED
            steps[i] = _Step(record, events, kind, w.at, *raised, messages=messages)
    done.update((i, after) for i, (after, _) in _append_steps(store, steps).items())
    return done


def _fault_request(w: FaultTicket, key: str) -> TicketRequest:
    ticket_class, rule = classify(w.fault, w.contract)
    return TicketRequest(
        key=key,
        contract=w.contract.id,
        site=w.fault.site,
        kind=w.fault.kind,
        ticket_class=ticket_class,
        rule=rule,
        title=w.title,
        text=f"{rule} -> {ticket_class.value}",
        device=w.fault.device_id,
        impacted=w.fault.impact.devices,
        data={**_impact_data(w.fault), **({"delayed": dict(w.late)} if w.late else {})},
    )


def _reopen(
    store: Store, ticket_id: int, fault: Fault, at: dt.datetime, messages: MessageRenderer | None
) -> TicketRecord:
    return append(
        store,
        ticket_id,
        EventKind.REOPENED,
        SYSTEM,
        at,
        "the fault came back",
        {"fault": fault.kind.value},
        messages,
    )


def update_for_fault(
    store: Store,
    ticket: TicketRecord,
    fault: Fault,
    contract: Contract,
    at: dt.datetime,
    messages: MessageRenderer | None = None,
) -> TicketRecord:
    """Add what the fault takes down now to the ticket; raise the class, never lower it.

    The list only grows: it records every device the fault has taken down. A device that
    comes back before its root does must not drop out of it, or the record would depend on
    whether the daemon happened to re-read the fault meanwhile (a restart does).
    """
    if ticket.fault_kind != fault.kind.value:
        ticket = _kind_changed(store, ticket, fault, contract, at)
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
    raised = _reclassified(ticket, fault, contract)
    if raised is not None:
        text, data = raised
        ticket = append(store, ticket.id, EventKind.RECLASSIFIED, SYSTEM, at, text, data, messages)
    return ticket


def _kind_changed(
    store: Store, ticket: TicketRecord, fault: Fault, contract: Contract, at: dt.datetime
) -> TicketRecord:
    """The same episode shows another kind: an event in its log, no message of its own.

    A rising class is then reclassified (and paged) by `update_for_fault`; a falling one
    is only noted here, since the class is never lowered by the monitoring.
    """
    new_class, rule = classify(fault, contract)
    old = TicketClass(ticket.ticket_class) if ticket.ticket_class else None
    text = f"{ticket.fault_kind} -> {fault.kind.value}"
    data: dict[str, Any] = {"from": ticket.fault_kind, "to": fault.kind.value}
    if old is not None and new_class.rank < old.rank:
        text += f"; class stays {old.value} ({rule} would be {new_class.value})"
        data |= {"class_kept": old.value, "would_be": new_class.value, "rule": rule}
    return append(store, ticket.id, EventKind.FAULT_CHANGED, SYSTEM, at, text, data)


def mark_recovered(
    store: Store,
    contract: str,
    device: str,
    at: dt.datetime,
    messages: MessageRenderer | None = None,
) -> TicketRecord | None:
    """The monitoring saw the root confirmed UP: noted on its ticket, which stays open (T5).

    Once per episode: a ticket already marked recovered is left alone until it reopens.
    """
    ticket = store.tickets.active(dedup_key(contract, device))
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
            messages=messages,
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
    messages: MessageRenderer | None = None,
    signature: Mapping[str, str] | None = None,
    idem: str | None = None,
    taken_at: dt.datetime | None = None,
) -> TicketRecord:
    """A customer's call (T4): opened by hand, the hotline clocks run (first reply in 30 min).
    `signature`: who the face authenticated (present/signature.py), kept in the event.
    `idem` (a console form's idempotency key) stands in the dedup key for the time: the
    same call sent twice finds the ticket it opened. `taken_at`: as in `append`."""
    said: dict[str, Any] = {}
    if taken_at is not None:
        chosen = when_taken(taken_at, at, None, None)
        at, said = chosen.at, chosen.record(taken_at, at)
    request = TicketRequest(
        key=dedup_key(contract.id, FaultKind.HOTLINE.value, idem or f"{at.timestamp():.6f}", by),
        contract=contract.id,
        site=site,
        kind=FaultKind.HOTLINE,
        ticket_class=ticket_class,
        rule="manual",
        title=text.splitlines()[0][:120] if text else "hotline call",
        text=text,
        device=device,
        by=by,
        data={**(signature or {}), "hotline": True, **said},
    )
    ticket, _ = open_ticket(store, request, at, messages)
    return ticket


def warning_key(contract: str, device: str, rule: str) -> str:
    return dedup_key(contract, device, FaultKind.WARNING.value, rule)


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
    messages: MessageRenderer | None = None,
) -> tuple[TicketRecord, bool]:
    """An early warning's ticket (P2), one per device and rule: reused while active,
    reopened if the system had resolved it, and not opened again within `reopen_within` of
    someone closing it (they saw it). Returns (the ticket, whether it is new)."""
    key = warning_key(contract.id, device, rule)
    name = f"early-{rule}"
    active = store.tickets.active(key)
    if active is not None:
        if active.status in _REPAIRED:
            reopened = append(
                store, active.id, EventKind.REOPENED, SYSTEM, at, text, dict(data), messages
            )
            return reopened, False
        return active, False
    closed = store.tickets.last_closed(key)
    if closed is not None and at - closed.updated_at <= contract.reopen_within:
        return closed, False
    request = TicketRequest(
        key=key,
        contract=contract.id,
        site=site,
        kind=FaultKind.WARNING,
        ticket_class=ticket_class,
        rule=name,
        title=title[:200],
        text=text,
        device=device,
        data=data,
    )
    return open_ticket(store, request, at, messages)


def resolve_warning(
    store: Store,
    contract: str,
    device: str,
    rule: str,
    at: dt.datetime,
    text: str,
    messages: MessageRenderer | None = None,
) -> TicketRecord | None:
    """The trend went away: the warning's ticket is resolved by the system (None if none)."""
    ticket = store.tickets.active(warning_key(contract, device, rule))
    if ticket is None or ticket.status in _REPAIRED:
        return None
    try:
        return append(store, ticket.id, EventKind.RESOLVED, SYSTEM, at, text, {}, messages)
    except InvalidTransition:
        return None
