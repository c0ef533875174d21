"""Device health: SOFT/HARD confirmation, flapping and topology, edge-triggered.

`HealthTracker.observe()` takes one check's outcome and returns only the news: the HARD
transitions it caused (on this device and, through the topology, on devices below it), the
devices worth checking again at once, and when this device should be checked next.
Everything here is pure bookkeeping over injected instants; nothing sleeps or does I/O.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from monitord.checks.icmp.evaluate import Outcome
from monitord.config.models import Config, Device, FlappingSettings, IcmpSettings
from monitord.health.faults import Fault, fault_of, roots_of
from monitord.health.flapping import FlapDetector
from monitord.health.states import State, StateType
from monitord.inventory.topology import Topology

_FAILING = frozenset({State.DOWN, State.UNREACHABLE})
_PROBLEMS = _FAILING | {State.DEGRADED}


@dataclass(frozen=True, slots=True)
class Transition:
    """A HARD state change: the only thing that is logged, stored and acted on."""

    device_id: str
    at: dt.datetime
    from_state: State
    to_state: State
    reason: str
    observation: dict[str, Any]


@dataclass(slots=True)
class DeviceHealth:
    """What is known of one device now."""

    state: State = State.PENDING
    state_type: StateType = StateType.HARD
    since: dt.datetime | None = None
    attempt: int = 0
    soft_state: State | None = None
    last_check: dt.datetime | None = None
    last: Outcome | None = None
    flap: FlapDetector = field(default_factory=FlapDetector)


@dataclass(frozen=True, slots=True)
class Verdict:
    transitions: list[Transition]
    recheck: list[str]
    next_check_in: float


class HealthTracker:
    def __init__(
        self,
        settings: dict[str, IcmpSettings],
        topology: Topology,
        flapping: FlappingSettings | None = None,
    ) -> None:
        self.settings = settings
        self.topology = topology
        self.flapping = flapping or FlappingSettings()
        self.devices: dict[str, DeviceHealth] = {d: self._fresh() for d in settings}

    def _fresh(self) -> DeviceHealth:
        f = self.flapping
        return DeviceHealth(flap=FlapDetector(f.window, f.high_pct, f.low_pct))

    def restore(self, device_id: str, state: State, since: dt.datetime) -> None:
        """Start from a persisted HARD state, so a restart repeats no transition."""
        if device_id in self.devices:
            health = self.devices[device_id]
            health.state, health.since, health.state_type = state, since, StateType.HARD

    def reconfigure(
        self,
        settings: dict[str, IcmpSettings],
        topology: Topology,
        flapping: FlappingSettings | None = None,
    ) -> None:
        """Adopt a reloaded inventory; known devices keep their state."""
        self.settings, self.topology = settings, topology
        self.flapping = flapping or self.flapping
        self.devices = {d: self.devices.get(d) or self._fresh() for d in settings}

    def is_down(self, device_id: str) -> bool:
        health = self.devices.get(device_id)
        return health is not None and health.state in _FAILING

    # The read-only view the ticket desk uses (ticketing.ports.HealthView).
    def state(self, device_id: str) -> State | None:
        health = self.devices.get(device_id)
        return health.state if health is not None else None

    def fault(self, device: Device, config: Config) -> Fault | None:
        return fault_of(device, config, self)

    def roots(self, device_id: str) -> list[str]:
        return roots_of(device_id, self)

    def observe(self, device_id: str, outcome: Outcome, now: dt.datetime) -> Verdict:
        health = self.devices[device_id]
        settings = self.settings[device_id]
        health.last_check, health.last = now, outcome
        out: list[Transition] = []
        recheck: list[str] = []
        flap_change = health.flap.add(outcome.state)
        if flap_change is True:
            pct = health.flap.change_pct()
            reason = f"flapping: state changed {pct:.0f}% over the last checks"
            self._set(health, device_id, State.FLAPPING, now, out, outcome, reason)
            return Verdict(out, recheck, settings.interval)
        if health.flap.flapping:
            return Verdict(out, recheck, settings.interval)
        if flap_change is False:
            # Calm again: the current outcome is the state, without a fresh confirmation.
            target = self._parents_verdict(device_id) if outcome.state == State.DOWN else None
            target = target or outcome.state
            self._set(
                health, device_id, target, now, out, outcome, f"flapping stopped: {outcome.reason}"
            )
            self._cascade(device_id, now, out)
            return Verdict(out, recheck, settings.interval)

        if outcome.state == State.UP:
            self._recover(device_id, health, outcome, now, out, recheck)
            return Verdict(out, recheck, settings.interval)

        if health.state in _PROBLEMS and health.state != State.UNREACHABLE:
            return self._change_of_kind(device_id, health, settings, outcome, now, out, recheck)
        if health.state_type == StateType.HARD and health.state == State.UNREACHABLE:
            target = self._confirmed_target(device_id, outcome.state)
            if target is None:
                return Verdict(out, recheck, settings.retry_interval)
            if target == health.state:
                return Verdict(out, recheck, settings.interval)
            # Its uplink is back but it still fails: the failure may predate the recovery, or
            # the device may still be booting. Confirm it like any new fault before blaming it.

        if outcome.state == State.DOWN and health.attempt == 0:
            # The uplink is the likelier culprit: check it now rather than at its next turn.
            parents = self.topology.parents.get(device_id, ())
            recheck += [p for p in parents if not self.is_down(p)]
        attempt = health.attempt + 1
        if attempt < settings.max_attempts:
            self._soft(health, outcome.state, attempt)
            return Verdict(out, recheck, settings.retry_interval)
        target = self._confirmed_target(device_id, outcome.state)
        if target is None:  # a parent is failing but not yet confirmed: wait for it
            self._soft(health, outcome.state, settings.max_attempts)
            return Verdict(out, recheck, settings.retry_interval)
        self._set(
            health, device_id, target, now, out, outcome, self._reason(device_id, target, outcome)
        )
        self._cascade(device_id, now, out)
        return Verdict(out, recheck, settings.interval)

    def _change_of_kind(
        self,
        device_id: str,
        health: DeviceHealth,
        settings: IcmpSettings,
        outcome: Outcome,
        now: dt.datetime,
        out: list[Transition],
        recheck: list[str],
    ) -> Verdict:
        """A confirmed problem that now shows another kind (DOWN <-> DEGRADED).

        Confirmed like a new fault: max_attempts checks in a row at the retry interval. A
        check straddling the moment a link comes back loses 1 or 2 of its echoes; taken as
        news at once, that turned every recovery into a DEGRADED fault (issue 18).
        """
        target = self._confirmed_target(device_id, outcome.state)
        if target is None:  # a parent is failing but not yet confirmed: wait for it
            return Verdict(out, recheck, settings.retry_interval)
        if target == health.state:  # the same problem as confirmed: any other kind was noise
            health.state_type, health.attempt, health.soft_state = StateType.HARD, 0, None
            return Verdict(out, recheck, settings.interval)
        same = health.state_type == StateType.SOFT and health.soft_state == outcome.state
        attempt = health.attempt + 1 if same else 1
        if attempt == 1 and outcome.state == State.DOWN:
            parents = self.topology.parents.get(device_id, ())
            recheck += [p for p in parents if not self.is_down(p)]
        if attempt < settings.max_attempts:
            self._soft(health, outcome.state, attempt)
            return Verdict(out, recheck, settings.retry_interval)
        reason = self._reason(device_id, target, outcome)
        self._set(health, device_id, target, now, out, outcome, reason)
        self._cascade(device_id, now, out)
        return Verdict(out, recheck, settings.interval)

    def _confirmed_target(self, device_id: str, seen: State) -> State | None:
        return self._parents_verdict(device_id) if seen == State.DOWN else seen

    def _reason(self, device_id: str, target: State, outcome: Outcome) -> str:
        if target == State.UNREACHABLE:
            return self._unreachable_reason(device_id)
        return outcome.reason

    def _soft(self, health: DeviceHealth, state: State, attempt: int) -> None:
        health.state_type, health.soft_state, health.attempt = StateType.SOFT, state, attempt

    def _recover(
        self,
        device_id: str,
        health: DeviceHealth,
        outcome: Outcome,
        now: dt.datetime,
        out: list[Transition],
        recheck: list[str],
    ) -> None:
        was_failing = health.state in _FAILING
        if health.state != State.UP:
            self._set(health, device_id, State.UP, now, out, outcome, outcome.reason)
        else:
            health.state_type, health.attempt, health.soft_state = StateType.HARD, 0, None
        if was_failing:
            # Devices hidden behind this one may be fine now: look at them straight away.
            recheck += [c for c in self.topology.descendants(device_id) if self.is_down(c)]

    def _parents_verdict(self, device_id: str) -> State | None:
        """DOWN if some parent is up, UNREACHABLE if all are down, None while one is unsure."""
        parents = self.topology.parents.get(device_id, ())
        if not parents:
            return State.DOWN
        unsure = False
        for parent in parents:
            health = self.devices.get(parent)
            if health is None or health.state in _FAILING:
                continue
            if health.state_type == StateType.SOFT and health.soft_state == State.DOWN:
                unsure = True
                continue
            return State.DOWN
        return None if unsure else State.UNREACHABLE

    def _unreachable_reason(self, device_id: str) -> str:
        return "all parents down: " + ", ".join(self.topology.parents.get(device_id, ()))

    def _cascade(self, device_id: str, now: dt.datetime, out: list[Transition]) -> None:
        """A device that went down may cut off children already confirmed DOWN."""
        if self.devices[device_id].state not in _FAILING:
            return
        for child in self.topology.descendants(device_id):
            health = self.devices.get(child)
            if (
                health is not None
                and health.state == State.DOWN
                and self._parents_verdict(child) == State.UNREACHABLE
            ):
                last = health.last or Outcome(State.DOWN, "")
                self._set(
                    health,
                    child,
                    State.UNREACHABLE,
                    now,
                    out,
                    last,
                    self._unreachable_reason(child),
                )

    def _set(
        self,
        health: DeviceHealth,
        device_id: str,
        state: State,
        now: dt.datetime,
        out: list[Transition],
        outcome: Outcome,
        reason: str,
    ) -> None:
        previous = health.state
        health.state, health.since = state, now
        health.state_type, health.attempt, health.soft_state = StateType.HARD, 0, None
        if previous != state:
            observation = {**outcome.observation, "check": outcome.state.value}
            out.append(Transition(device_id, now, previous, state, reason, observation))
