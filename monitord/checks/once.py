"""`monitord probe DEVICE`: every probe of one device once, as an engineer on site wants it.

Runs ICMP, TCP port checks (`tcp:` settings) and, with `snmp:` settings, one SNMP fetch,
and evaluates them like the daemon does (without confirmation: this is one look, not a state).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field, replace
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
    report = await _probe(config, device)
    if device.onvif is None:
        return report
    # zeep and the WSDLs cost ~1 s to import: only for a device that has ONVIF settings.
    from monitord.checks.onvif.once import look

    return replace(report, onvif=await look(device))


async def _probe(config: Config, device: Device) -> ProbeReport:
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
    tcp = await _tcp(device)
    if device.snmp is None:
        return ProbeReport(device, outcome, icmp_error, tcp=tcp)
    client = SnmpClient()
    try:
        try:
            t = target(device)
        except SecretUnavailable as exc:
            failed = Finding(device.id, "snmp", Status.UNKNOWN, f"SNMP: {exc}")
            return ProbeReport(device, outcome, icmp_error, [failed], tcp=tcp)
        reading = await client.fetch(t, O.plan_for(device.kind.value, device.snmp.ports))
    finally:
        client.close()
    found = evaluate_snmp(
        device.id, device.kind.value, device.snmp, reading, None, time.monotonic()
    )
    system = {o: v for o in O.SYSTEM if (v := reading.get(o)) is not None}
    return ProbeReport(device, outcome, icmp_error, found.findings, system, tcp)


async def _tcp(device: Device) -> list[Finding]:
    if device.tcp is None:
        return []
    within = device.tcp.timeout
    checks = await asyncio.gather(
        *(check_port(device.address, p, within) for p in device.tcp.ports)
    )
    return [port_finding(device.id, c) for c in checks]
