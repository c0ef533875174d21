"""Maintenance windows (P5) as configuration: planned work that opens no tickets.

A window is one-off (`start` plus `end` or `duration`) or recurring (`cron` plus
`duration`, a five-field cron expression). Times without an offset, and every cron
expression, are read in the time zone of the site of each device the window covers, so one
window "every Sunday 02:00" means 02:00 local at every site.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from croniter import croniter
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from monitord.config.durations import Duration


def _cron(value: str) -> str:
    text = " ".join(value.split())
    if len(text.split()) != 5 or not croniter.is_valid(text):
        raise ValueError(f"{value!r} is not a five-field cron expression (e.g. '0 2 * * 0')")
    return text


CronExpression = Annotated[str, AfterValidator(_cron)]


class MaintenanceWindow(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][\w.\-]*$")]
    reason: str = ""
    # The scope: every given condition must hold (site + kind: that site's NVRs).
    site: str | None = None
    device: str | None = None
    kind: str | None = None
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    cron: CronExpression | None = None
    duration: Duration | None = None

    @model_validator(mode="after")
    def _shape(self) -> MaintenanceWindow:
        if self.site is None and self.device is None and self.kind is None:
            raise ValueError("a window needs a scope: site, device and/or kind")
        if (self.start is None) == (self.cron is None):
            raise ValueError("give either 'start' (one-off) or 'cron' (recurring)")
        if self.cron is not None and (self.duration is None or self.end is not None):
            raise ValueError("a recurring window needs 'duration' (and no 'end')")
        if self.start is not None and (self.end is None) == (self.duration is None):
            raise ValueError("a one-off window needs either 'end' or 'duration'")
        if self.duration is not None and self.duration <= dt.timedelta(0):
            raise ValueError("duration must be positive")
        if self.start is not None and self.end is not None:
            naive = self.start.tzinfo is None, self.end.tzinfo is None
            if naive[0] != naive[1]:
                raise ValueError("'start' and 'end' must both have an offset or both not")
            if self.end <= self.start:
                raise ValueError("'end' must be after 'start'")
        return self
