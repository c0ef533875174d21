"""Discovery settings of a site (issue 17): the only ranges it may touch, how fast, and the
credential sets it may try there (secret references, like every credential)."""

from __future__ import annotations

import datetime as dt
import ipaddress
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from monitord.config.durations import Duration
from monitord.config.secrets import SecretRef
from monitord.config.snmp import SnmpSettings

Port = Annotated[int, Field(ge=1, le=65535)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class OnvifLogin(_Frozen):
    username: Annotated[str, Field(min_length=1, max_length=64)]
    password: SecretRef


class DiscoverySettings(_Frozen):
    # CIDRs; nothing outside them is ever sent a packet. At most a /16 in all (65,536).
    ranges: Annotated[tuple[str, ...], Field(min_length=1, max_length=64)]
    rate: Annotated[float, Field(gt=0, le=2000)] = 100.0  # probes per second, all kinds
    # SNMP requests per second to any one switch, on top of `rate` (discovery/pacing.py)
    switch_rate: Annotated[float, Field(gt=0, le=50)] = 50.0
    onvif: Annotated[tuple[OnvifLogin, ...], Field(max_length=8)] = ()
    snmp: Annotated[tuple[SnmpSettings, ...], Field(max_length=8)] = ()
    sweep_ports: Annotated[tuple[Port, ...], Field(max_length=8)] = (80, 8000, 8080)
    wsd_port: Port = 3702
    sadp_port: Port = 37020  # Hikvision SADP
    listen: Annotated[float, Field(gt=0, le=30)] = 3.0  # seconds to wait for ProbeMatches
    # How often the daemon reads the configured switches' forwarding tables (MAC -> port
    # history, drift findings); 0s turns the reading off.
    tables_every: Duration = dt.timedelta(minutes=15)

    @field_validator("ranges")
    @classmethod
    def _cidrs(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        total = 0
        for text in value:
            try:
                total += ipaddress.ip_network(text.strip(), strict=False).num_addresses
            except ValueError:
                raise ValueError(f"{text!r} is not a CIDR range") from None
        if total > 65_536:
            raise ValueError(f"the ranges hold {total} addresses; at most 65536 (a /16)")
        return value

    @field_validator("tables_every")
    @classmethod
    def _cycle(cls, value: dt.timedelta) -> dt.timedelta:
        # Tables of a 48-port switch take seconds to walk: a cycle under a minute would
        # keep the switches busy for nothing; 0s turns the cycle off.
        if value and value < dt.timedelta(minutes=1):
            raise ValueError("tables_every must be 0s (off) or at least 1m")
        return value
