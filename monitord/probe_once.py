"""`monitord probe DEVICE`: every probe of one device once, as an engineer on site wants it.

Runs ICMP and, when the device has `snmp:` settings, one SNMP fetch, and evaluates them
like the daemon does (without confirmation: this is one look, not a state).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from monitord.config.models import Config, Device
from monitord.config.secrets import SecretUnavailable
from monitord.health.check import Outcome, evaluate
from monitord.health.findings import Finding, Status
from monitord.health.snmp_eval import evaluate as evaluate_snmp
from monitord.probes import snmp_oids as O
from monitord.probes.icmp import IcmpMode, IcmpUnavailable, Pinger
from monitord.probes.snmp import SnmpClient, SnmpValue
from monitord.snmp.targets import target

if TYPE_CHECKING:
    from monitord.onvif.once import OnvifLook


@dataclass(frozen=True, slots=True)
class ProbeReport:
    device: Device
    icmp: Outcome | None
    icmp_error: str | None
    findings: list[Finding] = field(default_factory=list)
    system: dict[str, SnmpValue] = field(default_factory=dict)
    onvif: OnvifLook | None = None

    @property
    def snmp_answered(self) -> bool:
        return any(f.check == "snmp" and f.status != Status.UNKNOWN for f in self.findings)

    @property
    def reachable(self) -> bool:
        icmp_up = self.icmp is not None and self.icmp.state.value in ("up", "degraded")
        return icmp_up or self.snmp_answered or (self.onvif is not None and self.onvif.answered)


async def probe(config: Config, device: Device) -> ProbeReport:
    report = await _probe(config, device)
    if device.onvif is None:
        return report
    # zeep and the WSDLs cost ~1 s to import: only for a device that has ONVIF settings.
    from monitord.onvif.once import look

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
    if device.snmp is None:
        return ProbeReport(device, outcome, icmp_error)
    client = SnmpClient()
    try:
        try:
            t = target(device)
        except SecretUnavailable as exc:
            failed = Finding(device.id, "snmp", Status.UNKNOWN, f"SNMP: {exc}")
            return ProbeReport(device, outcome, icmp_error, [failed])
        reading = await client.fetch(t, O.plan_for(device.kind.value, device.snmp.ports))
    finally:
        client.close()
    found = evaluate_snmp(
        device.id, device.kind.value, device.snmp, reading, None, time.monotonic()
    )
    system = {o: v for o in O.SYSTEM if (v := reading.get(o)) is not None}
    return ProbeReport(device, outcome, icmp_error, found.findings, system)
