"""TCP port checks in the daemon: devices with `tcp:` settings are connected to on each
port at their interval; a refused or unanswered port is a finding (check "tcp:PORT"),
confirmed after `max_attempts` checks and written to the operation record once."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Final

from prometheus_client import CollectorRegistry

from monitord import log
from monitord.checks.tcp.client import PortCheck, check_port
from monitord.checks.tcp.evaluate import finding
from monitord.checks.tcp.metrics import PortCollector
from monitord.clock import Clock
from monitord.config.models import Config, Device
from monitord.health.findings import FindingTracker
from monitord.health.journal import EventStore, Journal
from monitord.scheduler import Scheduler

_log = log.get("monitord.tcp")
_IN_FLIGHT: Final = 100  # a connect costs a socket and a few syscalls, no parsing


class PortWatch:
    def __init__(
        self, config: Config, store: EventStore, clock: Clock, registry: CollectorRegistry
    ) -> None:
        self._clock = clock
        self.journal = Journal(store, clock, "tcp")
        self.tracker = FindingTracker()
        self.latest: dict[str, dict[int, PortCheck]] = {}
        self.scheduler = Scheduler(clock, self.poll, _IN_FLIGHT, on_error=_failed)
        registry.register(PortCollector(self))
        self.apply(config)

    def apply(self, config: Config) -> None:
        self.devices: Mapping[str, Device] = config.polled_by("tcp")
        self.tracker.retain(self.devices)
        self.latest = {d: v for d, v in self.latest.items() if d in self.devices}
        self.scheduler.set_devices(config.intervals_of("tcp"))

    async def run(self) -> None:
        await self.scheduler.run()

    async def stop(self) -> None:
        """Nothing to release: every connection is closed as its check ends."""

    async def poll(self, device_id: str) -> float:
        device = self.devices.get(device_id)
        if device is None or device.tcp is None:
            return 60.0
        s = device.tcp
        checks = await asyncio.gather(*(check_port(device.address, p, s.timeout) for p in s.ports))
        if device_id not in self.devices:  # removed by a reload meanwhile
            return s.interval
        self.latest[device_id] = {c.port: c for c in checks}
        findings = [finding(device_id, c) for c in checks]
        changes = self.tracker.observe(findings, self._clock.now(), s.max_attempts)
        await self.journal.changes(device, changes)
        return s.retry_interval if self.tracker.soft(device_id) else s.interval


def _failed(device: str, exc: Exception) -> None:
    _log.error("TCP check failed inside monitord", device=device, error=repr(exc))
