"""Checks devices over ONVIF: check -> findings -> confirmed changes -> operation record.

One `poll()` per device and turn of the ONVIF scheduler. HARD finding changes and firmware
changes go to the device's operation record before they are logged. Rejected credentials
are confirmed at once (retrying sooner would lock the account) and back off: the next try
waits `auth_backoff`, doubling up to `auth_backoff_max`. Memory (identity, clock, events)
lives in this process: after a restart the first check is the new baseline.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any, Final, Protocol

from monitord import log
from monitord.clock import Clock
from monitord.config.models import Config, Device
from monitord.config.secrets import SecretUnavailable
from monitord.health.findings import Finding, FindingChange, FindingTracker, Status
from monitord.onvif import check, evaluate
from monitord.onvif.check import CheckResult, Plan, StreamChecker
from monitord.onvif.events import EventListeners
from monitord.onvif.targets import target, wants_recording
from monitord.probes.onvif import NS_EVENTS, Identity, OnvifClient, OnvifDevice
from monitord.probes.onvif_errors import Reason
from monitord.probes.onvif_events import Event
from monitord.store.records import OperationEvent

_log = log.get("monitord.onvif")
_STORE_TRIES: Final = 5
_MAX_EVENT_KEYS: Final = 64  # per device: bounds findings and /metrics series
_ARCHIVE_FIELDS: Final = (
    ("vendor", "manufacturer"), ("model", "model"), ("serial", "serial"), ("firmware", "firmware"),
)  # fmt: skip


class EventStore(Protocol):
    def record_event(self, event: OperationEvent) -> None: ...


class OnvifWatch:
    def __init__(
        self,
        config: Config,
        client: OnvifClient,
        store: EventStore,
        clock: Clock,
        stream_check: StreamChecker,
        on_event: Callable[[str], None] = lambda _d: None,
        on_identity: Callable[[str], None] = lambda _d: None,
    ) -> None:
        self._client, self._store, self._clock = client, store, clock
        self._stream_check, self._on_event, self._on_identity = stream_check, on_event, on_identity
        self.tracker = FindingTracker()
        self.results: dict[str, CheckResult] = {}
        self.identities: dict[str, Identity] = {}
        self.events: dict[str, dict[str, Event]] = {}
        self.auth_failures: dict[str, int] = {}
        self._devices: dict[str, OnvifDevice] = {}
        self._turns: dict[str, int] = {}
        self.listeners = EventListeners(clock, self._event)
        self.apply(config)

    def apply(self, config: Config) -> None:
        """Adopt a (re)loaded configuration; devices that keep ONVIF keep their memory."""
        self.devices: dict[str, Device] = {d.id: d for d in config.devices if d.onvif}
        self.tracker.retain(self.devices)
        for memory in (self.results, self.identities, self.events, self.auth_failures,
                       self._devices, self._turns):  # fmt: skip
            for gone in [d for d in memory if d not in self.devices]:
                del memory[gone]
        self.listeners.retain(d.id for d in self.devices.values() if d.onvif and d.onvif.events)

    def intervals(self) -> dict[str, float]:
        return {d.id: d.onvif.interval for d in self.devices.values() if d.onvif}

    async def poll(self, device_id: str) -> float:
        """Check one device, record what changed; return the delay until the next check."""
        device = self.devices.get(device_id)
        if device is None or device.onvif is None:
            return 300.0
        settings = device.onvif
        try:
            t = target(device)
        except SecretUnavailable as exc:
            found = [Finding(device_id, "onvif", Status.UNKNOWN, f"ONVIF: {exc}")]
            await self._observe(device, found, settings.max_attempts)
            return settings.interval
        od = self._devices.get(device_id)
        if od is None:
            od = self._devices[device_id] = self._client.device(t, self._clock.now)
        else:
            od.retarget(t)
        turn = self._turns.get(device_id, 0)
        self._turns[device_id] = turn + 1
        plan = Plan(
            identity=device_id not in self.identities or turn % settings.identity_every == 0,
            stream=settings.check_stream,
            recording=wants_recording(device),
        )
        result = await check.run(od, plan, self._stream_check)
        if device_id not in self.devices:  # removed by a reload meanwhile
            return settings.interval
        self.results[device_id] = result
        found = evaluate.findings(device_id, settings, result, self.events.get(device_id))
        if result.identity is not None:
            found.append(await self._identity(device, result.identity))
        auth = [f for f in found if f.check == "onvif_auth"]
        await self._observe(device, auth, 1)  # credentials: no second try to confirm
        await self._observe(device, [f for f in found if f.check != "onvif_auth"],
                            settings.max_attempts)  # fmt: skip
        if result.error is not None and result.error.reason == Reason.AUTH_REJECTED:
            n = self.auth_failures[device_id] = self.auth_failures.get(device_id, 0) + 1
            return min(settings.auth_backoff_max, settings.auth_backoff * 2.0 ** (n - 1))
        self.auth_failures.pop(device_id, None)
        if result.error is None and settings.events and NS_EVENTS in od.xaddrs:
            self.listeners.ensure(device_id, od)
        return settings.retry_interval if self.tracker.soft(device_id) else settings.interval

    def _event(self, device_id: str, event: Event) -> None:
        device = self.devices.get(device_id)
        if device is None:
            return
        if event.kind != "recording_job":
            known = self.events.setdefault(device_id, {})
            key = f"{event.kind}:{event.source.partition('=')[2][:48]}"
            if (event.problem or key in known) and (key in known or len(known) < _MAX_EVENT_KEYS):
                known[key] = event
        if event.operation == "Initialized" and not event.problem:
            return
        _log.warning(
            "ONVIF event", device=device_id, site=device.site, kind=event.kind,
            source=event.source, problem=event.problem,
        )  # fmt: skip
        self._on_event(device_id)

    async def _identity(self, device: Device, found: Identity) -> Finding:
        """Firmware changes go to the operation record; the configuration is compared with
        what the device says about itself."""
        before = self.identities.get(device.id)
        self.identities[device.id] = found
        values = {"vendor": found.manufacturer, "model": found.model, "serial": found.serial,
                  "firmware": found.firmware}  # fmt: skip
        # A first read is not news: the equipment archive takes it (and records a change
        # there, found after a restart too); a change seen while running is recorded here.
        if before is not None and before.firmware != found.firmware:
            reason = f"firmware changed: {before.firmware} -> {found.firmware}"
            await self._record(device, "firmware", reason, before.firmware, found.firmware,
                               values)  # fmt: skip
            _log.warning("firmware changed", device=device.id, site=device.site, reason=reason)
        if before != found:
            self._on_identity(device.id)  # for the equipment archive
        differ = [
            f"{field} {getattr(device, field)!r} (device: {getattr(found, attr)!r})"
            for field, attr in _ARCHIVE_FIELDS
            if getattr(device, field) and getattr(found, attr)
            and getattr(device, field).strip().lower() != getattr(found, attr).strip().lower()
        ]  # fmt: skip
        if differ:
            summary = "equipment archive differs: " + "; ".join(differ)
            return Finding(device.id, "archive", Status.WARNING, summary[:300], values)
        return Finding(device.id, "archive", Status.OK, "equipment archive matches", values)

    def reported(self) -> dict[str, dict[str, str]]:
        """Per device, what it says about itself, in the equipment archive's terms."""
        return {
            d: {k: v for k, v in (("vendor", i.manufacturer), ("model", i.model),
                                  ("serial", i.serial), ("firmware", i.firmware)) if v}
            for d, i in self.identities.items()
        }  # fmt: skip

    async def _observe(self, device: Device, found: list[Finding], attempts: int) -> None:
        for change in self.tracker.observe(found, self._clock.now(), attempts):
            await self._record(
                device,
                "finding",
                f"{change.check}: {change.summary}",
                change.from_status.value if change.from_status else None,
                change.to_status.value,
                {"check": change.check, **change.values},
            )
            _announce(device, change)

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
                _log.error("cannot record ONVIF event; retrying", device=device.id, error=str(exc))
                await self._clock.sleep(min(30.0, 2.0**attempt))
        _log.error("ONVIF event not recorded", device=device.id, kind=kind, reason=reason)


def _announce(device: Device, c: FindingChange) -> None:
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
