"""The Watch interface and the table of watches that the daemon, reload and
`monitord probe DEVICE` iterate: adding a protocol is one folder and one row here.

ICMP is not a row: its loop (checks/icmp/watch.py `Fleet`) is the daemon's core. It drives
the main scheduler (whose `check_soon` the other watches call), owns the HealthTracker that
decides UP/DOWN/UNREACHABLE along the topology, feeds the ticket desk, and its states are
restored from the store before anything starts; the rows below only report findings.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol

from prometheus_client import CollectorRegistry

from monitord.clock import Clock
from monitord.config.models import Config, Device
from monitord.health.journal import EventLog, FactLog

if TYPE_CHECKING:
    from monitord.checks.once import ProbeReport
    from monitord.prevention.history import HistoryRecorder
    from monitord.store.records import SavedState


class WatchEvents(EventLog, Protocol):
    def latest_events(self, kind: str) -> dict[str, dt.datetime]: ...


class WatchStore(Protocol):
    """What a watch writes to: the centre's `Store`, or a site poller's journal
    (sites/sitestore.py), so the same watches run at both."""

    @property
    def states(self) -> WatchEvents: ...

    @property
    def facts(self) -> FactLog: ...


class Watch(Protocol):
    """A protocol's loop in the daemon, with its own scheduler and /metrics collector."""

    async def run(self) -> None:
        """Poll the devices until cancelled (supervised: restarted if it raises)."""

    def apply(self, config: Config) -> None:
        """Adopt a reloaded configuration (devices added, removed, settings changed)."""

    async def stop(self) -> None:
        """Release sockets and sessions once `run` has been cancelled."""


@dataclass(frozen=True, slots=True)
class Deps:
    """What a watch is built from (it registers its collector in `registry`)."""

    config: Config
    store: WatchStore
    clock: Clock
    registry: CollectorRegistry
    recheck: Callable[[Iterable[str]], None]  # ask ICMP to look at these devices now
    history: HistoryRecorder
    saved: Mapping[str, SavedState]  # the states restored at start


@dataclass(frozen=True, slots=True)
class WatchKind:
    name: str  # the supervised task's name and the protocol's folder
    configured: Callable[[Device], bool]  # the device has this protocol's settings
    open: Callable[[Deps], Awaitable[Watch]]  # build, restore and start (may raise at start)
    look: Callable[[Config, Device, ProbeReport], Awaitable[ProbeReport]]  # `monitord probe`
    always: bool = True  # False: opened only once some device is configured (ONVIF: imports)

    def wanted(self, config: Config) -> bool:
        return self.always or any(self.configured(d) for d in config.polled_here())


async def _open_snmp(deps: Deps) -> Watch:
    from monitord.checks.snmp.service import SnmpService

    snmp = SnmpService(
        deps.config, deps.store, deps.clock, deps.registry, deps.recheck, history=deps.history
    )
    snmp.watch.restore(
        {d: s.last_check for d, s in deps.saved.items() if s.last_check},
        await asyncio.to_thread(deps.store.states.latest_events, "reboot"),
    )
    try:
        snmp.open()  # the trap port: a start that cannot bind it fails
    except BaseException:
        snmp.close()
        raise
    return snmp


async def _open_tcp(deps: Deps) -> Watch:
    from monitord.checks.tcp.watch import PortWatch

    return PortWatch(deps.config, deps.store, deps.clock, deps.registry)


async def _open_onvif(deps: Deps) -> Watch:
    # aiohttp, lxml and the RTSP client: ~10 MB that sites without ONVIF never pay.
    from monitord.checks.onvif.service import OnvifService

    return OnvifService(deps.config, deps.store, deps.clock, deps.registry, deps.recheck)


async def _look_snmp(config: Config, device: Device, report: ProbeReport) -> ProbeReport:
    from monitord.checks.once import look_snmp

    findings, system = await look_snmp(device)
    return replace(report, findings=findings, system=system)


async def _look_tcp(config: Config, device: Device, report: ProbeReport) -> ProbeReport:
    from monitord.checks.once import look_tcp

    return replace(report, tcp=await look_tcp(device))


async def _look_onvif(config: Config, device: Device, report: ProbeReport) -> ProbeReport:
    from monitord.checks.onvif.once import look

    return replace(report, onvif=await look(device))


WATCHES: tuple[WatchKind, ...] = (
    WatchKind("snmp", lambda d: d.snmp is not None, _open_snmp, _look_snmp),
    WatchKind("tcp", lambda d: d.tcp is not None, _open_tcp, _look_tcp),
    WatchKind("onvif", lambda d: d.onvif is not None, _open_onvif, _look_onvif, always=False),
)
"""Every protocol but ICMP, in the order they start."""
