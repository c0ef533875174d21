"""TCP port checks of a device: for access controllers (and others) that speak only their
own protocol, an accepted connection is the best sign of life the network can give."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Port = Annotated[int, Field(ge=1, le=65535)]


class TcpSettings(BaseModel):
    """Connect to each port; refused or unanswered is a finding, confirmed like ICMP's."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ports: Annotated[tuple[Port, ...], Field(min_length=1, max_length=16)]
    interval: Annotated[float, Field(ge=5, le=86_400)] = 60.0
    timeout: Annotated[float, Field(gt=0, le=30)] = 3.0
    retry_interval: Annotated[float, Field(gt=0, le=3600)] = 15.0
    max_attempts: Annotated[int, Field(ge=1, le=20)] = 3
