"""A TCP connection result -> its finding (check "tcp:PORT"), pure."""

from __future__ import annotations

from monitord.checks.tcp.client import PortCheck
from monitord.health.findings import Finding, FindingValue, Status


def finding(device_id: str, c: PortCheck) -> Finding:
    check = f"tcp:{c.port}"
    values: dict[str, FindingValue] = {"connect_s": round(c.seconds, 4), "open": int(c.open)}
    if c.open:
        return Finding(device_id, check, Status.OK, f"TCP port {c.port} open", values)
    return Finding(device_id, check, Status.CRITICAL, f"TCP port {c.port}: {c.detail}", values)
