"""Preventive schedules (pure): periods, catch-up after downtime, follow-up windows, warranty."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitord.config.prevention import FollowUpCadence
from monitord.prevention import followups, inspections, warranty
from monitord.prevention.schedule import (
    add_months,
    local_midnight,
    period_of,
    periods_between,
)
from monitord.store.records import FollowUpVisit
from tests.support.prevention import ACCEPTED, make_config

D = dt.date
SEED_000 = FollowUpCadence(first_year=1, after=3)


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (D(2024, 1, 31), 1, D(2024, 2, 29)),  # leap year
        (D(2025, 1, 31), 1, D(2025, 2, 28)),
        (D(2024, 2, 29), 12, D(2025, 2, 28)),
        (D(2024, 2, 29), 48, D(2028, 2, 29)),
        (D(2026, 11, 30), 3, D(2027, 2, 28)),
        (D(2026, 12, 15), 1, D(2027, 1, 15)),
    ],
)
def test_add_months_clamps_to_the_months_end(day: dt.date, months: int, expected: dt.date) -> None:
    assert add_months(day, months) == expected


def test_periods_of_a_month_and_a_quarter() -> None:
    feb = period_of(D(2028, 2, 29), "month")
    assert (feb.start, feb.end, feb.label) == (D(2028, 2, 1), D(2028, 3, 1), "2028-02")
    q4 = period_of(D(2026, 12, 31), "quarter")
    assert (q4.start, q4.end, q4.label) == (D(2026, 10, 1), D(2027, 1, 1), "2026-Q4")
    q1 = period_of(D(2027, 1, 1), "quarter")
    assert (q1.start, q1.label) == (D(2027, 1, 1), "2027-Q1")


def test_first_run_creates_only_the_current_period() -> None:
    assert [p.label for p in periods_between(None, D(2026, 5, 17), "month")] == ["2026-05"]


def test_downtime_catches_up_each_missed_period_once() -> None:
    # The last task was January's; the daemon was down until 10 April.
    months = periods_between(D(2026, 2, 1), D(2026, 4, 10), "month")
    assert [p.label for p in months] == ["2026-02", "2026-03", "2026-04"]
    quarters = periods_between(D(2026, 4, 1), D(2027, 1, 2), "quarter")
    assert [p.label for p in quarters] == ["2026-Q2", "2026-Q3", "2026-Q4", "2027-Q1"]
    # Up to date: nothing to create until the next period starts.
    assert periods_between(D(2026, 5, 1), D(2026, 4, 30), "month") == []


@given(
    st.dates(D(2020, 1, 1), D(2030, 12, 31)),
    st.integers(0, 800),
    st.sampled_from(["month", "quarter"]),
)
def test_periods_are_contiguous_and_end_at_today(start: dt.date, days: int, every: str) -> None:
    today = start + dt.timedelta(days=days)
    first = period_of(start, every)  # type: ignore[arg-type]
    found = periods_between(first.start, today, every)  # type: ignore[arg-type]
    assert found[0] == first
    assert all(a.end == b.start for a, b in itertools.pairwise(found))
    assert found[-1].start <= today < found[-1].end
    assert len({p.label for p in found}) == len(found)


def test_tasks_follow_the_sites_clock_and_are_due_at_the_periods_end() -> None:
    config = make_config()
    # 16:30 UTC on 31 March is 00:30 on 1 April in Shanghai: April's task already.
    tasks = inspections.owed(config, {}, utc(2026, 3, 31, 16, 30))
    a = [t for t in tasks if t.site_id == "a"]
    assert {t.kind for t in a} == {"switch", "nvr", "access_controller", "camera"}
    assert {t.period for t in a} == {"2026-Q2"}
    assert a[0].due_at == local_midnight(D(2026, 7, 1), "Asia/Shanghai") == utc(2026, 6, 30, 16)
    b = {t.kind: t for t in tasks if t.site_id == "b"}  # seed 004: monthly, cameras quarterly
    assert (b["nvr"].period, b["camera"].period) == ("2026-03", "2026-Q1")  # Urumqi: 22:30
    camera_items = [i["id"] for i in a[0].items] if a[0].kind == "camera" else None
    lens = next(t for t in a if t.kind == "camera").items[0]
    assert lens == {"id": "lens", "en": "Clean the lens and housing", "zh": "清洁镜头和护罩"}
    assert camera_items is None or "lens" in camera_items


def test_a_leap_february_is_one_monthly_period() -> None:
    config = make_config()
    last = {("seed-004", "b", "nvr"): D(2028, 1, 1)}
    owed = inspections.owed(config, last, utc(2028, 3, 2))
    tasks = [t for t in owed if (t.site_id, t.kind) == ("b", "nvr")]
    assert [t.period for t in tasks] == ["2028-02", "2028-03"]
    assert tasks[0].due_at == local_midnight(D(2028, 3, 1), "Asia/Urumqi")


def test_followup_windows_monthly_in_the_first_year_then_every_three_months() -> None:
    found = followups.windows(ACCEPTED, SEED_000, D(2026, 1, 1))
    first_year, after = found[:12], found[12:]
    assert len(first_year) == 12 and after
    assert all(w.months == 1 for w in first_year)
    assert first_year[0].start == D(2024, 2, 29)
    assert first_year[0].end == D(2024, 3, 29)
    assert first_year[-1].end == D(2025, 2, 28)  # a year after a leap day
    assert [(w.start, w.end) for w in after[:3]] == [
        (D(2025, 2, 28), D(2025, 5, 29)),
        (D(2025, 5, 29), D(2025, 8, 29)),
        (D(2025, 8, 29), D(2025, 11, 29)),
    ]
    assert all(w.months == 3 for w in after)
    assert all(a.end == b.start for a, b in itertools.pairwise(found))
    assert found[-1].start <= D(2026, 1, 1) < found[-1].end


def _visit(at: dt.datetime) -> FollowUpVisit:
    return FollowUpVisit("seed-000", "a", at, "li")


def test_followup_states_done_due_overdue() -> None:
    site = make_config().sites[0]
    visits = [_visit(utc(2024, 3, 10, 2)), _visit(utc(2024, 5, 1, 2))]
    states = followups.site_states(site, SEED_000, visits, utc(2024, 5, 10))
    assert [s.state for s in states] == ["done", "overdue", "done"]
    assert states[1].window.start == D(2024, 3, 29)
    # The current window, unvisited, is due until it ends, then overdue.
    assert [s.state for s in followups.site_states(site, SEED_000, [], utc(2024, 3, 1))] == ["due"]
    # The window ends at midnight on the site's clock (16:00 UTC in Shanghai).
    before = followups.site_states(site, SEED_000, [], utc(2024, 3, 28, 15, 59))
    assert [s.state for s in before] == ["due"]
    after = followups.site_states(site, SEED_000, [], utc(2024, 3, 28, 16, 0))
    assert [s.state for s in after] == ["overdue", "due"]


def test_followups_before_followups_since_are_not_counted() -> None:
    site = make_config().sites[0].model_copy(update={"followups_since": D(2026, 1, 1)})
    states = followups.site_states(site, SEED_000, [], utc(2026, 3, 1))
    assert [s.window.start for s in states] == [D(2025, 11, 29), D(2026, 2, 28)]
    assert [s.state for s in states] == ["overdue", "due"]


def test_project_warranty_three_years_from_a_leap_day_acceptance() -> None:
    config = make_config()
    cam1 = next(d for d in config.devices if d.id == "a-cam1")
    c = warranty.coverage(config, cam1)
    assert c.project_end == D(2027, 2, 28)
    assert (c.end, c.source) == (D(2027, 2, 28), "project")
    nvr = warranty.coverage(config, next(d for d in config.devices if d.id == "a-nvr"))
    assert (nvr.end, nvr.source) == (D(2030, 1, 1), "manufacturer")


def test_expiring_within_the_horizon_by_site_days() -> None:
    config = make_config()
    soon = warranty.expiring(config, utc(2026, 12, 15), dt.timedelta(days=90))
    assert [c.device for c in soon] == ["a-cam1", "a-cam2", "a-cam4", "a-door", "a-sw"]
    june = warranty.expiring(config, utc(2026, 6, 10), dt.timedelta(days=90))
    assert [c.device for c in june] == ["b-nvr"]  # seed 004: manufacturer warranties only
    # Last covered day: 30 June in Urumqi; 1 July (local) it is no longer "ending".
    assert warranty.expiring(config, utc(2026, 6, 30, 18, 30), dt.timedelta(days=90)) == []


def test_repair_terms_free_under_warranty_at_cost_after() -> None:
    config = make_config()
    free = warranty.repair_terms(config, "b-nvr", utc(2026, 6, 30, 12))
    assert (free["terms"], free["under_warranty"], free["source"]) == ("free", True, "manufacturer")
    cost = warranty.repair_terms(config, "b-nvr", utc(2026, 6, 30, 18, 30))  # 1 July local
    assert (cost["terms"], cost["under_warranty"]) == ("at_cost", False)
    never = warranty.repair_terms(config, "b-cam2", utc(2026, 1, 1))
    assert (never["terms"], never["warranty_end"]) == ("at_cost", None)
    assert warranty.repair_terms(config, None, utc(2026, 1, 1))["terms"] == "unknown"
