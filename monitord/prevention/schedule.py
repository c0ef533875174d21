"""Calendar arithmetic of the preventive schedules (pure): periods, months, local days.

Why our own periods and not APScheduler: an inspection is owed per calendar month or
quarter of the site, not per firing of a timer. Stored tasks carry their period, the
database refuses a second task for the same period, and each pass creates every period
from the last stored one up to today. A pass after downtime therefore creates each missed
period exactly once (APScheduler 3 would coalesce them into one run, or drop them past
`misfire_grace_time`), and a pass that runs twice, or two daemons at once, create nothing
twice. The daemon only has to wake up now and then; when it wakes does not matter.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from monitord.config.prevention import Every


@dataclass(frozen=True, slots=True, order=True)
class Period:
    """[start, end) in whole local days; `label` is "2026-03" or "2026-Q1"."""

    start: dt.date
    end: dt.date
    label: str


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later, clamped to the month's end (31 Jan + 1 = 28/29 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def period_of(day: dt.date, every: Every) -> Period:
    if every == "month":
        start = day.replace(day=1)
        return Period(start, add_months(start, 1), f"{day.year}-{day.month:02d}")
    quarter = (day.month - 1) // 3
    start = dt.date(day.year, quarter * 3 + 1, 1)
    return Period(start, add_months(start, 3), f"{day.year}-Q{quarter + 1}")


def periods_between(after: dt.date | None, today: dt.date, every: Every) -> list[Period]:
    """Periods still to create: from the one starting at `after` (the end of the last one
    created) through the one holding `today`; with nothing created yet, today's only."""
    current = period_of(today, every)
    if after is None:
        return [current]
    out: list[Period] = []
    period = period_of(after, every)
    while period.start <= current.start:
        out.append(period)
        period = period_of(period.end, every)
    return out


def local_day(instant: dt.datetime, timezone: str) -> dt.date:
    return instant.astimezone(ZoneInfo(timezone)).date()


def local_midnight(day: dt.date, timezone: str) -> dt.datetime:
    """00:00 of `day` on the site's clock, as a UTC instant."""
    return dt.datetime.combine(day, dt.time(), ZoneInfo(timezone)).astimezone(dt.UTC)
