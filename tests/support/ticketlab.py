"""A store with a configured inventory, a health tracker and a ticket desk on a fake clock."""

from __future__ import annotations

import datetime as dt

import yaml

from monitord.clock import FakeClock
from monitord.config import Config
from monitord.health.states import State
from monitord.health.tracker import HealthTracker, Transition
from monitord.inventory.archive import device_record, site_records, topology
from monitord.notify.messages import Routing
from monitord.store import Store
from monitord.ticketing.desk import TicketDesk
from tests.support.contracts import CONTRACTS

T0 = dt.datetime(2026, 6, 1, 2, 0, tzinfo=dt.UTC)
CAMERAS = [f"cam-{i:02d}" for i in range(1, 13)]


def make_config(database: str = "sqlite://", zone: str = "city") -> Config:
    return Config.model_validate(config_data(database, zone))


def config_data(database: str, zone: str) -> dict[str, object]:
    contracts = yaml.safe_load((CONTRACTS / "seed-000.yaml").read_text(encoding="utf-8"))
    device = {"site": "s1", "kind": "camera", "parents": ["sw"]}
    return {
        "database": database,
        "contracts": contracts["contracts"],
        "sites": [{"id": "s1", "name": "Site", "zone": zone, "contract": "seed-000"}],
        "devices": [
            {
                "id": "sw",
                "name": "Gate switch",
                "kind": "switch",
                "address": "10.0.0.1",
                "site": "s1",
            },
            {"id": "nvr", "name": "NVR", "kind": "nvr", "address": "10.0.0.2", "site": "s1"},
            *[
                {**device, "id": c, "name": c, "address": f"10.0.1.{i}"}
                for i, c in enumerate(CAMERAS, start=1)
            ],
        ],
    }


class Lab:
    """A store holding the config's inventory, a health tracker and a ticket desk."""

    def __init__(self, store: Store, zone: str = "city", config: Config | None = None) -> None:
        self.config = config or make_config(zone=zone)
        self.store = store
        store.devices.sync(
            site_records(self.config), [device_record(d) for d in self.config.devices], T0
        )
        self.clock = FakeClock(T0)
        self.tracker = HealthTracker(
            {d.id: self.config.icmp_for(d) for d in self.config.devices}, topology(self.config)
        )
        self.desk = TicketDesk(store, self.clock, self.config, messages=Routing.from_config)

    async def set(self, device: str, state: State, minutes: float = 0) -> None:
        at = T0 + dt.timedelta(minutes=minutes)
        health = self.tracker.devices[device]
        before, health.state = health.state, state
        await self.desk.on_transition(
            Transition(device, at, before, state, "test", {}), self.tracker
        )
