"""Checks devices over ONVIF: check -> findings -> confirmed changes -> operation record.

One `poll()` per device and turn of the ONVIF scheduler. HARD finding changes go to the
device's operation record before they are logged; what the device says about itself
(vendor, model, serial, firmware) is kept by the store, which records a firmware change. Rejected credentials
are confirmed at once (retrying sooner would lock the account) and back off: the next try
waits `auth_backoff`, doubling up to `auth_backoff_max`. Memory (identity, clock, events)
lives in this process: after a restart the first check is the new baseline.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final

from monitord import log
from monitord.checks.onvif import evaluate, fetch
from monitord.checks.onvif.client import NS_EVENTS, Identity, OnvifClient, OnvifDevice
from monitord.checks.onvif.errors import Reason
from monitord.checks.onvif.events import EventListeners
from monitord.checks.onvif.fetch import Plan, StreamChecker
from monitord.checks.onvif.pullpoint import Event
from monitord.checks.onvif.targets import target, wants_recording
from monitord.clock import Clock
from monitord.config.models import Config, Device
from monitord.config.secrets import SecretUnavailable
from monitord.health.findings import Finding, FindingTracker, Status
from monitord.health.journal import EventStore, Journal
from monitord.supervise import Backoff

_log = log.get("monitord.onvif")
_MAX_EVENT_KEYS: Final = 64  # per device: bounds findings and /metrics series
_ARCHIVE_FIELDS: Final = (
    ("vendor", "manufacturer"), ("model", "model"), ("serial", "serial"), ("firmware", "firmware"),
)  # fmt: skip


class OnvifWatch:
    def __init__(
        self,
        config: Config,
        client: OnvifClient,
        store: EventStore,
        clock: Clock,
        stream_check: StreamChecker,
        on_event: Callable[[str], None] = lambda _d: None,
    ) -> None:
        self._client, self._clock = client, clock
        self.journal = Journal(store, clock, "onvif")
        self._stream_check, self._on_event = stream_check, on_event
        self.tracker = FindingTracker()
        self._identified: set[str] = set()  # identity read since the process started
        self.events: dict[str, dict[str, Event]] = {}
        self.auth_failures: dict[str, int] = {}
        self._devices: dict[str, OnvifDevice] = {}
        self._turns: dict[str, int] = {}
        self.listeners = EventListeners(clock, self._event)
        self.apply(config)

    def apply(self, config: Config) -> None:
        """Adopt a (re)loaded configuration; devices that keep ONVIF keep their memory."""
        self.devices: Mapping[str, Device] = config.polled_by("onvif")
        self._every = config.intervals_of("onvif")
        self.tracker.retain(self.devices)
        for memory in (self.events, self.auth_failures, self._devices, self._turns):
            for gone in memory.keys() - self.devices.keys():
                del memory[gone]
        self._identified &= self.devices.keys()
        self.listeners.retain(d.id for d in self.devices.values() if d.onvif and d.onvif.events)

    def intervals(self) -> dict[str, float]:
        return self._every

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
            identity=device_id not in self._identified or turn % settings.identity_every == 0,
            stream=settings.check_stream,
            recording=wants_recording(device),
        )
        result = await fetch.run(od, plan, self._stream_check)
        if device_id not in self.devices:  # removed by a reload meanwhile
            return settings.interval
        found = evaluate.findings(device_id, settings, result, self.events.get(device_id))
        if result.identity is not None:
            found.append(await self._identity(device, result.identity))
        auth = [f for f in found if f.check == "onvif_auth"]
        await self._observe(device, auth, 1)  # credentials: no second try to confirm
        await self._observe(device, [f for f in found if f.check != "onvif_auth"],
                            settings.max_attempts)  # fmt: skip
        if result.error is not None and result.error.reason == Reason.AUTH_REJECTED:
            n = self.auth_failures[device_id] = self.auth_failures.get(device_id, 0) + 1
            return Backoff(settings.auth_backoff, settings.auth_backoff_max).delay(n)
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
        """The store keeps what the device says about itself and records a firmware change
        (also one made while monitord was stopped); the configuration is compared with it."""
        self._identified.add(device.id)
        values = {"vendor": found.manufacturer, "model": found.model, "serial": found.serial,
                  "firmware": found.firmware}  # fmt: skip
        await self.journal.learn(device, "onvif", {k: v for k, v in values.items() if v})
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

    async def _observe(self, device: Device, found: list[Finding], attempts: int) -> None:
        await self.journal.changes(device, self.tracker.observe(found, self._clock.now(), attempts))
