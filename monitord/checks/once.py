"""`monitord probe DEVICE`: every probe of one device once, as an engineer on site wants it.

Runs ICMP, TCP port checks (`tcp:` settings) and, with `snmp:` settings, one SNMP fetch,
and evaluates them like the daemon does (without confirmation: this is one look, not a state).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from monitord.checks.icmp.client import IcmpMode, IcmpUnavailable, Pinger
from monitord.checks.icmp.evaluate import Outcome, evaluate
from monitord.checks.snmp import oids as O
from monitord.checks.snmp.client import SnmpClient, SnmpValue
from monitord.checks.snmp.evaluate import evaluate as evaluate_snmp
from monitord.checks.snmp.targets import target
from monitord.checks.tcp.client import check_port
from monitord.checks.tcp.evaluate import finding as port_finding
from monitord.config.models import Config, Device
from monitord.config.secrets import SecretUnavailable
from monitord.health.findings import Finding, Status

if TYPE_CHECKING:
    from monitord.checks.onvif.once import OnvifLook


@dataclass(frozen=True, slots=True)
class ProbeReport:
    device: Device
    icmp: Outcome | None
    icmp_error: str | None
    findings: list[Finding] = field(default_factory=list)
    system: dict[str, SnmpValue] = field(default_factory=dict)
    tcp: list[Finding] = field(default_factory=list)
    onvif: OnvifLook | None = None

    @property
    def snmp_answered(self) -> bool:
        return any(f.check == "snmp" and f.status != Status.UNKNOWN for f in self.findings)

    @property
    def reachable(self) -> bool:
        icmp_up = self.icmp is not None and self.icmp.state.value in ("up", "degraded")
        onvif_answered = self.onvif is not None and self.onvif.answered
        tcp_open = any(f.status == Status.OK for f in self.tcp)
        return icmp_up or self.snmp_answered or onvif_answered or tcp_open


async def probe(config: Config, device: Device) -> ProbeReport:
    from monitord.checks.base import WATCHES  # the table imports the looks below

    report = await _icmp(config, device)
    for kind in WATCHES:
        if kind.configured(device):
            report = await kind.look(config, device, report)
    return report


async def _icmp(config: Config, device: Device) -> ProbeReport:
    outcome, icmp_error = None, None
    settings = config.icmp_for(device)
    try:
        mode = None if config.icmp_mode == "auto" else IcmpMode(config.icmp_mode)
        pinger = await Pinger.open(mode)
    except IcmpUnavailable as exc:
        icmp_error = str(exc)
    else:
        try:
            result = await pinger.ping(
                device.address, settings.count, settings.echo_interval, settings.timeout
            )
            outcome = evaluate(result, settings)
        finally:
            pinger.close()
    return ProbeReport(device, outcome, icmp_error)


async def look_snmp(device: Device) -> tuple[list[Finding], dict[str, SnmpValue]]:
    """One SNMP fetch, evaluated: the findings and the system group."""
    assert device.snmp is not None
    try:
        t = target(device)
    except SecretUnavailable as exc:
        return [Finding(device.id, "snmp", Status.UNKNOWN, f"SNMP: {exc}")], {}
    client = SnmpClient()
    try:
        reading = await client.fetch(t, O.plan_for(device.kind.value, device.snmp.ports))
    finally:
        client.close()
    found = evaluate_snmp(
        device.id, device.kind.value, device.snmp, reading, None, time.monotonic()
    )
    system = {o: v for o in O.SYSTEM if (v := reading.get(o)) is not None}
    return found.findings, system


async def look_tcp(device: Device) -> list[Finding]:
    assert device.tcp is not None
    within = device.tcp.timeout
    checks = await asyncio.gather(
        *(check_port(device.address, p, within) for p in device.tcp.ports)
    )
    return [port_finding(device.id, c) for c in checks]
