"""The fleet being watched: its inventory, its health, and the check of one device."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from monitord import log
from monitord.checks.icmp.client import Pinger
from monitord.checks.icmp.evaluate import evaluate
from monitord.checks.icmp.metrics import DaemonMetrics, DeviceLabels
from monitord.clock import Clock
from monitord.config.models import Config, Device, IcmpOverrides, IcmpSettings
from monitord.health.recorder import StateWriter
from monitord.health.states import State
from monitord.health.tracker import DeviceHealth, HealthTracker, Transition
from monitord.inventory.archive import topology
from monitord.inventory.topology import Topology
from monitord.prevention.history import SampleSink, feed_icmp
from monitord.store.records import SavedState

_log = log.get("monitord.health")


class Desk(Protocol):
    """Whoever acts on confirmed changes (the ticket desk)."""

    async def on_transition(self, t: Transition, tracker: HealthTracker) -> None: ...


@dataclass(frozen=True, slots=True)
class Prepared:
    config: Config
    devices: dict[str, Device]
    settings: dict[str, IcmpSettings]
    topology: Topology
    intervals: dict[str, float]  # what `intervals` answers, worked out off the loop too


_LOUD = frozenset({State.DOWN, State.FLAPPING, State.DEGRADED})


class Fleet:
    def __init__(
        self,
        config: Config,
        pinger: Pinger,
        clock: Clock,
        metrics: DaemonMetrics,
        recorder: StateWriter,
        on_recheck: Callable[[Iterable[str]], None],
        desk: Desk | None = None,
        history: SampleSink | None = None,
    ) -> None:
        self._desk, self._history = desk, history
        self._pinger, self._clock, self._metrics = pinger, clock, metrics
        self._icmp_duration = metrics.probe_duration.labels("icmp")  # not looked up per check
        self._recorder, self._on_recheck = recorder, on_recheck
        self.tracker = HealthTracker({}, topology(config), config.flapping)
        self.apply(config)

    def prepare(self, config: Config) -> Prepared:
        """What `apply` needs, computed without changing anything (a reload runs this in a
        thread, so that 10 000 devices do not hold the event loop).

        Only changed devices get their settings merged again; the others keep theirs when
        the defaults they inherit from are unchanged too."""
        old = getattr(self, "config", None)
        before: dict[str, Device] = getattr(self, "devices", {})
        known: dict[str, IcmpSettings] = getattr(self, "settings", {})
        inherited = old is not None and (old.icmp, old.probe_defaults) == (
            config.icmp,
            config.probe_defaults,
        )
        remote = config.remote_sites()
        settings: dict[str, IcmpSettings] = {}
        here: dict[str, float] = {}  # what `intervals` answers, in one pass with the settings
        # Devices of one kind with the same overrides (most of them) share one object:
        # 10 000 equal IcmpSettings were ~5 MB and as many merges.
        merged: dict[tuple[object, IcmpOverrides], IcmpSettings] = {}
        for d in config.devices:
            was = before.get(d.id) if inherited else None
            if was is not None and was.kind == d.kind and was.icmp == d.icmp:
                s = known[d.id]
            elif (key := (d.kind, d.icmp)) in merged:
                s = merged[key]
            else:
                s = merged[key] = config.icmp_for(d)
            settings[d.id] = s
            if s.enabled and d.site not in remote:
                here[d.id] = s.interval
        return Prepared(config, dict(config.by_id()), settings, topology(config), here)

    def apply(self, config: Config, prepared: Prepared | None = None) -> None:
        """Adopt a (re)loaded configuration; devices that stay keep their health.

        `prepared`: `prepare(config)`'s answer (reloads run one at a time, so the fleet it
        was prepared against is still this one)."""
        p = prepared if prepared is not None and prepared.config is config else self.prepare(config)
        self.config, self.devices, self.settings = p.config, p.devices, p.settings
        self._intervals = p.intervals
        self.tracker.reconfigure(self.settings, p.topology, config.flapping)

    def restore(self, saved: dict[str, SavedState]) -> None:
        for device_id, s in saved.items():
            self.tracker.restore(device_id, State(s.state), s.since)

    def remote_sites(self) -> frozenset[str]:
        return self.config.remote_sites()

    def intervals(self) -> dict[str, float]:
        """What this daemon pings: not the devices of sites that a site poller watches."""
        return self._intervals

    def device_rows(self) -> Iterable[tuple[DeviceLabels, DeviceHealth]]:
        devices, health = self.devices, self.tracker.devices
        for device_id, device in list(devices.items()):
            h = health.get(device_id)
            if h is not None:
                yield DeviceLabels(device_id, device.site, device.kind.value), h

    async def check(self, device_id: str) -> float:
        """Ping one device, update its health, announce what changed; return the next delay."""
        device, settings = self.devices[device_id], self.settings[device_id]
        started = self._clock.monotonic()
        result = await self._pinger.ping(
            device.address, settings.count, settings.echo_interval, settings.timeout
        )
        self._icmp_duration.observe(self._clock.monotonic() - started)
        if device_id not in self.tracker.devices:  # removed by a reload meanwhile
            return settings.interval
        now = self._clock.now()
        outcome = evaluate(result, settings)
        verdict = self.tracker.observe(device_id, outcome, now)
        if self._history is not None:
            feed_icmp(self._history, device_id, outcome, now)
        self._recorder.checked(device_id, now)
        for transition in verdict.transitions:
            await self._recorder.record(transition)
            self._announce(transition)
            if self._desk is not None:
                await self._desk.on_transition(transition, self.tracker)
        if verdict.recheck:
            self._on_recheck(verdict.recheck)
        return verdict.next_check_in

    def _announce(self, t: Transition) -> None:
        device = self.devices.get(t.device_id)
        say = _log.warning if t.to_state in _LOUD else _log.info
        say(
            "device state changed",
            device=t.device_id,
            site=device.site if device else None,
            name=device.name if device else None,
            from_state=t.from_state.value,
            to_state=t.to_state.value,
            reason=t.reason,
        )
        self._metrics.state_changes.labels(t.to_state.value).inc()
