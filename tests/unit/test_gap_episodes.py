"""How a device's replayed moves in a site's gap become faults (sites/gap.episodes)."""

from __future__ import annotations

import datetime as dt

from monitord.health.states import State
from monitord.sites.gap import episodes
from monitord.store.records import OperationEvent

T0 = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)


def moves(*changes: tuple[int, str, str]) -> list[OperationEvent]:
    return [
        OperationEvent("cam", T0 + dt.timedelta(minutes=m), "state", frm, to, "icmp")
        for m, frm, to in changes
    ]


def test_a_fault_over_inside_the_gap_then_one_still_active() -> None:
    found = episodes("cam", "up", moves((1, "up", "down"), (3, "down", "up"), (5, "up", "down")))
    assert [(e.state, e.start, e.end) for e in found] == [
        (State.DOWN, T0 + dt.timedelta(minutes=1), T0 + dt.timedelta(minutes=3)),
        (State.DOWN, T0 + dt.timedelta(minutes=5), None),
    ]
    assert found[1].began is not None and found[1].began.at == T0 + dt.timedelta(minutes=5)


def test_a_fault_from_before_the_gap_ends_or_changes_inside_it() -> None:
    (ended,) = episodes("cam", "down", moves((2, "down", "up")))
    assert ended.start is None and ended.ended is not None and ended.ended.to_state == State.UP
    (changed,) = episodes("cam", "down", moves((2, "down", "degraded")))
    assert (changed.start, changed.end, changed.state) == (None, None, State.DEGRADED)
    assert changed.changed is not None and changed.changed.to_state == State.DEGRADED


def test_unreachable_and_unknown_states_are_no_faults_of_their_own() -> None:
    assert episodes("cam", "up", moves((1, "up", "unreachable"), (2, "unreachable", "up"))) == []
    assert episodes("cam", None, moves((1, "pending", "up"))) == []
