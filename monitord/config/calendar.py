"""Business hours for contracts whose clocks run only while the contractor works.

Most clocks run 24x7 (seed 004 promises 365x7x24). A contract may instead count only
working hours, in its own time zone, skipping public holidays and counting the weekend days
that China's holiday schedule turns into working days (调休).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, model_validator

from monitord.config.zones import TimeZone

_FAR = 3_660  # days a walk may look ahead: a decade of holidays cannot stall it forever


class BusinessHours(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    timezone: TimeZone = "Asia/Shanghai"
    weekdays: tuple[Annotated[int, Field(ge=0, le=6)], ...] = (0, 1, 2, 3, 4)  # Monday = 0
    start: dt.time = dt.time(9, 0)
    end: dt.time = dt.time(18, 0)
    holidays: tuple[dt.date, ...] = ()
    workdays: tuple[dt.date, ...] = ()  # weekend days worked instead of a holiday

    @model_validator(mode="after")
    def _sane(self) -> BusinessHours:
        if self.start >= self.end:
            raise ValueError("start must be before end (one shift a day)")
        if not self.weekdays and not self.workdays:
            raise ValueError("a calendar needs at least one working day")
        return self

    def is_workday(self, day: dt.date) -> bool:
        if day in self.workdays:
            return True
        return day.weekday() in self.weekdays and day not in self.holidays

    def windows(self, since: dt.datetime) -> Iterator[tuple[dt.datetime, dt.datetime]]:
        """Working periods in UTC, in order, the first clipped to start at `since`."""
        zone = ZoneInfo(self.timezone)
        day = since.astimezone(zone).date()
        for _ in range(_FAR):
            if self.is_workday(day):
                # fold=0 and local arithmetic: a DST gap or overlap inside the shift is real
                # time gained or lost, as the wall clock on site shows it.
                begin = dt.datetime.combine(day, self.start, zone).astimezone(dt.UTC)
                finish = dt.datetime.combine(day, self.end, zone).astimezone(dt.UTC)
                if finish > since:
                    yield max(begin, since), finish
            day += dt.timedelta(days=1)
