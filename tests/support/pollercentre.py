"""A poller centre as the daemon makes one, without a ticket desk: the configuration's devices
in the store's archive, a health tracker over them."""

from __future__ import annotations

from collections.abc import Callable

from monitord.clock import Clock
from monitord.config import Config
from monitord.health.tracker import HealthTracker
from monitord.inventory.archive import device_record, site_records, topology
from monitord.sites.centre import PollerCentre
from monitord.store import Store


def bare_centre(store: Store, clock: Clock, config: Callable[[], Config]) -> PollerCentre:
    now = config()
    store.devices.sync(site_records(now), [device_record(d) for d in now.devices], clock.now())
    tracker = HealthTracker({d.id: now.icmp_for(d) for d in now.devices}, topology(now))
    return PollerCentre(store, clock, config, tracker, None)
