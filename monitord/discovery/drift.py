"""The daemon's forwarding-table cycle: MAC -> port history and drift findings (X3).

For every site with `discovery` configured, every `tables_every` (15 min by default) the
configured switches inside the site's ranges are read over SNMP (the device's own SNMP
settings, else the site's discovery logins); topology inference places each MAC on its
access port, every placement is kept in `store.macs`, and a configured device whose MAC is
now on another switch or port opens a class C "drift" ticket through the early warnings'
path (`tickets.open_warning`: one per device while active) with the old and new position.
A device under a maintenance window moves unreported (someone is working there); its new
position is still recorded. A cycle in which a switch did not answer records nothing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence
from typing import Final, Protocol

from monitord import log
from monitord.checks.snmp.client import Credentials, SnmpClient
from monitord.checks.snmp.targets import credentials
from monitord.clock import Clock, SystemClock
from monitord.config.contracts import Contract, TicketClass
from monitord.config.discovery import DiscoverySettings
from monitord.config.models import Config, Device, DeviceKind, Site
from monitord.discovery import snmp as dsnmp
from monitord.discovery.pacing import TargetBuckets
from monitord.discovery.scope import Pacer, Scope, networks
from monitord.discovery.topology import infer, switch_key
from monitord.present.i18n import DRIFT_LINES
from monitord.prevention.wording import title
from monitord.store import Store, StoreError
from monitord.store.records import MacMove, MacSighting
from monitord.ticketing import tickets
from monitord.ticketing.ports import RendererFor

_log = log.get("monitord.drift")
RULE: Final = "drift"
_IDLE: Final = 300.0  # seconds between looks when no site reads its tables


class Windows(Protocol):
    def covers(self, device_id: str, at: dt.datetime) -> bool: ...


class TableWatch:
    """One supervised periodic step; each site keeps its own due time."""

    def __init__(
        self, store: Store, clock: Clock, config: Config, windows: Windows | None = None, *,
        messages: RendererFor, pace_clock: Clock | None = None,
    ) -> None:  # fmt: skip
        self._store, self._clock, self._windows = store, clock, windows
        self._messages_for = messages
        # Pacing protects the switches in real time, whatever clock drives the cycle.
        self._pace_clock = pace_clock or SystemClock()
        self._due: dict[str, float] = {}
        self.reads = 0  # forwarding-table cycles done (all sites)
        self.apply(config)

    def apply(self, config: Config) -> None:
        self._config = config
        self._messages = self._messages_for(config)
        self._contracts = {c.id: c for c in config.contracts}
        sites = {s.id for s in config.sites if _every(s) > 0}
        self._due = {k: v for k, v in self._due.items() if k in sites}

    async def step(self) -> float:
        """Read every site that is due; the seconds until the next one is."""
        now = self._clock.monotonic()
        for site in self._config.sites:
            every = _every(site)
            if every <= 0 or self._due.get(site.id, now) > now:
                continue
            self._due[site.id] = now + every
            try:
                await self.read_site(site)
            except StoreError as exc:
                _log.error("cannot keep the MAC positions", site=site.id, error=str(exc))
        waits = [due - now for due in self._due.values()]
        return max(1.0, min(waits, default=_IDLE))

    async def read_site(self, site: Site) -> list[MacMove]:
        """One forwarding-table cycle of one site; the moves it found."""
        settings = site.discovery
        assert settings is not None
        scope = Scope(networks(settings.ranges))
        mine = [d for d in self._config.devices if d.site == site.id]
        switches = [d for d in mine if d.kind == DeviceKind.SWITCH and scope.allows(d.address)]
        tables = await _read(switches, settings, Pacer(settings.rate, self._pace_clock))
        self.reads += 1
        if len(tables) < len(switches):
            # Without one switch's tables its cameras look as if they hung off the uplink
            # toward it: a partial read proves no move (the switch's outage is its own ticket).
            silent = sorted({d.id for d in switches} - {d.id for d, _ in tables})
            _log.warning("forwarding tables incomplete; drift not judged", site=site.id,
                         silent=silent)  # fmt: skip
            return []
        ids = {switch_key(t): d.id for d, t in tables}
        infra = [d.mac for d in switches if d.mac]
        topo = infer([t for _, t in tables], infrastructure=infra)
        sightings = []
        by_key = {switch_key(t): t for _, t in tables}
        for p in topo.placements.values():
            vlans = sorted(v for port, v in by_key[p.switch].fdb.get(p.mac, ()) if port == p.port)
            name = p.port_name or str(p.port)
            sightings.append(MacSighting(p.mac, ids[p.switch], name, vlans[0] if vlans else 0))
        at = self._clock.now()
        moves = await asyncio.to_thread(self._store.macs.observe, site.id, sightings, at)
        by_mac = {d.mac: d for d in mine if d.mac}
        contract = self._contracts.get(site.contract or "")
        for move in moves:
            device = by_mac.get(move.after.mac)
            if device is None:
                continue
            _log.warning("device moved", device=device.id, before=move.before.position,
                         after=move.after.position)  # fmt: skip
            if contract is None or (self._windows and self._windows.covers(device.id, at)):
                continue
            await asyncio.to_thread(self._report, contract, site, device, move, at)
        return moves

    def _report(
        self, contract: Contract, site: Site, device: Device, move: MacMove, at: dt.datetime
    ) -> None:
        words = drift_words(device, move, site.timezone)
        ticket, created = tickets.open_warning(
            self._store, contract, site.id, device.id, RULE, TicketClass.C,
            title(RULE, device.name, device.id), "\n".join(words),
            {"early_warning": RULE, "before": _where(move.before), "after": _where(move.after)},
            at, self._messages,
        )  # fmt: skip
        if created:
            _log.warning("drift finding", ticket=ticket.id, device=device.id)


def drift_words(device: Device, move: MacMove, zone: str) -> tuple[str, str]:
    from zoneinfo import ZoneInfo

    since = move.since.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")
    b, a = move.before, move.after
    fields = {
        "device": device.id, "mac": a.mac, "since": since,
        "old_switch": b.switch, "old_port": b.port, "old_vlan": b.vlan,
        "new_switch": a.switch, "new_port": a.port, "new_vlan": a.vlan,
    }  # fmt: skip
    en, zh = DRIFT_LINES
    return en.format(**fields), zh.format(**fields)


def _where(s: MacSighting) -> dict[str, object]:
    return {"switch": s.switch, "port": s.port, "vlan": s.vlan}


def _every(site: Site) -> float:
    return site.discovery.tables_every.total_seconds() if site.discovery else 0.0


def _logins(d: Device, settings: DiscoverySettings) -> tuple[list[Credentials], int, float]:
    if d.snmp is not None:
        return [credentials(d.snmp)], d.snmp.port, d.snmp.timeout
    port = settings.snmp[0].port if settings.snmp else 161
    return [credentials(s) for s in settings.snmp], port, 1.0


async def _read(
    switches: Sequence[Device], settings: DiscoverySettings, pacer: Pacer
) -> list[tuple[Device, dsnmp.SwitchTables]]:
    """Each switch's tables, one switch at a time (the pacer is the site's budget, the
    buckets each switch's own: a table walk is many requests to one agent)."""
    buckets = TargetBuckets(settings.switch_rate, pacer.clock)
    client = SnmpClient(max_walk_rows=20_000, pace=buckets.take)
    out = []
    try:
        for d in switches:
            logins, port, seconds = _logins(d, settings)
            if not logins:
                continue
            got = await dsnmp.read_agent(
                client, d.address, logins, pacer, port=port, seconds=seconds
            )
            if got is None:
                _log.info("switch did not answer its forwarding table", device=d.id)
                continue
            out.append((d, got))
    finally:
        client.close()
    return out
