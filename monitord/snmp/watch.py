"""Polls devices over SNMP: reading -> findings -> confirmed changes -> operation record.

One `poll()` per device and turn of the SNMP scheduler. HARD finding changes, reboots and
firmware changes are written to the device's operation record (kind "finding", "reboot",
"firmware") before they are logged, each exactly once. Memory (uptime, counters, findings)
lives in this process: after a restart the first poll is the new baseline.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, Protocol

from monitord import log
from monitord.clock import Clock
from monitord.config.models import Config, Device
from monitord.config.secrets import SecretUnavailable
from monitord.health.findings import Finding, FindingChange, FindingTracker, Status
from monitord.health.snmp_eval import DeviceEvent, Memory, evaluate
from monitord.prevention.history import SampleSink, feed_snmp
from monitord.probes.snmp import SnmpClient, SnmpReading
from monitord.probes.snmp_oids import FetchPlan, plan_for
from monitord.snmp.targets import target
from monitord.store.records import OperationEvent

_log = log.get("monitord.snmp")
_STORE_TRIES = 5


class EventStore(Protocol):
    def record_event(self, event: OperationEvent) -> None: ...


class SnmpWatch:
    def __init__(
        self,
        config: Config,
        client: SnmpClient,
        store: EventStore,
        clock: Clock,
        history: SampleSink | None = None,
    ) -> None:
        self._client, self._store, self._clock, self._history = client, store, clock, history
        self.tracker = FindingTracker()
        self.memory: dict[str, Memory] = {}
        self.reboots: dict[str, int] = {}
        self._turns: dict[str, int] = {}
        self._tables_due: set[str] = set()
        self.apply(config)

    def apply(self, config: Config) -> None:
        """Adopt a (re)loaded configuration; devices that keep SNMP keep their memory."""
        self.devices: dict[str, Device] = {d.id: d for d in config.devices if d.snmp}
        self.tracker.retain(self.devices)
        for gone in [d for d in self.memory if d not in self.devices]:
            del self.memory[gone]
        self._turns = {d: n for d, n in self._turns.items() if d in self.devices}

    def intervals(self) -> dict[str, float]:
        return {d.id: d.snmp.interval for d in self.devices.values() if d.snmp}

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
            if result.memory is not None:
                self.memory[device_id] = result.memory
            if self._history is not None:
                feed_snmp(self._history, device_id, findings, events, now)
        for event in events:
            await self._record(device, event.kind, event.reason, None, None, event.values)
            if event.kind == "reboot":
                self.reboots[device_id] = self.reboots.get(device_id, 0) + 1
            _announce_event(device, event)
        for change in self.tracker.observe(findings, now, settings.max_attempts):
            await self._record(
                device,
                "finding",
                f"{change.check}: {change.summary}",
                change.from_status.value if change.from_status else None,
                change.to_status.value,
                {"check": change.check, **change.values},
            )
            _announce_change(device, change)
        return settings.retry_interval if self.tracker.soft(device_id) else settings.interval

    async def _record(
        self,
        device: Device,
        kind: str,
        reason: str,
        from_state: str | None,
        to_state: str | None,
        values: Mapping[str, Any],
    ) -> None:
        event = OperationEvent(
            device.id, self._clock.now(), kind, from_state, to_state, reason, dict(values)
        )
        for attempt in range(_STORE_TRIES):
            try:
                await asyncio.to_thread(self._store.record_event, event)
                return
            except Exception as exc:  # noqa: BLE001 - the store may come back
                _log.error("cannot record SNMP event; retrying", device=device.id, error=str(exc))
                await self._clock.sleep(min(30.0, 2.0**attempt))
        _log.error("SNMP event not recorded", device=device.id, kind=kind, reason=reason)


def _announce_event(device: Device, event: DeviceEvent) -> None:
    _log.warning(
        "device event", device=device.id, site=device.site, kind=event.kind, reason=event.reason
    )


def _announce_change(device: Device, c: FindingChange) -> None:
    say = _log.info if c.to_status == Status.OK else _log.warning
    say(
        "finding changed",
        device=device.id,
        site=device.site,
        check=c.check,
        from_status=c.from_status.value if c.from_status else None,
        to_status=c.to_status.value,
        summary=c.summary,
    )
