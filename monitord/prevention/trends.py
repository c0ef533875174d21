"""Trend rules (P2): a least-squares line through hourly means, and when it predicts trouble.

Pure: sums in, verdicts out. A forecast rule fires when the line is rising clearly above the
noise (slope at least `min_t` standard errors above zero, over at least `min_span`) and
reaches the limit within `within` (Zabbix `timeleft`). It clears once the rise is no longer
clear or the limit is beyond 1.25 x `within`; in between it holds, so a forecast hovering
at the threshold does not open and resolve a ticket every hour.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from monitord.config.early import ForecastRule
from monitord.store.records import SeriesSums

CLEAR_MARGIN = 1.25
_STALE_HOURS = 3  # a series silent this long says nothing about now


class Verdict(StrEnum):
    FIRE = "fire"
    HOLD = "hold"
    CLEAR = "clear"


@dataclass(frozen=True, slots=True)
class Fit:
    slope: float  # per hour
    intercept: float  # the line at hour `base` (x = 0)
    t: float  # slope / its standard error; inf for a noiseless rise
    n: int


@dataclass(frozen=True, slots=True)
class Forecast:
    device_id: str
    subject: str
    value_now: float  # the line at `now`
    slope_per_day: float
    hours_left: float | None  # until the line reaches the limit; None if it does not rise
    t: float
    verdict: Verdict


def fit(s: SeriesSums) -> Fit | None:
    """The least-squares line through the points; None with fewer than 3 or one x."""
    if s.n < 3:
        return None
    sxx = s.sxx - s.sx * s.sx / s.n
    if sxx <= 0:
        return None
    sxy = s.sxy - s.sx * s.sy / s.n
    syy = s.syy - s.sy * s.sy / s.n
    slope = sxy / sxx
    intercept = (s.sy - slope * s.sx) / s.n
    residual = max(syy - slope * sxy, 0.0) / (s.n - 2)
    stderr = math.sqrt(residual / sxx)
    if stderr <= 1e-12 * max(1.0, abs(slope)):
        t = math.copysign(math.inf, slope) if slope else 0.0
    else:
        t = slope / stderr
    return Fit(slope, intercept, t, s.n)


def forecast(s: SeriesSums, now_hours: float, limit: float, rule: ForecastRule) -> Forecast | None:
    """The series' forecast against `limit` at `now_hours` (hours since the epoch, fractional).

    None when the series cannot say anything: too short, too few points or gone silent.
    """
    span_hours = s.last - s.first + 1
    if span_hours < rule.min_span.total_seconds() / 3600 or now_hours - (s.last + 1) > _STALE_HOURS:
        return None
    line = fit(s)
    if line is None:
        return None
    # An hour's mean stands for the middle of that hour.
    value_now = line.intercept + line.slope * (now_hours - s.base - 0.5)
    rising = line.slope > 0 and line.t >= rule.min_t
    hours_left = max((limit - value_now) / line.slope, 0.0) if line.slope > 0 else None
    within = rule.within.total_seconds() / 3600
    if rising and hours_left is not None and hours_left <= within:
        verdict = Verdict.FIRE
    elif not rising or hours_left is None or hours_left > within * CLEAR_MARGIN:
        verdict = Verdict.CLEAR
    else:
        verdict = Verdict.HOLD
    return Forecast(s.device_id, s.subject, value_now, line.slope * 24, hours_left, line.t, verdict)


def combine(verdicts: list[Verdict]) -> Verdict | None:
    """One device's verdict from its subjects': any fires -> fire; all clear -> clear."""
    if not verdicts:
        return None
    if Verdict.FIRE in verdicts:
        return Verdict.FIRE
    return Verdict.CLEAR if all(v == Verdict.CLEAR for v in verdicts) else Verdict.HOLD
