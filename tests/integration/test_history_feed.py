"""The history is fed from the real probe pipeline: SNMP polls (snmpsim) and ICMP outcomes."""

from __future__ import annotations

import datetime as dt

import pytest
from prometheus_client import CollectorRegistry

from monitord.checks.icmp.client import PingResult
from monitord.checks.icmp.evaluate import evaluate
from monitord.checks.snmp.service import SnmpService
from monitord.clock import SystemClock
from monitord.config.models import IcmpSettings
from monitord.inventory.archive import device_record, site_records
from monitord.prevention import history as H
from monitord.prevention.history import HistoryRecorder, feed_icmp
from monitord.store import Store
from tests.peers.snmp import Snmpsim
from tests.support.db import sqlite_only
from tests.support.snmpwatch import make_config

database_url = sqlite_only  # the checks are under test here, not the store


async def test_snmp_polls_feed_disks_temperatures_and_port_errors(
    env: None, store: Store, snmpsim: Snmpsim
) -> None:
    config = make_config(snmpsim.port, snmpsim.port)
    config = config.model_copy(
        update={
            "devices": tuple(
                d.model_copy(update={"address": "127.0.0.1"})
                for d in config.devices
                if d.id in ("sw", "nvr")
            )
        }
    )
    clock = SystemClock()
    store.devices.sync(
        site_records(config), [device_record(d) for d in config.devices], clock.now()
    )
    recorder = HistoryRecorder(store, dt.timedelta(days=35))
    service = SnmpService(
        config, store, clock, CollectorRegistry(), recheck=lambda _d: None, history=recorder
    )
    try:
        for _ in range(2):  # the second poll gives counter rates
            for device in ("sw", "nvr"):
                await service.watch.poll(device)
    finally:
        service.close()
    assert recorder.flush(clock.now()) > 0
    disks = {(h.subject, h.n) for h in store.metric_history.hours("nvr", H.DISK, 0)}
    assert disks == {("31", 2), ("32", 2)}
    [disk32] = [h for h in store.metric_history.hours("nvr", H.DISK, 0) if h.subject == "32"]
    assert disk32.mean == pytest.approx(0.99, abs=0.01)
    [sensor] = store.metric_history.hours("sw", H.TEMPERATURE, 0)
    assert (sensor.subject, sensor.high) == ("1001", pytest.approx(45.2))
    errors = store.metric_history.hours("sw", H.IF_ERRORS, 0)
    assert {h.subject for h in errors} <= {"1", "2", "3"} and all(h.n == 1 for h in errors)


def test_icmp_outcomes_feed_loss_and_rtt_but_not_outages() -> None:
    class Sink:
        def __init__(self) -> None:
            self.got: list[tuple[str, str, float]] = []

        def add(
            self, device: str, metric: str, subject: str, value: float, at: dt.datetime
        ) -> None:
            self.got.append((device, metric, value))

    sink, at, settings = Sink(), dt.datetime(2026, 6, 1, tzinfo=dt.UTC), IcmpSettings()
    lossy = evaluate(PingResult("10.0.0.1", 3, 2, (0.010, 0.030)), settings)
    feed_icmp(sink, "cam", lossy, at)
    dead = evaluate(PingResult("10.0.0.1", 3, 0, ()), settings)
    feed_icmp(sink, "cam", dead, at)
    assert sink.got == [("cam", H.LOSS, 33.3), ("cam", H.RTT, 20.0)]
