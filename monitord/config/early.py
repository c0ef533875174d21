"""Early-warning thresholds (P2), per contract: which trends open a class C ticket.

Each forecast rule fits a straight line to the hourly averages of one metric over `window`
and warns when the line reaches `limit` within `within` (Zabbix's `timeleft`). A rise must
also be clear of the noise: its slope at least `min_t` standard errors above zero, over at
least `min_span` of history. A warning clears once the forecast is beyond 1.25 x `within`
or the rise is gone.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from monitord.config.durations import Duration

_DAY = dt.timedelta(days=1)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ForecastRule(_Frozen):
    enabled: bool = True
    limit: float | None = None  # None for temperature: the device's temperature_critical_c
    within: Duration = 7 * _DAY
    window: Duration = 7 * _DAY
    min_span: Duration = _DAY
    min_t: Annotated[float, Field(gt=0)] = 4.0


class RebootRule(_Frozen):
    enabled: bool = True
    count: Annotated[int, Field(ge=1)] = 3
    within: Duration = _DAY


class EarlyWarnings(_Frozen):
    enabled: bool = True
    ticket_class: Literal["A", "B", "C", "D"] = "C"
    disk_full: ForecastRule = ForecastRule(limit=1.0, within=14 * _DAY)
    loss: ForecastRule = ForecastRule(limit=10.0, within=3 * _DAY)  # percent
    rtt: ForecastRule = ForecastRule(limit=150.0, within=3 * _DAY)  # milliseconds
    interface_errors: ForecastRule = ForecastRule(
        limit=1.0, within=3 * _DAY, window=3 * _DAY
    )  # errors per second, in + out
    temperature: ForecastRule = ForecastRule(within=3 * _DAY, window=3 * _DAY)
    clock_drift: ForecastRule = ForecastRule(limit=10.0)  # seconds, absolute
    reboots: RebootRule = RebootRule()
