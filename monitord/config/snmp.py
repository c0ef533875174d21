"""SNMP settings of a device, and of the trap receiver; credentials are secret references."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, model_validator

from monitord.config.frozen import FrozenModel
from monitord.config.secrets import SecretRef

Port = Annotated[int, Field(ge=1, le=65535)]
AuthProtocol = Literal["SHA", "SHA256", "SHA512"]
PrivProtocol = Literal["AES", "AES192", "AES256"]
Pct = Annotated[float, Field(gt=0, le=100)]
Celsius = Annotated[float, Field(gt=-50, le=200)]


class _Frozen(FrozenModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class V3User(_Frozen):
    """An SNMPv3 USM user: authNoPriv (auth_key only) or authPriv (both keys)."""

    user: Annotated[str, Field(min_length=1, max_length=32)]
    auth_protocol: AuthProtocol = "SHA"
    auth_key: SecretRef
    priv_protocol: PrivProtocol = "AES"
    priv_key: SecretRef | None = None


class SnmpSettings(_Frozen):
    """How to poll one device over SNMP. v2c needs `community`; v3 needs `user`, `auth_key`.

    Defaults: a poll every 60 s (ports, PoE, storage change slowly; traps cover link cuts),
    and a finding is confirmed after 3 polls 15 s apart, like ICMP's SOFT/HARD.
    """

    version: Literal["2c", "3"] = "2c"
    port: Port = 161
    community: SecretRef | None = None
    user: Annotated[str, Field(min_length=1, max_length=32)] | None = None
    auth_protocol: AuthProtocol = "SHA"
    auth_key: SecretRef | None = None
    priv_protocol: PrivProtocol = "AES"
    priv_key: SecretRef | None = None
    timeout: Annotated[float, Field(gt=0, le=30)] = 2.0
    retries: Annotated[int, Field(ge=0, le=5)] = 1
    interval: Annotated[float, Field(ge=5, le=86_400)] = 60.0
    retry_interval: Annotated[float, Field(gt=0, le=3600)] = 15.0
    max_attempts: Annotated[int, Field(ge=1, le=20)] = 3
    # Tables (PoE, sensors, disks) cost most of a poll's CPU and change slowly: walk them
    # every Nth poll, and at once after a trap or while a finding awaits confirmation.
    tables_every: Annotated[int, Field(ge=1, le=60)] = 5
    # ifIndex values of the ports worth watching (uplinks, camera ports); bounded so that
    # /metrics keeps a bounded number of series per device.
    ports: Annotated[tuple[Annotated[int, Field(ge=1)], ...], Field(max_length=64)] = ()
    disk_warning_pct: Pct = 85.0
    disk_critical_pct: Pct = 95.0
    temperature_warning_c: Celsius = 60.0
    temperature_critical_c: Celsius = 75.0

    @model_validator(mode="after")
    def _consistent(self) -> SnmpSettings:
        if self.version == "2c" and self.community is None:
            raise ValueError("SNMP v2c needs 'community' (a secret: {env: NAME} or {file: PATH})")
        if self.version == "3" and (self.user is None or self.auth_key is None):
            raise ValueError("SNMPv3 needs 'user' and 'auth_key' (noAuthNoPriv is not offered)")
        if self.version == "3" and self.community is not None:
            raise ValueError("'community' is for v2c; SNMPv3 uses user, auth_key, priv_key")
        if self.disk_warning_pct >= self.disk_critical_pct:
            raise ValueError("disk_warning_pct must be below disk_critical_pct")
        if self.temperature_warning_c >= self.temperature_critical_c:
            raise ValueError("temperature_warning_c must be below temperature_critical_c")
        busy = self.timeout * (self.retries + 1) * 2
        if busy >= self.interval:
            raise ValueError(
                f"a poll may last {busy:g} s (timeout x tries, twice) but interval is "
                f"{self.interval:g} s"
            )
        return self


class TrapUser(V3User):
    """A v3 user allowed to send traps/informs. Traps (not informs) are authenticated with
    the sender's engine ID, so `engine_id` (hex) is needed to accept v3 traps."""

    engine_id: Annotated[str, Field(pattern=r"^(0x)?[0-9A-Fa-f]{10,64}$")] | None = None


class TrapSettings(_Frozen):
    """The trap receiver. Devices send to UDP 162 by default; binding it needs root or
    CAP_NET_BIND_SERVICE."""

    listen: str = "0.0.0.0"
    port: Port = 162
    communities: tuple[SecretRef, ...] = ()
    users: tuple[TrapUser, ...] = ()
