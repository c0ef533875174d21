"""Trend rules against synthetic histories with a known answer (P2)."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from monitord.config.early import ForecastRule
from monitord.prevention.trends import Verdict, fit, forecast
from monitord.store.records import SeriesSums

DISK = ForecastRule(limit=1.0, within=dt.timedelta(days=14))
START = 500_000  # an hour since the epoch


def sums(points: list[tuple[int, float]], base: int = START, device: str = "nvr") -> SeriesSums:
    """The sums the store computes, from (absolute hour, hourly mean) points."""
    xs = [h - base for h, _ in points]
    ys = [y for _, y in points]
    return SeriesSums(
        device, "31", base, len(points), float(sum(xs)), sum(ys),
        sum(x * y for x, y in zip(xs, ys, strict=True)), float(sum(x * x for x in xs)),
        sum(y * y for y in ys), min(h for h, _ in points), max(h for h, _ in points),
    )  # fmt: skip


def test_fit_recovers_a_known_line() -> None:
    line = fit(sums([(START + h, 2.0 + 0.5 * h) for h in range(10)]))
    assert line is not None
    assert line.slope == pytest.approx(0.5) and line.intercept == pytest.approx(2.0)
    assert line.t == float("inf")


@pytest.mark.parametrize("seed", range(20))
def test_a_disk_filling_linearly_is_predicted_full_on_the_right_day(seed: int) -> None:
    # 7 days of history: 60 % rising 4 points a day with sampling noise; it reaches 100 %
    # exactly 10 days after the first hour. Asked at the end of day 7: full in ~3 days.
    rng = random.Random(seed)
    per_hour = 0.04 / 24
    points = [(START + h, 0.60 + per_hour * (h + 0.5) + rng.gauss(0, 0.003)) for h in range(168)]
    now_hours = START + 168.0
    f = forecast(sums(points), now_hours, 1.0, DISK)
    assert f is not None and f.verdict == Verdict.FIRE
    assert f.hours_left is not None
    full_at = now_hours + f.hours_left
    assert abs(full_at - (START + 240)) <= 6  # within 6 hours of the true moment
    assert f.slope_per_day == pytest.approx(0.04, rel=0.05)


def test_a_slow_fill_far_from_full_does_not_fire_but_is_forecast() -> None:
    points = [(START + h, 0.30 + 0.001 / 24 * h) for h in range(168)]
    f = forecast(sums(points), START + 168.0, 1.0, DISK)
    assert f is not None and f.verdict == Verdict.CLEAR
    assert f.hours_left is not None and f.hours_left / 24 == pytest.approx(693, rel=0.01)


@pytest.mark.parametrize(("level", "noise"), [(0.5, 0.01), (0.97, 0.01), (0.995, 0.002)])
def test_noise_alone_never_fires(level: float, noise: float) -> None:
    # A flat disk with noise, even one nearly full: 300 independent histories, none fires.
    rng = random.Random(f"{level}/{noise}")
    fired = 0
    for _ in range(300):
        points = [(START + h, level + rng.gauss(0, noise)) for h in range(168)]
        f = forecast(sums(points), START + 168.0, 1.0, DISK)
        assert f is not None
        fired += f.verdict == Verdict.FIRE
    assert fired == 0


def test_the_warning_clears_when_the_fill_stops() -> None:
    # The first days rose quickly, then retention kicked in and the disk stays at 90 %:
    # once the window holds only the flat part, the rise is gone.
    rising = [(START + h, 0.70 + 0.002 * h) for h in range(100)]
    flat = [(START + h, 0.90) for h in range(100, 400)]
    early = forecast(sums(rising), START + 100.0, 1.0, DISK)
    assert early is not None and early.verdict == Verdict.FIRE
    later = [p for p in rising + flat if p[0] >= START + 400 - 168]
    f = forecast(sums(later, base=400 - 168 + START), START + 400.0, 1.0, DISK)
    assert f is not None and f.verdict == Verdict.CLEAR


def test_a_forecast_between_within_and_the_margin_holds() -> None:
    # Full in ~16 days: beyond 14 (no new warning), within 14 x 1.25 (an open one stays).
    per_hour = 0.30 / (16 * 24)
    points = [(START + h, 0.70 - per_hour * (168 - h)) for h in range(168)]
    f = forecast(sums(points), START + 168.0, 1.0, DISK)
    assert f is not None and f.verdict == Verdict.HOLD


def test_too_short_or_silent_series_say_nothing() -> None:
    short = [(START + h, 0.5 + 0.01 * h) for h in range(10)]
    assert forecast(sums(short), START + 10.0, 1.0, DISK) is None  # under min_span (1 day)
    long = [(START + h, 0.5 + 0.001 * h) for h in range(48)]
    assert forecast(sums(long), START + 48.0 + 24, 1.0, DISK) is None  # silent for a day
