"""Ticket figures of a period (pure): tickets by class, SLA compliance, MTTA and MTTR.

Counted over the tickets opened in the period, as their logs stood at the period's end:
- a milestone is met when its event came by the deadline, breached when it came late or had
  not come when the deadline passed, and pending when neither is known yet (still running,
  or paused); compliance is met / (met + breached);
- time to acknowledge runs from opening to the first acknowledgement or arrival on site
  (arriving acknowledges); time to repair from opening to the first `resolved`.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from monitord.config.contracts import Contract
from monitord.store.records import TicketRecord
from monitord.ticketing.lifecycle import EventKind, TicketEvent
from monitord.ticketing.sla import deadlines

CLASSES = ("A", "B", "C", "D")
UNCLASSIFIED = "-"  # a hotline call nobody has classified
_ACKNOWLEDGING = frozenset({EventKind.ACKNOWLEDGED, EventKind.ON_SITE})


@dataclass(frozen=True, slots=True)
class LoggedTicket:
    ticket: TicketRecord
    events: tuple[TicketEvent, ...]  # up to the period's end
    zone: str  # "city" or "county": the on-site clocks differ


@dataclass(frozen=True, slots=True)
class Compliance:
    milestone: str
    met: int
    breached: int
    pending: int

    @property
    def share_met(self) -> float | None:
        decided = self.met + self.breached
        return self.met / decided if decided else None


@dataclass(frozen=True, slots=True)
class Durations:
    count: int
    mean: dt.timedelta | None
    median: dt.timedelta | None


@dataclass(frozen=True, slots=True)
class TicketFigures:
    total: int
    by_class: dict[str, int]  # A, B, C, D and "-" (unclassified), every key present
    compliance: tuple[Compliance, ...]  # in the order the contract lists its milestones
    to_acknowledge: Durations
    to_repair: Durations
    open_at_end: int  # not yet resolved at the period's end


def ticket_figures(
    logged: Sequence[LoggedTicket], contract: Contract, as_of: dt.datetime
) -> TicketFigures:
    by_class = Counter(t.ticket.ticket_class or UNCLASSIFIED for t in logged)
    tally: dict[str, list[int]] = {m: [0, 0, 0] for m in milestones(contract)}
    acknowledged: list[dt.timedelta] = []
    repaired: list[dt.timedelta] = []
    for item in logged:
        events = [e for e in item.events if e.at <= as_of]
        for d in deadlines(events, contract, item.zone, as_of):
            counts = tally.setdefault(d.milestone, [0, 0, 0])
            if d.breached(as_of):
                counts[1] += 1
            elif d.met_at is not None:
                counts[0] += 1
            else:
                counts[2] += 1
        opened = events[0].at
        ack = _first(events, _ACKNOWLEDGING)
        if ack is not None:
            acknowledged.append(ack - opened)
        fixed = _first(events, frozenset({EventKind.RESOLVED}))
        if fixed is not None:
            repaired.append(fixed - opened)
    return TicketFigures(
        total=len(logged),
        by_class={c: by_class.get(c, 0) for c in (*CLASSES, UNCLASSIFIED)},
        compliance=tuple(Compliance(m, *counts) for m, counts in tally.items()),
        to_acknowledge=_durations(acknowledged),
        to_repair=_durations(repaired),
        open_at_end=len(logged) - len(repaired),
    )


def milestones(contract: Contract) -> list[str]:
    """The contract's milestones, each once, in the order its clocks list them."""
    seen: dict[str, None] = {}
    for clocks in contract.clocks.values():
        for clock in clocks:
            seen.setdefault(clock.milestone, None)
    return list(seen)


def _first(events: Sequence[TicketEvent], kinds: frozenset[EventKind]) -> dt.datetime | None:
    return next((e.at for e in events if e.kind in kinds), None)


def _durations(values: list[dt.timedelta]) -> Durations:
    if not values:
        return Durations(0, None, None)
    seconds = [v.total_seconds() for v in values]
    return Durations(
        len(values),
        dt.timedelta(seconds=statistics.fmean(seconds)),
        dt.timedelta(seconds=statistics.median(seconds)),
    )
