"""Faults: a confirmed problem on a root device, with everything it takes down (M4).

A device whose every parent is down is UNREACHABLE and never a fault of its own: it is part
of the impact of the root device(s) above it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from monitord.config.contracts import FaultKind
from monitord.config.models import Config, Device, DeviceKind
from monitord.health.states import State

if TYPE_CHECKING:  # the tracker asks these functions for its own view (tracker.fault, .roots)
    from monitord.health.tracker import HealthTracker

_FAULT_OF_STATE = {
    State.DOWN: FaultKind.DOWN,
    State.DEGRADED: FaultKind.DEGRADED,
    State.FLAPPING: FaultKind.FLAPPING,
}


@dataclass(frozen=True, slots=True)
class Impact:
    """What a fault takes down: the root itself and everything cut off behind it."""

    devices: tuple[str, ...] = ()  # every affected device, the root first
    # Cameras this fault darkens, of all the site's cameras: "a large share of a site's
    # cameras dark" (C1) is judged per fault, so unrelated dead cameras do not add up.
    by_kind: dict[str, int] = field(default_factory=dict)
    cameras_dark: int = 0
    cameras_at_site: int = 0
    recording_affected: bool = False
    access_point_out: bool = False

    @property
    def camera_dark_share(self) -> float:
        return self.cameras_dark / self.cameras_at_site if self.cameras_at_site else 0.0


@dataclass(frozen=True, slots=True)
class Fault:
    """A confirmed problem on a root device."""

    device_id: str
    site: str
    kind: FaultKind
    device_kind: str
    criticality: str
    zone: str
    impact: Impact


def fault_kind(state: State) -> FaultKind | None:
    return _FAULT_OF_STATE.get(state)


def roots_of(device_id: str, tracker: HealthTracker) -> list[str]:
    """The DOWN devices above an UNREACHABLE one: where its outage comes from."""
    roots: list[str] = []
    seen: set[str] = set()
    frontier = list(tracker.topology.parents.get(device_id, ()))
    while frontier:
        parent = frontier.pop()
        if parent in seen or parent not in tracker.devices:
            continue
        seen.add(parent)
        state = tracker.devices[parent].state
        if state == State.DOWN:
            roots.append(parent)
        elif state == State.UNREACHABLE:
            frontier.extend(tracker.topology.parents.get(parent, ()))
    return sorted(roots)


@dataclass(frozen=True, slots=True)
class _Index:
    """What fault_of looks up in the configuration, built once per configuration."""

    config: Config
    devices: dict[str, Device]
    cameras_at_site: Counter[str]
    zone_of_site: dict[str, str]


_index: _Index | None = None


def _index_of(config: Config) -> _Index:
    # A storm asks for hundreds of faults a second; scanning 5 000 devices for each took
    # most of the event loop's time. One entry: the daemon has one configuration at a time.
    global _index
    if _index is None or _index.config is not config:
        _index = _Index(
            config,
            {d.id: d for d in config.devices},
            Counter(d.site for d in config.devices if d.kind == DeviceKind.CAMERA),
            {s.id: s.zone.value for s in config.sites},
        )
    return _index


def fault_of(device: Device, config: Config, tracker: HealthTracker) -> Fault | None:
    """The fault that `device` is now, or None if it is healthy or merely unreachable."""
    health = tracker.devices.get(device.id)
    kind = fault_kind(health.state) if health else None
    if kind is None:
        return None
    index = _index_of(config)
    devices = index.devices
    affected = [device.id]
    if kind == FaultKind.DOWN:
        affected += [
            d
            for d in tracker.topology.descendants(device.id)
            if d in tracker.devices and tracker.devices[d].state == State.UNREACHABLE
        ]
    kinds = Counter(devices[d].kind.value for d in affected if d in devices)
    out = {devices[d].kind for d in affected if d in devices}
    return Fault(
        device_id=device.id,
        site=device.site,
        kind=kind,
        device_kind=device.kind.value,
        criticality=device.criticality.value,
        zone=index.zone_of_site.get(device.site, "city"),
        impact=Impact(
            devices=tuple(affected),
            by_kind=dict(kinds),
            cameras_dark=kinds.get(DeviceKind.CAMERA.value, 0),
            cameras_at_site=index.cameras_at_site[device.site],
            recording_affected=kind == FaultKind.DOWN and DeviceKind.NVR in out,
            access_point_out=kind == FaultKind.DOWN and DeviceKind.ACCESS_CONTROLLER in out,
        ),
    )
