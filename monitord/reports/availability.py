"""Availability from recorded state transitions (pure).

A device is unavailable while DOWN or UNREACHABLE (cut off behind a dead switch: the
customer sees no picture either way); DEGRADED and FLAPPING still deliver service. Time in an
unknown state (before the first recorded state, or PENDING) is not observed and counts
neither way. Agreed maintenance windows are taken out of both the observed and the down time,
and a failure that starts inside one is not counted (P5: planned work is not an outage).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from monitord.reports.sources import Interval

UNAVAILABLE = frozenset({"down", "unreachable"})
UNKNOWN = frozenset({"pending"})
_ZERO = dt.timedelta(0)


@dataclass(frozen=True, slots=True)
class Uptime:
    observed: dt.timedelta = _ZERO
    down: dt.timedelta = _ZERO
    failures: int = 0  # times it became unavailable, outside maintenance windows

    @property
    def availability(self) -> float | None:
        """Share of the observed time it was available; None if never observed."""
        if self.observed <= _ZERO:
            return None
        return 1 - self.down / self.observed

    def __add__(self, other: Uptime) -> Uptime:
        return Uptime(
            self.observed + other.observed, self.down + other.down, self.failures + other.failures
        )


def uptime(
    initial: str | None,
    transitions: Sequence[tuple[dt.datetime, str]],
    start: dt.datetime,
    end: dt.datetime,
    excluded: Sequence[Interval] = (),
) -> Uptime:
    """`initial`: the state before `start` (None: unknown); `transitions`: (at, new state)
    with start <= at < end, in order."""
    windows = _merge(excluded, start, end)
    observed = down = _ZERO
    failures = 0
    state = initial
    cursor = start
    for at, to_state in [*transitions, (end, "")]:
        at = min(max(at, start), end)
        if state is not None and state not in UNKNOWN and at > cursor:
            counted = (at - cursor) - _overlap(windows, cursor, at)
            observed += counted
            if state in UNAVAILABLE:
                down += counted
        if (
            to_state in UNAVAILABLE
            and (state is None or state not in UNAVAILABLE)
            and at < end
            and not _inside(windows, at)
        ):
            failures += 1
        cursor = max(cursor, at)
        if to_state:
            state = to_state
    return Uptime(observed, down, failures)


def total(parts: Iterable[Uptime]) -> Uptime:
    """Device time added up: a site's availability weights each device by its observed time."""
    out = Uptime()
    for part in parts:
        out = out + part
    return out


def _merge(intervals: Sequence[Interval], start: dt.datetime, end: dt.datetime) -> list[Interval]:
    clipped = sorted((max(s, start), min(e, end)) for s, e in intervals if e > start and s < end)
    merged: list[Interval] = []
    for s, e in clipped:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        elif e > s:
            merged.append((s, e))
    return merged


def _overlap(windows: Sequence[Interval], since: dt.datetime, until: dt.datetime) -> dt.timedelta:
    return sum(
        (min(e, until) - max(s, since) for s, e in windows if e > since and s < until), _ZERO
    )


def _inside(windows: Sequence[Interval], at: dt.datetime) -> bool:
    return any(s <= at < e for s, e in windows)
