"""Lookups into a configuration's devices, built once per configuration.

A centre with 200 sites holds 20 000 devices; a scan of them per push, per ticket shown or
per silent poller per pass was what dominated it (bench/pollers.py). `Config` is a frozen
model, but `model_copy` carries a cached attribute over to the copy, so the index is kept
here instead, keyed by the identity of the devices tuple (held, so the id stays its own).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass

from monitord.config.models import Config, Device

_KEEP = 4  # configurations indexed at once (the running one, a reload's, a test's few)


@dataclass(frozen=True, slots=True)
class DeviceIndex:
    devices: tuple[Device, ...]  # held: the key below is its id
    by_id: Mapping[str, Device]
    by_site: Mapping[str, tuple[Device, ...]]

    def at(self, sites: set[str] | frozenset[str] | tuple[str, ...]) -> list[Device]:
        """The devices of these sites, in configuration order."""
        if len(sites) == 1:
            return list(self.by_site.get(next(iter(sites)), ()))
        wanted = set(sites)
        return [d for d in self.devices if d.site in wanted]


_made: dict[int, DeviceIndex] = {}
_lock = threading.Lock()  # called from worker threads too


def device_index(config: Config) -> DeviceIndex:
    devices = config.devices
    found = _made.get(id(devices))
    if found is not None and found.devices is devices:
        return found
    by_site: dict[str, list[Device]] = {}
    for d in devices:
        by_site.setdefault(d.site, []).append(d)
    made = DeviceIndex(
        devices, {d.id: d for d in devices}, {s: tuple(ds) for s, ds in by_site.items()}
    )
    with _lock:
        while len(_made) >= _KEEP:
            del _made[next(iter(_made))]
        _made[id(devices)] = made
    return made
