"""SLA clocks from the seed contracts, and a property test against an independent method."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from monitord.config.calendar import BusinessHours
from monitord.ticketing.lifecycle import EventKind, TicketEvent
from monitord.ticketing.sla import Deadline, _due, deadlines
from tests.support.contracts import SEED_000, SEED_004

T0 = dt.datetime(2026, 5, 4, 1, 0, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)


def ev(hours: float, kind: EventKind, **data: object) -> TicketEvent:
    return TicketEvent(T0 + hours * H, kind, "tester", data=data)


def by_name(found: list[Deadline]) -> dict[str, Deadline]:
    return {d.milestone: d for d in found}


class TestSeed000:
    def test_class_a_city_and_county(self) -> None:
        log = [ev(0, EventKind.OPENED, **{"class": "A"})]
        city = by_name(deadlines(log, SEED_000, "city", T0))
        county = by_name(deadlines(log, SEED_000, "county", T0))
        assert city["on_site"].due == T0 + 2 * H
        assert county["on_site"].due == T0 + 24 * H
        assert city["plan"].due == county["plan"].due == T0 + 48 * H

    def test_class_b_and_c(self) -> None:
        b = by_name(deadlines([ev(0, EventKind.OPENED, **{"class": "B"})], SEED_000, "city", T0))
        assert (b["on_site"].due, b["plan"].due) == (T0 + 48 * H, T0 + 72 * H)
        c = by_name(deadlines([ev(0, EventKind.OPENED, **{"class": "C"})], SEED_000, "city", T0))
        assert (c["respond"].due, c["plan"].due) == (T0 + 72 * H, T0 + 108 * H)
        assert deadlines([ev(0, EventKind.OPENED, **{"class": "D"})], SEED_000, "city", T0) == []

    def test_hotline_first_reply_in_30_minutes(self) -> None:
        log = [ev(0, EventKind.OPENED, hotline=True)]
        found = by_name(deadlines(log, SEED_000, "city", T0))
        assert found["first_reply"].due == T0 + dt.timedelta(minutes=30)
        assert found["closed"].due == T0 + 7 * 24 * H

    def test_met_late_is_breached_and_met_in_time_is_not(self) -> None:
        log = [
            ev(0, EventKind.OPENED, **{"class": "A"}),
            ev(3, EventKind.ON_SITE),
            ev(47, EventKind.PLAN),
        ]
        found = by_name(deadlines(log, SEED_000, "city", T0 + 50 * H))
        assert found["on_site"].met_at == T0 + 3 * H and found["on_site"].breached(T0 + 50 * H)
        assert not found["plan"].breached(T0 + 50 * H)

    def test_reclassified_upward_follows_the_new_class_from_that_moment(self) -> None:
        log = [
            ev(0, EventKind.OPENED, **{"class": "B"}),
            ev(5, EventKind.RECLASSIFIED, **{"from": "B", "to": "A"}),
        ]
        found = by_name(deadlines(log, SEED_000, "city", T0 + 5 * H))
        assert found["on_site"].due == T0 + 7 * H  # 5 h + A's 2 h, sooner than B's 48 h
        assert found["plan"].due == T0 + 53 * H
        late = [
            ev(0, EventKind.OPENED, **{"class": "B"}),
            ev(47, EventKind.RECLASSIFIED, **{"from": "B", "to": "A"}),
        ]
        assert by_name(deadlines(late, SEED_000, "city", T0))["on_site"].due == T0 + 48 * H

    def test_pause_stops_only_pausable_clocks(self) -> None:
        log = [
            ev(0, EventKind.OPENED, **{"class": "B"}),
            ev(10, EventKind.PAUSED),
            ev(30, EventKind.RESUMED),
        ]
        found = by_name(deadlines(log, SEED_000, "city", T0 + 40 * H))
        assert found["on_site"].due == T0 + 48 * H
        assert found["plan"].due == T0 + 92 * H

    def test_open_pause_freezes_the_clock(self) -> None:
        log = [ev(0, EventKind.OPENED, **{"class": "B"}), ev(10, EventKind.PAUSED)]
        plan = by_name(deadlines(log, SEED_000, "city", T0 + 100 * H))["plan"]
        assert plan.due is None and plan.paused and not plan.breached(T0 + 100 * H)

    def test_reopen_restarts_the_clocks(self) -> None:
        log = [
            ev(0, EventKind.OPENED, **{"class": "A"}),
            ev(1, EventKind.ON_SITE),
            ev(5, EventKind.RESOLVED),
            ev(8, EventKind.REOPENED),
        ]
        on_site = by_name(deadlines(log, SEED_000, "city", T0 + 9 * H))["on_site"]
        assert (on_site.due, on_site.met_at) == (T0 + 10 * H, None)


class TestSeed004:
    def test_twelve_hour_clocks(self) -> None:
        found = by_name(
            deadlines([ev(0, EventKind.OPENED, **{"class": "B"})], SEED_004, "county", T0)
        )
        assert {k: d.due for k, d in found.items()} == {
            "solution": T0 + 12 * H,
            "dispatch": T0 + 12 * H,
            "fixed": T0 + 12 * H,
        }


def test_deadlines_are_real_hours_across_daylight_saving_changes() -> None:
    new_york = ZoneInfo("America/New_York")
    opened = dt.datetime(2026, 3, 8, 1, 30, tzinfo=new_york)  # 30 min before spring-forward
    log = [TicketEvent(opened.astimezone(dt.UTC), EventKind.OPENED, "t", data={"class": "A"})]
    due = by_name(deadlines(log, SEED_000, "city", opened))["on_site"].due
    assert due is not None
    assert due - opened == 2 * H
    assert due.astimezone(new_york).strftime("%H:%M %Z") == "04:30 EDT"
    autumn = dt.datetime(2026, 11, 1, 0, 30, tzinfo=new_york)
    log = [TicketEvent(autumn.astimezone(dt.UTC), EventKind.OPENED, "t", data={"class": "A"})]
    due = by_name(deadlines(log, SEED_000, "city", autumn))["on_site"].due
    assert due is not None and due.astimezone(new_york).strftime("%H:%M %Z") == "01:30 EST"


def _due_by_walking(
    start: dt.datetime,
    duration: dt.timedelta,
    pauses: list[tuple[dt.datetime, dt.datetime | None]],
) -> dt.datetime | None:
    """Independent method: walk the timeline segment by segment, counting running time."""
    boundaries = sorted({start, *(p for p, _ in pauses), *(e for _, e in pauses if e)})
    left, t = duration, start

    def running(at: dt.datetime) -> bool:
        return not any(p <= at and (e is None or at < e) for p, e in pauses)

    for nxt in [*[b for b in boundaries if b > start], None]:
        if running(t):
            if nxt is None or nxt - t >= left:
                return t + left
            left -= nxt - t
        elif nxt is None:
            return None
        t = nxt
    return None


minutes = st.integers(min_value=0, max_value=10_000)


@settings(max_examples=400, deadline=None)
@given(
    start=minutes,
    duration=st.integers(min_value=1, max_value=5_000),
    gaps=st.lists(st.tuples(st.integers(0, 2_000), st.integers(1, 2_000)), max_size=6),
    still_paused=st.booleans(),
)
def test_pauses_agree_with_an_independent_walk(
    start: int, duration: int, gaps: list[tuple[int, int]], still_paused: bool
) -> None:
    m = dt.timedelta(minutes=1)
    t, pauses = T0, []
    for wait, length in gaps:
        begun = t + wait * m
        pauses.append((begun, begun + length * m))
        t = begun + length * m
    if still_paused and pauses:
        pauses[-1] = (pauses[-1][0], None)
    clock_start = T0 + start * m
    mine, paused = _due(clock_start, duration * m, pauses)
    theirs = _due_by_walking(clock_start, duration * m, pauses)
    assert mine == theirs
    assert paused == (mine is None)


def test_due_times_do_not_move_with_the_wall_clock() -> None:
    """A restart or an NTP step changes `now`, never a deadline: they come from the log."""
    log = [
        ev(0, EventKind.OPENED, **{"class": "B"}),
        ev(2, EventKind.PAUSED),
        ev(3, EventKind.RESUMED),
    ]
    seen = {
        tuple((d.milestone, d.due) for d in deadlines(log, SEED_000, "city", now))
        for now in (T0 - 5 * H, T0 + 4 * H, T0 + 400 * H)
    }
    assert seen == {(("on_site", T0 + 48 * H), ("plan", T0 + 73 * H))}


WORKWEEK = BusinessHours(
    timezone="Asia/Shanghai",
    holidays=(dt.date(2026, 5, 5),),  # a Tuesday off
    workdays=(dt.date(2026, 5, 9),),  # a Saturday worked instead (调休)
)


def test_business_hours_clock_skips_nights_weekends_and_holidays() -> None:
    shanghai = ZoneInfo("Asia/Shanghai")
    opened = dt.datetime(2026, 5, 4, 17, 0, tzinfo=shanghai)  # Monday 17:00
    # 2 h of working time: 1 h on Monday, Tuesday is a holiday, 1 h on Wednesday morning.
    due, paused = _due(opened.astimezone(dt.UTC), 2 * H, [], WORKWEEK)
    assert due is not None and not paused
    assert due.astimezone(shanghai) == dt.datetime(2026, 5, 6, 10, 0, tzinfo=shanghai)
    friday = dt.datetime(2026, 5, 8, 17, 30, tzinfo=shanghai)
    due, _ = _due(friday.astimezone(dt.UTC), H, [], WORKWEEK)
    assert due is not None
    assert due.astimezone(shanghai) == dt.datetime(2026, 5, 9, 9, 30, tzinfo=shanghai)  # Sat


def _due_minute_by_minute(
    start: dt.datetime,
    minutes_needed: int,
    pauses: list[tuple[dt.datetime, dt.datetime | None]],
    hours: BusinessHours,
) -> dt.datetime | None:
    """Independent method: count running minutes one by one."""
    zone = ZoneInfo(hours.timezone)
    t, counted = start, 0
    for _ in range(60 * 24 * 40):
        local = t.astimezone(zone)
        working = hours.is_workday(local.date()) and hours.start <= local.time() < hours.end
        paused = any(p <= t and (e is None or t < e) for p, e in pauses)
        if any(e is None and p <= t for p, e in pauses):
            return None
        if working and not paused:
            counted += 1
            if counted == minutes_needed:
                return t + dt.timedelta(minutes=1)
        t += dt.timedelta(minutes=1)
    raise AssertionError("no due time within 40 days")


@settings(max_examples=60, deadline=None)
@given(
    start=st.integers(min_value=0, max_value=14 * 24 * 60),
    duration=st.integers(min_value=1, max_value=1_200),
    gaps=st.lists(st.tuples(st.integers(0, 1_500), st.integers(1, 900)), max_size=4),
)
def test_business_hours_agree_with_counting_minutes(
    start: int, duration: int, gaps: list[tuple[int, int]]
) -> None:
    m = dt.timedelta(minutes=1)
    base = dt.datetime(2026, 5, 3, 16, 0, tzinfo=dt.UTC)  # Monday 00:00 in Shanghai
    t, pauses = base, []
    for wait, length in gaps:
        begun = t + wait * m
        pauses.append((begun, begun + length * m))
        t = begun + length * m
    clock_start = base + start * m
    mine, _ = _due(clock_start, duration * m, pauses, WORKWEEK)
    assert mine == _due_minute_by_minute(clock_start, duration, pauses, WORKWEEK)
