"""A ticket is an append-only log of events; its status is derived from the log.

opened -> acknowledged -> on_site -> diagnosed -> planned -> in_progress -> resolved ->
verified -> closed (seed 000 2(2), seed 004 3.1). In an emergency the repair comes first:
the diagnosis and plan may be added after `resolved`, and are then marked late. Pauses,
recoveries, reclassifications, assignments and comments do not move the status.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from monitord.store.records import TicketEventRecord


class Status(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    ON_SITE = "on_site"
    DIAGNOSED = "diagnosed"
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    VERIFIED = "verified"
    CLOSED = "closed"


class EventKind(StrEnum):
    OPENED = "opened"
    ACKNOWLEDGED = "acknowledged"
    ON_SITE = "on_site"
    DIAGNOSIS = "diagnosis"  # fault diagnosis report: on-site record, class, emergency handling
    PLAN = "plan"  # maintenance and recovery plan
    STAGE = "stage"  # stage report
    RESOLVED = "resolved"  # maintenance work report
    VERIFIED = "verified"  # the customer's sign-off
    CLOSED = "closed"
    REOPENED = "reopened"
    PAUSED = "paused"
    RESUMED = "resumed"
    RECLASSIFIED = "reclassified"
    RECOVERED = "recovered"  # the monitoring saw the root device come back
    IMPACT = "impact"  # more devices behind the root are affected
    FAULT_CHANGED = "fault_changed"  # the same episode shows another kind (down <-> degraded)
    COMMENT = "comment"
    SLA_WARNING = "sla_warning"
    SLA_BREACH = "sla_breach"
    ESCALATED = "escalated"  # an escalation step paged more people (notify/escalation.py)
    ASSIGNED = "assigned"  # a dispatcher gave the ticket to an engineer (data.engineer)


_ORDER = list(Status)
# The status an event moves the ticket to (if it is further along), and where it may come from.
_MOVES: dict[EventKind, tuple[Status, frozenset[Status]]] = {
    EventKind.ACKNOWLEDGED: (Status.ACKNOWLEDGED, frozenset({Status.OPEN})),
    # Only while nobody has acknowledged: this check is what stops an escalation.
    EventKind.ESCALATED: (Status.OPEN, frozenset({Status.OPEN})),
    EventKind.ON_SITE: (Status.ON_SITE, frozenset({Status.OPEN, Status.ACKNOWLEDGED})),
    EventKind.DIAGNOSIS: (Status.DIAGNOSED, frozenset(_ORDER[:7])),
    EventKind.PLAN: (Status.PLANNED, frozenset(_ORDER[:7])),
    EventKind.STAGE: (Status.IN_PROGRESS, frozenset(_ORDER[1:6])),
    EventKind.RESOLVED: (Status.RESOLVED, frozenset(_ORDER[:6])),
    EventKind.VERIFIED: (Status.VERIFIED, frozenset({Status.RESOLVED})),
    EventKind.CLOSED: (Status.CLOSED, frozenset({Status.VERIFIED})),
    EventKind.REOPENED: (Status.OPEN, frozenset({Status.RESOLVED, Status.VERIFIED, Status.CLOSED})),
}
_ANYTIME_BUT_CLOSED = frozenset(
    {
        EventKind.PAUSED,
        EventKind.RESUMED,
        EventKind.RECLASSIFIED,
        EventKind.IMPACT,
        EventKind.FAULT_CHANGED,
        EventKind.ASSIGNED,
    }
)
_ALWAYS = frozenset(
    {EventKind.COMMENT, EventKind.RECOVERED, EventKind.SLA_WARNING, EventKind.SLA_BREACH}
)
# Documents that may follow the repair in an emergency (seed 000 2(2)).
_LATE_DOCUMENTS = frozenset({EventKind.DIAGNOSIS, EventKind.PLAN})


class InvalidTransition(Exception):
    """An event that the ticket's current status does not allow; the message says why."""


@dataclass(frozen=True, slots=True)
class TicketEvent:
    at: dt.datetime
    kind: EventKind
    by: str
    text: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Derived:
    status: Status
    paused: bool
    recovered: bool


def derive(events: Sequence[TicketEvent]) -> Derived:
    """Replay the log; the first event must be `opened`."""
    if not events or events[0].kind != EventKind.OPENED:
        raise InvalidTransition("a ticket's log starts with 'opened'")
    status, paused, recovered = Status.OPEN, False, False
    for event in events[1:]:
        status, paused, recovered = _step(status, paused, recovered, event.kind)
    return Derived(status, paused, recovered)


def check(events: Sequence[TicketEvent], kind: EventKind) -> bool:
    """Raise InvalidTransition if `kind` may not follow `events`; True if it comes late."""
    current = derive(events)
    _step(current.status, current.paused, current.recovered, kind)
    return kind in _LATE_DOCUMENTS and _ORDER.index(current.status) >= _ORDER.index(Status.RESOLVED)


def _step(
    status: Status, paused: bool, recovered: bool, kind: EventKind
) -> tuple[Status, bool, bool]:
    if kind == EventKind.OPENED:
        raise InvalidTransition("the ticket is already open")
    if kind in _ALWAYS:
        return status, paused, recovered or kind == EventKind.RECOVERED
    if status == Status.CLOSED and kind != EventKind.REOPENED:
        raise InvalidTransition(f"the ticket is closed: '{kind.value}' needs 'reopen' first")
    if kind in _ANYTIME_BUT_CLOSED:
        if kind == EventKind.PAUSED and paused:
            raise InvalidTransition("the ticket is already paused")
        if kind == EventKind.RESUMED and not paused:
            raise InvalidTransition("the ticket is not paused")
        if kind in (EventKind.PAUSED, EventKind.RESUMED):
            paused = kind == EventKind.PAUSED
        return status, paused, recovered
    target, sources = _MOVES[kind]
    if status not in sources:
        allowed = ", ".join(s.value for s in _ORDER if s in sources)
        raise InvalidTransition(
            f"'{kind.value}' is not possible when the ticket is {status.value} "
            f"(possible when {allowed})"
        )
    if kind == EventKind.REOPENED:
        return Status.OPEN, False, False
    if _ORDER.index(target) > _ORDER.index(status):
        status = target
    return status, paused, recovered


def as_events(records: list[TicketEventRecord]) -> list[TicketEvent]:
    """The stored log as the lifecycle reads it (here, not in ticketing/tickets.py, so that
    a reader of tickets need not import the engine and the store with it)."""
    return [TicketEvent(r.at, EventKind(r.kind), r.by, r.text, r.data) for r in records]
