"""One ONVIF look at one device for `monitord probe`: the full check (identity, clock,
stream, recordings) evaluated like the daemon does, without confirmation."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from monitord.checks.onvif import evaluate, fetch
from monitord.checks.onvif.client import OnvifClient
from monitord.checks.onvif.fetch import CheckResult, Plan
from monitord.checks.onvif.service import check_stream
from monitord.checks.onvif.targets import target, wants_recording
from monitord.config.models import Device
from monitord.config.secrets import SecretUnavailable
from monitord.health.findings import Finding, Status


@dataclass(frozen=True, slots=True)
class OnvifLook:
    result: CheckResult | None
    findings: list[Finding] = field(default_factory=list)

    @property
    def answered(self) -> bool:
        """The device's ONVIF service answered (rejecting our credentials counts)."""
        r = self.result
        return r is not None and (r.error is None or r.error.reason.value == "auth_rejected")

    @property
    def stream_uri(self) -> str | None:
        """The stream URI without any user:password a device may have put in it."""
        p = self.result.profile if self.result else None
        if p is None:
            return None
        parts = urlsplit(p.uri)
        host = parts.netloc.rpartition("@")[2]
        return urlunsplit(parts._replace(netloc=host))


async def look(device: Device) -> OnvifLook:
    assert device.onvif is not None
    try:
        t = target(device)
    except SecretUnavailable as exc:
        return OnvifLook(None, [Finding(device.id, "onvif", Status.UNKNOWN, f"ONVIF: {exc}")])
    client = OnvifClient()
    try:
        od = client.device(t, lambda: dt.datetime.now(dt.UTC))
        plan = Plan(
            identity=True, stream=device.onvif.check_stream, recording=wants_recording(device)
        )
        result = await fetch.run(od, plan, check_stream)
    finally:
        await client.close()
    return OnvifLook(result, evaluate.findings(device.id, device.onvif, result))
