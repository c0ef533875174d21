"""From configured ONVIF settings to a probe target: the only place the password is read."""

from __future__ import annotations

from monitord.checks.onvif.client import OnvifTarget
from monitord.config import addresses
from monitord.config.models import Device


def target(device: Device) -> OnvifTarget:
    """Raises SecretUnavailable (naming the reference, never a value)."""
    s = device.onvif
    assert s is not None
    password = s.password.resolve() if s.password else None
    follow = addresses.networks(s.follow_addresses)
    return OnvifTarget(
        device.address, s.port, s.path, s.username, password, s.timeout, follow, s.allow_basic
    )


def wants_recording(device: Device) -> bool:
    s = device.onvif
    assert s is not None
    return s.recording if s.recording is not None else device.kind.value == "nvr"
