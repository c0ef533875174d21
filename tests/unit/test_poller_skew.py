"""The centre's view of a poller's clock (sites/skew.py): what counts as a measurement."""

from __future__ import annotations

import datetime as dt

from monitord.health.states import State
from monitord.sites.skew import corrected, offset
from monitord.sites.wire import Clock, PushIn, StateEntry

T = dt.datetime(2026, 12, 3, 8, 0, tzinfo=dt.UTC)


def s(seconds: float) -> dt.timedelta:
    return dt.timedelta(seconds=seconds)


def down(at: dt.datetime) -> StateEntry:
    return StateEntry(seq=1, device="cam", at=at, from_state=State.UP, to_state=State.DOWN,
                      reason="t")  # fmt: skip


def test_four_times_cancel_a_symmetric_delay() -> None:
    # Poller 600 s slow; 0.2 s each way; the centre took 0.1 s to answer.
    t0 = T - s(600)
    clock = Clock(t0=t0, t1=T + s(0.2), t2=T + s(0.3), t3=t0 + s(0.5))
    value, noise = offset(PushIn(sent_at=t0 + s(5), version="t", clock=clock), T + s(5.2))
    assert abs(value - 600) < 1e-6 and noise == 1.0


def test_a_delayed_push_without_a_sample_is_not_mistaken_for_skew() -> None:
    # Sent as the line was cut, it arrives 8 s later: 8 s is the delay, not the clock.
    value, noise = offset(PushIn(sent_at=T, version="t"), T + s(8))
    fixed, future = corrected(down(T - s(1)), value, T + s(8), noise)
    assert value == 8 and fixed.at == T - s(1) and not future
    # Ten minutes, though, no delay explains: corrected from the first push.
    value, noise = offset(PushIn(sent_at=T - s(600), version="t"), T)
    fixed, _ = corrected(down(T - s(630)), value, T, noise)
    assert fixed.at == T - s(30) and fixed.observation["poller_at"] == (T - s(630)).isoformat()


def test_a_slow_exchange_is_no_measurement() -> None:
    clock = Clock(t0=T, t1=T + s(9), t2=T + s(9), t3=T + s(9.1))  # 9 s up: a cut line
    value, noise = offset(PushIn(sent_at=T + s(20), version="t", clock=clock), T + s(20))
    assert value == 0 and noise == 30.0  # fell back to sent_at


def test_future_dated_is_re_dated_to_arrival() -> None:
    fixed, future = corrected(down(T + s(600)), 0.0, T)
    assert future and fixed.at == T
    fixed, future = corrected(down(T + s(4)), 0.0, T)  # within the bound: kept
    assert not future and fixed.at == T + s(4)
