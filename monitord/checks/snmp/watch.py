"""Polls devices over SNMP: reading -> findings -> confirmed changes -> operation record.

One `poll()` per device and turn of the SNMP scheduler. HARD finding changes and reboots are
written to the device's operation record (kind "finding", "reboot"; the service adds "trap")
before they are logged, each exactly once. What the device says about itself (sysDescr,
firmware, vendor from sysObjectID) is kept by the store, which records a change ("firmware",
"archive"), also one made while monitord was stopped. Memory (uptime, counters, findings)
lives in this process: after a restart the first poll is the new baseline, and a reboot
while monitord was stopped is told from the last time it saw the device (`restore`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from monitord.checks.snmp import oids as O
from monitord.checks.snmp.client import SnmpClient, SnmpReading
from monitord.checks.snmp.evaluate import Memory, evaluate, reboot_while_away
from monitord.checks.snmp.identity import identity
from monitord.checks.snmp.oids import FetchPlan, plan_for
from monitord.checks.snmp.targets import target
from monitord.clock import Clock
from monitord.config.models import Config, Device
from monitord.config.secrets import SecretUnavailable
from monitord.health.findings import Finding, FindingTracker, Status
from monitord.health.journal import EventStore, Journal
from monitord.prevention.history import SampleSink, feed_snmp


class SnmpWatch:
    def __init__(
        self,
        config: Config,
        client: SnmpClient,
        store: EventStore,
        clock: Clock,
        history: SampleSink | None = None,
    ) -> None:
        self._client, self._clock, self._history = client, clock, history
        self.journal = Journal(store, clock, "snmp")
        self.tracker = FindingTracker()
        self.memory: dict[str, Memory] = {}
        self.reboots: dict[str, int] = {}
        self._turns: dict[str, int] = {}
        self._tables_due: set[str] = set()
        self._last_seen: dict[str, dt.datetime] = {}
        self._last_reboots: dict[str, dt.datetime] = {}
        self.apply(config)

    def restore(
        self, last_seen: Mapping[str, dt.datetime], last_reboots: Mapping[str, dt.datetime]
    ) -> None:
        """What the store says from before this start: when each device was last looked at,
        and its last recorded reboot."""
        self._last_seen, self._last_reboots = dict(last_seen), dict(last_reboots)

    def apply(self, config: Config) -> None:
        """Adopt a (re)loaded configuration; devices that keep SNMP keep their memory."""
        self.devices: Mapping[str, Device] = config.polled_by("snmp")
        self._every = config.intervals_of("snmp")
        self.tracker.retain(self.devices)
        for gone in self.memory.keys() - self.devices.keys():
            del self.memory[gone]
        for gone in self._turns.keys() - self.devices.keys():
            del self._turns[gone]

    def intervals(self) -> dict[str, float]:
        return self._every

    def walk_tables_next(self, device_id: str) -> None:
        """The next poll of this device walks its tables too (a trap said something)."""
        self._tables_due.add(device_id)

    async def read(self, device: Device) -> SnmpReading | Finding:
        """One fetch; a finding instead when the credentials cannot even be read."""
        assert device.snmp is not None
        try:
            t = target(device)
        except SecretUnavailable as exc:
            return Finding(device.id, "snmp", Status.UNKNOWN, f"SNMP: {exc}")
        plan = plan_for(device.kind.value, device.snmp.ports)
        turn = self._turns.get(device.id, 0)
        self._turns[device.id] = turn + 1
        due = device.id in self._tables_due or self.tracker.soft(device.id)
        if not due and turn % device.snmp.tables_every:
            plan = FetchPlan(plan.scalars, ())
        self._tables_due.discard(device.id)
        return await self._client.fetch(t, plan)

    async def poll(self, device_id: str) -> float:
        """Poll one device, record what changed; return the delay until the next poll."""
        device = self.devices.get(device_id)
        if device is None or device.snmp is None:
            return 60.0
        settings = device.snmp
        got = await self.read(device)
        now_mono, now = self._clock.monotonic(), self._clock.now()
        if device_id not in self.devices:  # removed by a reload meanwhile
            return settings.interval
        if isinstance(got, Finding):
            findings, events = [got], []
        else:
            result = evaluate(
                device_id, device.kind.value, settings, got, self.memory.get(device_id), now_mono
            )
            findings, events = result.findings, result.events
            seen = self._last_seen.pop(device_id, None)
            uptime = result.memory.uptime_ticks if result.memory else None
            if seen is not None and uptime is not None and device_id not in self.memory:
                away = reboot_while_away(uptime, seen, self._last_reboots.get(device_id), now)
                events = [*events, away] if away else events
            if result.memory is not None:
                before = self.memory.get(device_id)
                self.memory[device_id] = result.memory
                if before is None or before.sys_descr != result.memory.sys_descr:
                    oid = got.get(O.SYS_OBJECT_ID)
                    facts = identity(result.memory.sys_descr, oid if isinstance(oid, str) else None)
                    await self.journal.learn(device, "snmp", facts)
            if self._history is not None:
                feed_snmp(self._history, device_id, findings, events, now)
        for event in events:
            await self.journal.event(device, event.kind, event.reason, event.values)
            if event.kind == "reboot":
                self.reboots[device_id] = self.reboots.get(device_id, 0) + 1
        await self.journal.changes(
            device, self.tracker.observe(findings, now, settings.max_attempts)
        )
        return settings.retry_interval if self.tracker.soft(device_id) else settings.interval
