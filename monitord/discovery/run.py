"""One discovery run of a site: WS-Discovery, the clock sweep, ONVIF identity, the SNMP
sweep, then topology - every packet inside the scope, every send paced."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from monitord.checks.onvif.client import OnvifClient
from monitord.checks.snmp.client import SnmpClient
from monitord.checks.snmp.targets import credentials
from monitord.config.discovery import DiscoverySettings
from monitord.discovery import onvif as donvif
from monitord.discovery import snmp as dsnmp
from monitord.discovery.scope import Pacer, Scope
from monitord.discovery.topology import Topology, infer
from monitord.discovery.wsd import WsdProber, WsdResult

Progress = Callable[[str], None]


@dataclass(slots=True)
class Found:
    wsd: WsdResult
    cameras: list[donvif.OnvifFacts] = field(default_factory=list)
    switches: list[dsnmp.SwitchTables] = field(default_factory=list)
    topology: Topology = field(default_factory=Topology)
    sent: int = 0


async def discover(
    settings: DiscoverySettings, scope: Scope, now: Callable[[], dt.datetime],
    progress: Progress = lambda _m: None,
) -> Found:  # fmt: skip
    pacer = Pacer(settings.rate)
    progress(f"ranges: {', '.join(str(n) for n in scope.ranges)}")
    wsd = await WsdProber(scope, pacer, port=settings.wsd_port, listen=settings.listen).run()
    progress(f"WS-Discovery: {wsd.sent} probes, {len(wsd.matches)} devices")
    found = Found(wsd)
    endpoints = {
        m.source: donvif.Endpoint(m.source, *m.device_service()) for m in wsd.matches.values()
    }
    onvif = OnvifClient()
    snmp = SnmpClient()
    try:
        rest = [h for h in scope.hosts() if h not in endpoints]
        swept = await donvif.sweep(onvif, scope, pacer, rest, now, ports=settings.sweep_ports)
        for e in swept:
            endpoints.setdefault(e.address, e)
        progress(f"ONVIF sweep: {len(swept)} more devices")
        logins = [(x.username, x.password.resolve()) for x in settings.onvif]
        for e in sorted(endpoints.values(), key=lambda e: e.address):
            found.cameras.append(await donvif.identify(onvif, scope, e, logins, now))
        if settings.snmp:
            creds = [credentials(s) for s in settings.snmp]
            port = settings.snmp[0].port
            found.switches = await dsnmp.sweep(snmp, scope, scope.hosts(), creds, pacer, port=port)
            progress(f"SNMP: {len(found.switches)} agents walked")
    finally:
        await onvif.close()
        snmp.close()
    macs = [c.mac for c in found.cameras if c.mac]
    found.topology = infer(found.switches, end_macs=macs)
    found.sent = pacer.sent
    return found
