"""Settings of the centre itself: high availability of its singleton work (off by default)."""

from __future__ import annotations

import datetime as dt
import socket
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from monitord.config.durations import Duration


def _hostname() -> str:
    return socket.gethostname() or "monitord"


class HaSettings(BaseModel):
    """Two or more centres on one PostgreSQL: one leads the singleton work, by a lease."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = False
    # The lease's length: a leader that stops renewing is replaced within about this long.
    lease: Duration = dt.timedelta(seconds=15)
    node: Annotated[str, Field(min_length=1, max_length=100)] = Field(default_factory=_hostname)

    @field_validator("lease")
    @classmethod
    def _sane(cls, value: dt.timedelta) -> dt.timedelta:
        # Renewed every third of it: shorter spins on the database, longer leaves the
        # singleton work undone for long after a leader dies.
        if not 3 <= value.total_seconds() <= 600:
            raise ValueError("lease must be between 3s and 10m")
        return value


class CentreSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    ha: HaSettings = HaSettings()
