"""SNMP in the daemon: a scheduler polling devices with `snmp:` settings, and the trap
receiver that turns a known device's trap into an immediate re-check (ICMP and SNMP).

SNMP polls run on their own `Scheduler`: their interval (60 s) and retries differ from
ICMP's, and a slow agent must not delay pings.
"""

from __future__ import annotations

import asyncio
import collections
import ipaddress
from collections.abc import Callable, Iterable
from typing import Final

from prometheus_client import CollectorRegistry

from monitord import log
from monitord.checks.snmp.client import SnmpClient
from monitord.checks.snmp.metrics import SnmpCollector, trap_counter
from monitord.checks.snmp.traps import Trap, TrapReceiver, TrapUserKeys
from monitord.checks.snmp.watch import SnmpWatch
from monitord.clock import Clock
from monitord.config.models import Config, Device
from monitord.config.snmp import TrapSettings
from monitord.health.journal import EventStore
from monitord.prevention.history import SampleSink
from monitord.scheduler import Scheduler

_log = log.get("monitord.snmp")
_KEEP_TRAPS: Final = 200
# A flapping port or a misconfigured manager can send a trap a second: the operation record
# keeps the first of each kind per device and window, and counts the rest into the next one.
_TRAP_RECORD_WINDOW: Final = 60.0
# pysnmp is CPU-bound (~8 ms per switch poll): with more polls in flight the event loop
# falls behind and replies wait past their timeout (bench/snmp_poll.py: 118 false timeouts
# in 1 000 polls at 200 in flight, none at 20 or 50).
_IN_FLIGHT: Final = 50


class SnmpService:
    def __init__(
        self,
        config: Config,
        store: EventStore,
        clock: Clock,
        registry: CollectorRegistry,
        recheck: Callable[[Iterable[str]], None],
        client: SnmpClient | None = None,
        history: SampleSink | None = None,
    ) -> None:
        self._clock, self._recheck = clock, recheck
        self.client = client or SnmpClient()
        self.watch = SnmpWatch(config, self.client, store, clock, history)
        self.scheduler = Scheduler(clock, self.watch.poll, _IN_FLIGHT, on_error=_failed)
        self.receiver: TrapReceiver | None = None
        self.recent: collections.deque[Trap] = collections.deque(maxlen=_KEEP_TRAPS)
        self.unknown_sources = 0
        self._trap_marks: dict[tuple[str, str], tuple[float, int]] = {}
        self._writes: set[asyncio.Task[None]] = set()
        self._traps = trap_counter(registry)
        registry.register(SnmpCollector(self.watch, self._drops))
        self._trap_settings = config.traps
        self.apply(config)

    def open(self) -> None:
        """Bind the trap port if configured; raises TrapListenError if it cannot."""
        s = self._trap_settings
        if s is None:
            return
        self.receiver = TrapReceiver(
            s.listen, s.port, [c.resolve() for c in s.communities], _users(s), self._on_trap,
            self._clock.now,
        )  # fmt: skip
        _log.info("listening for SNMP traps", listen=s.listen, port=self.receiver.port)

    def apply(self, config: Config) -> None:
        self.watch.apply(config)
        # A configured address is already in ipaddress's form (config/models.py IpAddress):
        # only a trap's source needs it (10 000 parses were most of a reload's SNMP step).
        self._by_address: dict[str, Device] = {d.address: d for d in config.polled_here()}
        self.scheduler.set_devices(self.watch.intervals())
        if config.traps != self._trap_settings:
            _log.warning("trap receiver settings changed; they take effect at the next restart")

    async def run(self) -> None:
        await self.scheduler.run()

    async def stop(self) -> None:
        # Traps already accepted reach the operation record before the daemon exits.
        await asyncio.gather(*list(self._writes), return_exceptions=True)
        self.close()

    def close(self) -> None:
        if self.receiver is not None:
            self.receiver.close()
        self.client.close()

    def _drops(self) -> dict[str, int]:
        found = self.receiver.drops() if self.receiver else {}
        return {**found, "unknown_source": self.unknown_sources}

    def _on_trap(self, trap: Trap) -> None:
        device = self._by_address.get(_norm(trap.source))
        if device is None:
            self.unknown_sources += 1
            return
        self._traps.labels(trap.name).inc()
        self.recent.append(trap)
        _log.info(
            "trap received",
            device=device.id,
            site=device.site,
            trap=trap.name,
            trap_oid=trap.trap_oid,
            varbinds=dict(trap.varbinds[:8]),
        )
        self._keep(device, trap)
        # Something happened: look now rather than at the next turn (a link cut in seconds).
        self._recheck([device.id])
        self.watch.walk_tables_next(device.id)
        self.scheduler.check_soon([device.id])

    def _keep(self, device: Device, trap: Trap) -> None:
        """Write the trap to the device's operation record, at most one per kind and window."""
        key, now = (device.id, trap.name), self._clock.monotonic()
        since, held = self._trap_marks.get(key, (-_TRAP_RECORD_WINDOW, 0))
        if now - since < _TRAP_RECORD_WINDOW:
            self._trap_marks[key] = (since, held + 1)
            return
        self._trap_marks[key] = (now, 0)
        values: dict[str, str | int] = {"trap": trap.name, "trap_oid": trap.trap_oid}
        values.update((oid, value) for oid, value in trap.varbinds[:8])
        if held:
            values["suppressed_before"] = held
        write = self.watch.journal.record(
            device, "trap", f"SNMP trap {trap.name}", None, None, values
        )
        task = asyncio.get_running_loop().create_task(write)
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)


def _norm(address: str) -> str:
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return address


def _users(s: TrapSettings) -> list[TrapUserKeys]:
    return [
        TrapUserKeys(
            u.user,
            u.auth_protocol,
            u.auth_key.resolve(),
            u.priv_protocol,
            u.priv_key.resolve() if u.priv_key else None,
            u.engine_id,
        )
        for u in s.users
    ]


def _failed(device: str, exc: Exception) -> None:
    _log.error("SNMP poll failed inside monitord", device=device, error=repr(exc))
