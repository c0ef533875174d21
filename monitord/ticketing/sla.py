"""SLA clocks, computed from a ticket's log and its contract (pure; UTC instants).

Nothing is stored but the log, so deadlines survive restarts and clock changes by
construction. Rules:
- A clock starts when the ticket opens, or when it was last reopened.
- A reclassification moves the clocks to the new class from that moment: a milestone of the
  new class is due at the reclassification plus its duration, but never later than the
  same milestone was already due under the old class.
- A milestone is met by the first `met_by` event since the clock started.
- Pauses (waiting for the customer or parts) extend only clocks marked `pausable`.
- With business hours, clocks count only working time in the contract's time zone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from monitord.config.calendar import BusinessHours
from monitord.config.contracts import Clock, Contract, TicketClass, ZoneDurations
from monitord.ticketing.lifecycle import EventKind, TicketEvent


@dataclass(frozen=True, slots=True)
class Deadline:
    milestone: str
    started: dt.datetime
    duration: dt.timedelta
    due: dt.datetime | None  # None while a pausable clock is paused
    met_at: dt.datetime | None
    paused: bool

    def breached(self, now: dt.datetime) -> bool:
        if self.due is None:
            return False
        return (self.met_at or now) > self.due

    def remaining(self, now: dt.datetime) -> dt.timedelta | None:
        """Time left (negative once breached); None when met or paused."""
        if self.met_at is not None or self.due is None:
            return None
        return self.due - now

    def elapsed_fraction(self, now: dt.datetime) -> float:
        if self.due is None or self.duration <= dt.timedelta(0):
            return 0.0
        return max(0.0, 1 - (self.due - now) / self.duration)


def duration_of(clock: Clock, zone: str) -> dt.timedelta:
    within = clock.within
    if isinstance(within, ZoneDurations):
        return within.county if zone == "county" else within.city
    return within


def clocks_for(contract: Contract, ticket_class: TicketClass | None) -> tuple[Clock, ...]:
    """A hotline ticket (no class given at opening) runs the contract's hotline clocks."""
    return contract.clocks.get(ticket_class if ticket_class else "hotline", ())


def deadlines(
    events: Sequence[TicketEvent], contract: Contract, zone: str, now: dt.datetime
) -> list[Deadline]:
    start = events[0].at
    hotline = events[0].data.get("hotline", False)
    current = _class_of(events[0])
    entered = start
    previous_due: dict[str, dt.datetime] = {}
    pauses: list[tuple[dt.datetime, dt.datetime | None]] = []
    met: dict[str, dt.datetime] = {}
    for event in events[1:]:
        if event.kind == EventKind.REOPENED:
            start = entered = event.at
            previous_due, met, pauses = {}, {}, []
        elif event.kind == EventKind.RECLASSIFIED:
            for d in _compute(
                current, hotline, contract, zone, entered, pauses, met, previous_due, now
            ):
                if d.due is not None:
                    previous_due[d.milestone] = d.due
            current, entered = _class_of(event), event.at
        elif event.kind == EventKind.PAUSED:
            pauses.append((event.at, None))
        elif event.kind == EventKind.RESUMED and pauses and pauses[-1][1] is None:
            pauses[-1] = (pauses[-1][0], event.at)
        met.setdefault(event.kind.value, event.at)
    return _compute(current, hotline, contract, zone, entered, pauses, met, previous_due, now)


def _class_of(event: TicketEvent) -> TicketClass | None:
    value = event.data.get("to") or event.data.get("class")
    return TicketClass(value) if value else None


def _compute(
    ticket_class: TicketClass | None,
    hotline: bool,
    contract: Contract,
    zone: str,
    entered: dt.datetime,
    pauses: list[tuple[dt.datetime, dt.datetime | None]],
    met: dict[str, dt.datetime],
    previous_due: dict[str, dt.datetime],
    now: dt.datetime,
) -> list[Deadline]:
    out = []
    for clock in clocks_for(contract, None if hotline else ticket_class):
        duration = duration_of(clock, zone)
        due, paused = _due(
            entered, duration, pauses if clock.pausable else [], contract.business_hours
        )
        if due is not None and clock.milestone in previous_due:
            due = min(due, previous_due[clock.milestone])
        out.append(Deadline(clock.milestone, entered, duration, due, met.get(clock.met_by), paused))
    return out


def _due(
    start: dt.datetime,
    duration: dt.timedelta,
    pauses: Sequence[tuple[dt.datetime, dt.datetime | None]],
    hours: BusinessHours | None = None,
) -> tuple[dt.datetime | None, bool]:
    """When `duration` of running time has passed since `start`; (None, True) while paused.

    The clock runs inside business hours (always, without a calendar) and outside pauses.
    """
    left = duration
    windows = (
        hours.windows(start) if hours else iter([(start, dt.datetime.max.replace(tzinfo=dt.UTC))])
    )
    for begin, end in windows:
        cursor = begin
        for paused_at, resumed_at in pauses:
            if resumed_at is not None and resumed_at <= cursor:
                continue
            if paused_at >= end:
                break
            if paused_at > cursor:
                if paused_at - cursor >= left:
                    return cursor + left, False
                left -= paused_at - cursor
            if resumed_at is None:
                return None, True
            cursor = max(cursor, resumed_at)
        if cursor < end:
            if end - cursor >= left:
                return cursor + left, False
            left -= end - cursor
    raise ValueError("the business-hours calendar has no working time left to count")
