"""From configured SNMP settings to a probe target: the only place secrets are resolved."""

from __future__ import annotations

from monitord.checks.snmp.client import Credentials, Target
from monitord.config.models import Device
from monitord.config.snmp import SnmpSettings


def credentials(s: SnmpSettings) -> Credentials:
    """Raises SecretUnavailable (naming the reference, never a value)."""

    return Credentials(
        version=s.version,
        community=s.community.resolve() if s.community else None,
        user=s.user,
        auth_protocol=s.auth_protocol,
        auth_key=s.auth_key.resolve() if s.auth_key else None,
        priv_protocol=s.priv_protocol,
        priv_key=s.priv_key.resolve() if s.priv_key else None,
    )


def target(device: Device) -> Target:
    s = device.snmp
    assert s is not None
    return Target(device.address, s.port, credentials(s), s.timeout, s.retries)
