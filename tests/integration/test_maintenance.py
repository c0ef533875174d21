"""Maintenance windows through the real ticket desk and store (SQLite and PostgreSQL).

A device down during a window and still down after it gets exactly one ticket, at the
window's end, also when the daemon restarts inside the window; one that recovers inside the
window gets none.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from monitord.clock import FakeClock
from monitord.config import Config
from monitord.health.states import State
from monitord.health.tracker import HealthTracker, Transition
from monitord.inventory.archive import device_record, site_records, topology
from monitord.notify.messages import Routing
from monitord.prevention.window_watch import watch_windows
from monitord.prevention.windows import WindowBook
from monitord.store import Store
from monitord.store.records import OperationEvent, SavedState, WindowRecord
from monitord.ticketing.desk import TicketDesk
from tests.support.ticketlab import T0, config_data
from tests.support.wait import until

MIN = dt.timedelta(minutes=1)


class WindowLab:
    def __init__(self, store: Store, windows: list[dict[str, Any]] | None = None) -> None:
        data = config_data("sqlite://", "city") | {"maintenance": windows or []}
        self.config = Config.model_validate(data)
        self.store = store
        store.devices.sync(
            site_records(self.config), [device_record(d) for d in self.config.devices], T0
        )
        self.clock = FakeClock(T0)
        self.restart()
        for device in self.tracker.devices.values():
            device.state = State.UP

    def restart(self) -> None:
        """A new process: fresh tracker (states restored from the store) and desk."""
        self.tracker = HealthTracker(
            {d.id: self.config.icmp_for(d) for d in self.config.devices}, topology(self.config)
        )
        for saved in self.store.states.load().values():
            self.tracker.restore(saved.device_id, State(saved.state), saved.since)
        self.book = WindowBook(self.config, self.store, self.clock.monotonic, refresh_every=0)
        self.desk = TicketDesk(
            self.store, self.clock, self.config, windows=self.book, messages=Routing.from_config
        )

    async def set(self, device: str, state: State) -> None:
        health = self.tracker.devices[device]
        before, health.state = health.state, state
        at = self.clock.now()
        await self.desk.on_transition(
            Transition(device, at, before, state, "test", {}), self.tracker
        )

    def window(self, device: str, start: dt.timedelta, end: dt.timedelta) -> WindowRecord:
        return self.store.windows.add(
            WindowRecord(0, None, device, None, T0 + start, T0 + end, "swap a disk", "li", T0)
        )

    async def at(self, minutes: float) -> None:
        await self.clock.advance((T0 + minutes * MIN - self.clock.now()).total_seconds())


async def test_down_through_the_window_opens_one_ticket_at_its_end(store: Store) -> None:
    lab = WindowLab(store)
    lab.window("nvr", 0 * MIN, 30 * MIN)
    await lab.at(5)
    await lab.set("nvr", State.DOWN)
    assert store.tickets.recent() == [] and lab.desk.held == {"nvr"}
    await lab.at(29)
    await lab.desk.release_held(lab.tracker)
    assert store.tickets.recent() == []
    await lab.at(30)
    await lab.desk.release_held(lab.tracker)
    [ticket] = store.tickets.recent()
    assert (ticket.root_device, ticket.opened_at, ticket.ticket_class) == (
        "nvr",
        T0 + 30 * MIN,
        "A",
    )
    await lab.at(31)
    await lab.desk.release_held(lab.tracker)
    await lab.desk.reconcile(lab.tracker)
    assert len(store.tickets.recent()) == 1 and lab.desk.held == set()


async def test_recovered_inside_the_window_opens_nothing(store: Store) -> None:
    lab = WindowLab(store)
    lab.window("sw", 0 * MIN, 30 * MIN)
    await lab.at(1)
    await lab.set("sw", State.DOWN)
    await lab.at(10)
    await lab.set("sw", State.UP)
    await lab.at(45)
    await lab.desk.release_held(lab.tracker)
    assert store.tickets.recent() == [] and lab.desk.held == set()


async def test_a_restart_inside_the_window_still_opens_exactly_one_ticket(store: Store) -> None:
    lab = WindowLab(store)
    lab.window("nvr", 0 * MIN, 30 * MIN)
    await lab.at(5)
    await lab.set("nvr", State.DOWN)
    store.states.record_change(  # what the recorder writes
        OperationEvent("nvr", T0 + 5 * MIN, "state", "up", "down", "test"),
        SavedState("nvr", "down", T0 + 5 * MIN, T0 + 5 * MIN, "test"),
    )
    old = lab.desk
    lab.restart()
    await lab.at(10)
    await lab.desk.reconcile(lab.tracker)  # what the daemon does at start
    assert store.tickets.recent() == [] and lab.desk.held == {"nvr"}
    await lab.at(30)
    await asyncio.gather(lab.desk.release_held(lab.tracker), old.release_held(lab.tracker))
    assert len(store.tickets.recent()) == 1


async def test_a_cron_window_from_the_configuration_and_the_watch_loop(store: Store) -> None:
    # 10:00-10:30 every day, Shanghai time (T0 is 02:00 UTC = 10:00 +08).
    window = {"id": "daily", "site": "s1", "cron": "0 10 * * *", "duration": "30m"}
    lab = WindowLab(store, [window])
    loop = asyncio.create_task(watch_windows(lab.desk, lab.tracker, lab.book, lab.clock))
    try:
        await lab.at(2)
        await lab.set("sw", State.DOWN)
        assert store.tickets.recent() == []
        await lab.at(29)
        await until(lambda: lab.desk.held == {"sw"})
        assert store.tickets.recent() == []
        await lab.at(30)  # the loop sleeps until the cover's end, not a full period
        await until(lambda: len(store.tickets.recent()) == 1)
        [ticket] = store.tickets.recent()
        assert ticket.opened_at == T0 + 30 * MIN and ticket.root_device == "sw"
    finally:
        loop.cancel()
        await asyncio.gather(loop, return_exceptions=True)
