"""One discovery run of a site: WS-Discovery, the clock sweep, ONVIF identity, the SNMP
sweep, then topology - every packet inside the scope, every send paced."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from monitord.checks.onvif.client import OnvifClient
from monitord.checks.snmp.client import SnmpClient
from monitord.checks.snmp.targets import credentials
from monitord.config.discovery import DiscoverySettings
from monitord.discovery import onvif as donvif
from monitord.discovery import snmp as dsnmp
from monitord.discovery.pacing import TargetBuckets
from monitord.discovery.sadp import SadpDevice, SadpProber, SadpResult
from monitord.discovery.scope import Pacer, Scope
from monitord.discovery.topology import Topology, infer
from monitord.discovery.wsd import WsdProber, WsdResult


@dataclass(slots=True)
class Status:
    """What a run has done so far, read live by a progress display (cli/discover_view.py)."""

    ranges: str = ""
    addresses: int = 0  # host addresses in the ranges
    stage: str = ""  # "wsd", "sadp", "sweep", "identify", "snmp", "topology", "done"
    found: int = 0  # devices answering so far (WS-Discovery, SADP, the ONVIF sweep)
    walked: int = 0  # SNMP agents whose tables were read
    pacer: Pacer | None = None
    told: int = 0  # probes sent, as a run elsewhere (a site poller) reported them

    @property
    def probed(self) -> int:
        """Probes sent so far (every kind goes through the one pacer)."""
        return self.pacer.sent if self.pacer else self.told


@dataclass(slots=True)
class Found:
    wsd: WsdResult
    sadp: SadpResult = field(default_factory=SadpResult)
    cameras: list[donvif.OnvifFacts] = field(default_factory=list)
    switches: list[dsnmp.SwitchTables] = field(default_factory=list)
    topology: Topology = field(default_factory=Topology)
    sent: int = 0
    switch_requests: dict[str, int] = field(default_factory=dict)  # SNMP requests per address


async def discover(
    settings: DiscoverySettings, scope: Scope, now: Callable[[], dt.datetime],
    status: Status | None = None,
) -> Found:  # fmt: skip
    pacer = Pacer(settings.rate)
    st = status if status is not None else Status()
    st.ranges, st.pacer = ", ".join(str(n) for n in scope.ranges), pacer
    st.addresses, st.stage = sum(1 for _ in scope.hosts()), "wsd"
    wsd = await WsdProber(scope, pacer, port=settings.wsd_port, listen=settings.listen).run()
    st.found, st.stage = len(wsd.matches), "sadp"
    sadp = await SadpProber(scope, pacer, port=settings.sadp_port, listen=settings.listen).run()
    st.found, st.stage = st.found + len(sadp.devices), "sweep"
    found = Found(wsd, sadp)
    endpoints = {
        m.source: donvif.Endpoint(m.source, *m.device_service()) for m in wsd.matches.values()
    }
    onvif = OnvifClient()
    buckets = TargetBuckets(settings.switch_rate, pacer.clock)
    snmp = SnmpClient(pace=buckets.take)
    try:
        rest = [h for h in scope.hosts() if h not in endpoints]
        swept = await donvif.sweep(onvif, scope, pacer, rest, now, ports=settings.sweep_ports)
        for e in swept:
            endpoints.setdefault(e.address, e)
        st.found, st.stage = st.found + len(swept), "identify"
        logins = [(x.username, x.password.resolve()) for x in settings.onvif]
        for e in sorted(endpoints.values(), key=lambda e: e.address):
            found.cameras.append(await donvif.identify(onvif, scope, e, logins, now))
        if settings.snmp:
            creds = [credentials(s) for s in settings.snmp]
            port = settings.snmp[0].port
            st.stage = "snmp"

            def walked() -> None:
                st.walked += 1

            found.switches = await dsnmp.sweep(
                snmp, scope, scope.hosts(), creds, pacer, port=port, walked=walked
            )
    finally:
        await onvif.close()
        snmp.close()
    st.stage = "topology"
    found.cameras = merge_sadp(found.cameras, sadp.devices.values())
    macs = [c.mac for c in found.cameras if c.mac]
    found.topology = infer(found.switches, end_macs=macs)
    found.sent = pacer.sent
    found.switch_requests = dict(buckets.requests)
    st.stage = "done"
    return found


def merge_sadp(
    cameras: list[donvif.OnvifFacts], devices: Iterable[SadpDevice]
) -> list[donvif.OnvifFacts]:
    """ONVIF facts, gaps filled from SADP (same MAC, or same address without identity);
    a SADP-only device (ONVIF off, or not activated) becomes a device of its own."""
    out = list(cameras)
    by_mac = {c.mac: i for i, c in enumerate(out) if c.mac}
    by_address = {c.endpoint.address: i for i, c in enumerate(out) if not c.mac}
    for d in sorted(devices, key=lambda d: d.mac):
        i = by_mac.get(d.mac, by_address.get(d.source))
        if i is None:
            out.append(donvif.OnvifFacts(
                donvif.Endpoint(d.source, d.http_port), d.vendor, d.model, d.serial,
                d.firmware, d.mac, activated=d.activated,
            ))  # fmt: skip
            continue
        c = out[i]
        out[i] = dataclasses.replace(
            c, vendor=c.vendor or d.vendor, model=c.model or d.model,
            serial=c.serial or d.serial, firmware=c.firmware or d.firmware, mac=c.mac or d.mac,
            activated=d.activated, error=None if c.mac or d.mac else c.error,
        )  # fmt: skip
    return out
