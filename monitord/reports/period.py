"""A report's period: a calendar month in the contract's time zone, as UTC instants."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo


class PeriodError(ValueError):
    """A month or date that cannot be read; the message names it and the expected form."""


@dataclass(frozen=True, slots=True)
class Period:
    label: str  # "2026-06"
    tz: str
    start: dt.datetime  # UTC, inclusive
    end: dt.datetime  # UTC, exclusive
    as_of: dt.datetime  # figures count what was recorded until here: min(end, now)

    @property
    def complete(self) -> bool:
        return self.as_of >= self.end

    @property
    def recorded_until(self) -> dt.datetime:
        """Exclusive bound of what counts: the end, or just past now (what happened now)."""
        return self.end if self.complete else self.as_of + dt.timedelta(microseconds=1)


_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
# Years a report can be about: beyond these, time-zone arithmetic leaves datetime's range
# (year 1 minus an offset, 9999 plus a day) and no monitord data can exist anyway.
YEARS = range(1970, 9000)


def _year(what: str, year: int) -> None:
    if year not in YEARS:
        raise PeriodError(f"{what}: the year must be {YEARS.start}..{YEARS.stop - 1}")


def month(text: str, tz: str, now: dt.datetime) -> Period:
    """The month 'YYYY-MM' from local midnight of its first day to that of the next."""
    found = _MONTH.match(text.strip())
    if not found or not 1 <= int(found.group(2)) <= 12:
        raise PeriodError(f"month {text!r}: expected YYYY-MM, e.g. 2026-06")
    year, number = int(found.group(1)), int(found.group(2))
    _year(f"month {text!r}", year)
    zone = ZoneInfo(tz)
    first = dt.datetime(year, number, 1, tzinfo=zone)
    following = dt.datetime(year + number // 12, number % 12 + 1, 1, tzinfo=zone)
    start, end = first.astimezone(dt.UTC), following.astimezone(dt.UTC)
    return Period(f"{year:04d}-{number:02d}", tz, start, end, max(start, min(end, now)))


def days(since: str, until: str, tz: str, now: dt.datetime) -> Period:
    """From local midnight of `since` to the end of `until` (both 'YYYY-MM-DD', inclusive)."""
    zone = ZoneInfo(tz)
    first, last = _date("--from", since), _date("--to", until)
    if last < first:
        raise PeriodError(f"--to {until} is before --from {since}")
    start = dt.datetime.combine(first, dt.time(), zone).astimezone(dt.UTC)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), zone).astimezone(dt.UTC)
    return Period(
        f"{first.isoformat()}..{last.isoformat()}", tz, start, end, max(start, min(end, now))
    )


def _date(option: str, text: str) -> dt.date:
    try:
        found = dt.date.fromisoformat(text.strip())
    except ValueError:
        raise PeriodError(f"{option} {text!r}: expected a date YYYY-MM-DD") from None
    _year(f"{option} {text!r}", found.year)
    return found
