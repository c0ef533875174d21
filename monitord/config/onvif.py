"""ONVIF settings of a device; the password is a secret reference."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field, model_validator

from monitord.config import addresses
from monitord.config.frozen import FrozenModel
from monitord.config.secrets import SecretRef

Seconds = Annotated[float, Field(gt=0, le=86_400)]


class OnvifSettings(FrozenModel):
    """How to check one camera or NVR over ONVIF (and its RTSP stream).

    Defaults: a check every 5 min (clock, stream; identity every 12th check), a problem
    confirmed after 2 checks 60 s apart. Events (PullPoint) make it look at once.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    port: Annotated[int, Field(ge=1, le=65535)] = 80
    path: Annotated[str, Field(pattern=r"^/[\w./\-]*$", max_length=200)] = "/onvif/device_service"
    username: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    password: SecretRef | None = None
    timeout: Annotated[float, Field(gt=0, le=30)] = 5.0
    interval: Annotated[float, Field(ge=10, le=86_400)] = 300.0
    retry_interval: Seconds = 60.0
    max_attempts: Annotated[int, Field(ge=1, le=20)] = 2
    # Footage is evidence only if its time stamp is right: a few seconds is noise.
    drift_warning_s: Annotated[float, Field(gt=0, le=86_400)] = 10.0
    drift_critical_s: Annotated[float, Field(gt=0, le=86_400 * 366)] = 300.0
    check_stream: bool = True  # RTSP OPTIONS + DESCRIBE of the first profile's stream
    recording: bool | None = None  # Profile G recording state; None: for NVRs only
    events: bool = True  # PullPoint subscription where the device offers events
    identity_every: Annotated[int, Field(ge=1, le=1000)] = 12
    # After rejected credentials, wait this long (doubling up to auth_backoff_max) before
    # trying again: many cameras lock an account after a few failures.
    auth_backoff: Annotated[float, Field(ge=60, le=86_400)] = 900.0
    auth_backoff_max: Annotated[float, Field(ge=60, le=7 * 86_400)] = 6 * 3600.0
    # Addresses (or networks) besides its own that the device may send us to: service
    # addresses, subscriptions and stream URIs of an NVR that fronts other hosts. A
    # network's members also pass config/addresses.py; a single address is trusted as is.
    follow_addresses: Annotated[tuple[str, ...], Field(max_length=64)] = ()
    # RTSP Basic sends the password in clear on every request: only if the camera can do
    # nothing better and the operator accepts that.
    allow_basic: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> OnvifSettings:
        if (self.username is None) != (self.password is None):
            raise ValueError("ONVIF needs both 'username' and 'password' (or neither)")
        if self.drift_warning_s >= self.drift_critical_s:
            raise ValueError("drift_warning_s must be below drift_critical_s")
        addresses.networks(self.follow_addresses)  # a bad entry is named
        if self.auth_backoff > self.auth_backoff_max:
            raise ValueError("auth_backoff must not exceed auth_backoff_max")
        busy = self.timeout * 8
        if busy >= self.interval:
            raise ValueError(
                f"a check may last {busy:g} s (timeout x 8 calls) but interval is "
                f"{self.interval:g} s"
            )
        return self
