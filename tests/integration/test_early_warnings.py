"""Early warnings on a real store (SQLite and PostgreSQL): history -> trends -> tickets."""

from __future__ import annotations

import asyncio
import datetime as dt
import random

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from monitord.clock import FakeClock
from monitord.config import Config
from monitord.inventory.archive import device_record, site_records
from monitord.notify.messages import Routing
from monitord.prevention import history as H
from monitord.prevention.history import HistoryRecorder, hour_of
from monitord.prevention.warning_metrics import WarningCollector
from monitord.prevention.warnings import EarlyWarningDesk
from monitord.prevention.windows import WindowBook
from monitord.store import Store
from monitord.store.records import WindowRecord
from monitord.ticketing import tickets
from monitord.ticketing.lifecycle import EventKind
from tests.support.ticketlab import config_data
from tests.support.wait import until

T0 = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
STEP = dt.timedelta(minutes=20)


class Lab:
    def __init__(self, store: Store, retention: dt.timedelta = dt.timedelta(days=35)) -> None:
        self.config = Config.model_validate(config_data("sqlite://", "city"))
        self.store = store
        store.devices.sync(
            site_records(self.config), [device_record(d) for d in self.config.devices], T0
        )
        self.clock = FakeClock(T0)
        self.book = WindowBook(self.config, store, self.clock.monotonic, refresh_every=0)
        self.history = HistoryRecorder(store, retention, self.book.covers)
        self.warnings = EarlyWarningDesk(
            store, self.clock, self.config, self.book, messages=Routing.from_config
        )

    def feed(self, days: float, sample: dict[tuple[str, str, str], object]) -> None:
        """Samples every 20 minutes for `days` from the current instant; flushed hourly."""
        at = self.clock.now()
        end = at + dt.timedelta(days=days)
        while at < end:
            for (device, metric, subject), value in sample.items():
                v = value(at) if callable(value) else value
                if v is not None:
                    self.history.add(device, metric, subject, float(v), at)
            at += STEP
            if at.minute == 0:
                self.history.flush(at)
        self.clock.set_wall(at)

    def warning_tickets(self) -> list[tuple[str | None, str, str]]:
        return [(t.root_device, t.rule, t.status) for t in self.store.tickets.recent()]


def filling(start: dt.datetime, level: float, per_day: float, noise: float = 0.002):  # type: ignore[no-untyped-def]
    rng = random.Random(1)
    return lambda at: level + per_day * (at - start) / dt.timedelta(days=1) + rng.gauss(0, noise)


async def test_a_filling_nvr_disk_warns_days_ahead_and_clears_when_it_stops(store: Store) -> None:
    lab = Lab(store)
    # 80 % and 2 points a day: full 10 days after T0; after 7 days, ~3 days ahead.
    lab.feed(7, {("nvr", H.DISK, "31"): filling(T0, 0.80, 0.02)})
    opened, resolved = lab.warnings.run_once(lab.clock.now())
    assert (opened, resolved) == (1, 0)
    [ticket] = store.tickets.recent()
    assert (ticket.root_device, ticket.rule, ticket.ticket_class) == ("nvr", "early-disk_full", "C")
    assert ticket.fault_kind == "warning" and "磁盘将满" in ticket.title
    [first] = store.tickets.events(ticket.id)
    assert "in about 3.0 days" in first.text and "天后" in first.text, first.text
    days = lab.warnings.days_to_full[("nvr", "31")]
    assert days == pytest.approx(3.0, abs=0.25)
    registry = CollectorRegistry()
    registry.register(WarningCollector(lab.warnings))
    text = generate_latest(registry).decode()
    series = 'monitord_storage_time_to_full_seconds{device="nvr",kind="nvr",site="s1",volume="31"}'
    [line] = [line for line in text.splitlines() if line.startswith(series)]
    assert float(line.split()[-1]) == pytest.approx(days * 86_400)

    assert lab.warnings.run_once(lab.clock.now()) == (0, 0)  # one ticket per device and rule
    # Old recordings are overwritten from now on: the disk stays where it is.
    lab.feed(8, {("nvr", H.DISK, "31"): 0.94})
    assert lab.warnings.run_once(lab.clock.now()) == (0, 1)
    assert lab.warning_tickets() == [("nvr", "early-disk_full", "resolved")]
    assert lab.warnings.days_to_full[("nvr", "31")] == float("inf")


async def test_noise_opens_nothing(store: Store) -> None:
    lab = Lab(store)
    rng = random.Random(7)
    lab.feed(
        7,
        {
            ("nvr", H.DISK, "31"): lambda _: 0.97 + rng.gauss(0, 0.01),
            ("cam-01", H.LOSS, ""): lambda _: max(0.0, rng.gauss(2, 3)),
            ("cam-01", H.RTT, ""): lambda _: 20 + rng.expovariate(0.1),
            ("sw", H.IF_ERRORS, "3"): lambda _: rng.expovariate(10),
        },
    )
    assert lab.warnings.run_once(lab.clock.now()) == (0, 0)
    assert store.tickets.recent() == []


async def test_reboots_and_creeping_loss_open_one_ticket_each(store: Store) -> None:
    lab = Lab(store)
    reboots = {T0 + dt.timedelta(days=6, hours=h) for h in (2, 9, 15)}
    lab.feed(
        7,
        {
            ("sw", H.REBOOTS, ""): lambda at: 1.0 if at in reboots else None,
            # Loss creeping from 0 % by 1.5 points a day: 10 % on day 6.7.
            ("cam-02", H.LOSS, ""): filling(T0, 0.0, 1.5, noise=0.5),
        },
    )
    assert lab.warnings.run_once(lab.clock.now()) == (2, 0)
    assert sorted(lab.warning_tickets()) == [
        ("cam-02", "early-loss", "open"),
        ("sw", "early-reboots", "open"),
    ]
    lab.feed(1, {("cam-02", H.LOSS, ""): filling(T0, 0.0, 1.5, noise=0.5)})
    opened, resolved = lab.warnings.run_once(lab.clock.now())
    assert (opened, resolved) == (0, 1)  # a day without reboots; the loss still creeps
    assert ("sw", "early-reboots", "resolved") in lab.warning_tickets()


async def test_no_warning_for_a_device_under_a_maintenance_window(store: Store) -> None:
    lab = Lab(store)
    lab.feed(7, {("nvr", H.DISK, "31"): filling(T0, 0.80, 0.02)})
    now = lab.clock.now()
    store.windows.add(
        WindowRecord(0, "s1", None, None, now, now + dt.timedelta(hours=2), "", "li", now)
    )
    assert lab.warnings.run_once(now) == (0, 0)
    assert lab.warnings.run_once(now + dt.timedelta(hours=2)) == (1, 0)


async def test_the_history_stays_bounded(store: Store) -> None:
    lab = Lab(store, retention=dt.timedelta(days=2))
    lab.feed(5, {("nvr", H.DISK, "31"): 0.5, ("nvr", H.DISK, "32"): 0.4})
    now_hour = hour_of(lab.clock.now())
    for volume in ("31", "32"):
        hours = [h for h in store.metric_history.hours("nvr", H.DISK, 0) if h.subject == volume]
        assert len(hours) <= 48 + 1 and min(h.hour for h in hours) >= now_hour - 48
        assert len(hours) > 1
        assert all(h.n == 3 and h.low == h.high == pytest.approx(h.mean) for h in hours[:-1])
    assert lab.history.flush(lab.clock.now()) == 0  # nothing kept in memory after a flush


async def test_a_warning_closed_by_people_is_not_reopened_at_once(store: Store) -> None:
    lab = Lab(store)
    lab.feed(7, {("nvr", H.DISK, "31"): filling(T0, 0.80, 0.02)})
    assert lab.warnings.run_once(lab.clock.now()) == (1, 0)
    [ticket] = store.tickets.recent()
    for kind in (EventKind.RESOLVED, EventKind.VERIFIED, EventKind.CLOSED):
        tickets.append(store, ticket.id, kind, "li", lab.clock.now(), "disk replaced later")
    lab.feed(0.5, {("nvr", H.DISK, "31"): filling(T0, 0.80, 0.02)})
    assert lab.warnings.run_once(lab.clock.now()) == (0, 0)  # within reopen_within (24 h)
    lab.feed(0.6, {("nvr", H.DISK, "31"): filling(T0, 0.80, 0.02)})
    assert lab.warnings.run_once(lab.clock.now()) == (1, 0)  # still filling a day later
    assert [t.status for t in store.tickets.recent()] == ["open", "closed"]


async def test_reboots_during_a_window_are_not_counted(store: Store) -> None:
    lab = Lab(store)
    now = lab.clock.now()
    store.windows.add(
        WindowRecord(0, None, "sw", None, now, now + dt.timedelta(hours=3), "firmware", "li", now)
    )
    for minutes in (10, 40, 70):  # the upgrade reboots it three times
        lab.history.add("sw", H.REBOOTS, "", 1.0, now + dt.timedelta(minutes=minutes))
    lab.history.add("sw", H.REBOOTS, "", 1.0, now + dt.timedelta(hours=5))
    lab.history.flush(now + dt.timedelta(hours=6))
    assert store.metric_history.totals(H.REBOOTS, 0) == {("sw", ""): 1.0}


async def test_temperature_toward_its_limit_and_growing_clock_drift(store: Store) -> None:
    data = config_data("sqlite://", "city")
    for device in data["devices"]:  # type: ignore[attr-defined]
        if device["id"] == "sw":
            device["snmp"] = {"community": {"env": "UNUSED"}, "temperature_critical_c": 70}
    lab = Lab(store)
    lab.config = Config.model_validate(data)
    lab.warnings.apply(lab.config)
    lab.feed(
        3,
        {
            # 52 °C rising 5 °C a day: 70 °C on day 3.6; a camera's clock drifting 3 s a day.
            ("sw", H.TEMPERATURE, "1001"): filling(T0, 52, 5, noise=0.3),
            ("cam-03", H.CLOCK_DRIFT, ""): filling(T0, 0.5, 3, noise=0.2),
            # No limit for a device without SNMP settings: its sensor is ignored.
            ("nvr", H.TEMPERATURE, "1"): filling(T0, 52, 5, noise=0.3),
        },
    )
    assert lab.warnings.run_once(lab.clock.now()) == (2, 0)
    assert sorted(lab.warning_tickets()) == [
        ("cam-03", "early-clock_drift", "open"),
        ("sw", "early-temperature", "open"),
    ]
    [sw] = [t for t in store.tickets.recent() if t.root_device == "sw"]
    [first] = store.tickets.events(sw.id)
    assert "sensor 1001: 67.0 °C now" in first.text and "70.0 °C" in first.text, first.text


async def test_the_daemon_loop_judges_soon_after_start_then_hourly(store: Store) -> None:
    lab = Lab(store)
    lab.feed(7, {("nvr", H.DISK, "31"): filling(T0, 0.80, 0.02)})
    loop = asyncio.create_task(lab.warnings.run(3600))
    await asyncio.sleep(0)  # it starts its first wait now
    try:
        await lab.clock.advance(59)
        assert lab.warnings.days_to_full == {}
        await lab.clock.advance(1)
        await until(lambda: ("nvr", "31") in lab.warnings.days_to_full)
        await until(lambda: len(store.tickets.recent()) == 1)
    finally:
        loop.cancel()
        await asyncio.gather(loop, return_exceptions=True)
