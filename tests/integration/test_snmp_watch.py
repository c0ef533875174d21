"""SNMP polling in the daemon's pipeline, against snmpd and snmpsim, into a real store.

Shows: a reboot (snmpd restarted) in the operation record exactly once; a port down, a PoE
fault and a full disk confirmed as findings after max_attempts polls and recorded once;
the metrics carry them without a credential; credentials never reach the logs.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from structlog.testing import capture_logs

from monitord.checks.snmp import wire as snmp_wire
from monitord.checks.snmp.service import SnmpService
from monitord.clock import SystemClock
from monitord.config.models import Config
from monitord.inventory.archive import device_record, site_records
from monitord.store import Store
from tests.peers.snmp import COMMUNITY, Snmpd, Snmpsim
from tests.support.db import sqlite_only
from tests.support.snmpwatch import make_config


def on_loopback(config: Config, *devices: str) -> Config:
    """Move simulated devices to 127.0.0.1: snmpsim answers on one address only."""
    moved = tuple(
        d.model_copy(update={"address": "127.0.0.1"}) if d.id in devices else d
        for d in config.devices
    )
    return config.model_copy(update={"devices": moved})


database_url = sqlite_only  # the checks are under test here, not the store


def kinds(store: Store, device: str, kind: str) -> list[Any]:
    return [e for e in store.states.operation_record(device, 100) if e.kind == kind]


async def test_findings_reboot_and_metrics(
    env: None, store: Store, snmpd: Snmpd, snmpsim: Snmpsim, tmp_path: Path
) -> None:
    config = make_config(snmpd.port, snmpsim.port)
    config = on_loopback(config, "sw", "nvr", "acs")
    clock = SystemClock()
    store.devices.sync(
        site_records(config), [device_record(d) for d in config.devices], clock.now()
    )
    registry = CollectorRegistry()
    service = SnmpService(config, store, clock, registry, recheck=lambda _d: None)
    try:
        with capture_logs() as logs:
            for _ in range(3):  # max_attempts 2: confirmed at the second poll, quiet after
                for device in ("agent", "sw", "nvr", "acs"):
                    await service.watch.poll(device)
            snmpd.stop()
            snmpd.start()  # the agent restarts: sysUpTime goes back
            for _ in range(2):
                await service.watch.poll("agent")
        reboots = kinds(store, "agent", "reboot")
        assert len(reboots) == 1, reboots
        findings = {
            (e.device_id, e.observation["check"], e.to_state)
            for d in ("sw", "nvr", "acs")
            for e in kinds(store, d, "finding")
        }
        assert findings == {
            ("sw", "port:3", "critical"),
            ("sw", "poe:1.2", "critical"),
            ("sw", "poe:1.3", "warning"),
            ("nvr", "storage:32", "critical"),
            ("nvr", "disk:1553", "warning"),
        }
        assert kinds(store, "acs", "finding") == []  # healthy: nothing to tell
        text = generate_latest(registry).decode()
        assert (
            'monitord_snmp_port_oper_status{device="sw",kind="switch",port="3",site="s1"} 2.0'
            in text
        )
        assert (
            'monitord_snmp_poe_detection_status{device="sw",kind="switch",port="1.2",site="s1"} 4.0'
            in text
        )
        assert (
            'monitord_snmp_storage_used_ratio{device="nvr",kind="nvr",site="s1",volume="32"} 0.99'
            in text
        )
        assert 'monitord_snmp_reboots_total{device="agent",kind="other",site="s1"} 1.0' in text
        assert (
            'monitord_snmp_temperature_celsius{device="sw",kind="switch",sensor="1001",site="s1"} 45.2'
            in text
        )
        changed = [e for e in logs if e["event"] == "finding changed"]
        assert len(changed) == 5
        everything = text + repr(logs) + repr(store.states.operation_record("agent", 100))
        for secret in (COMMUNITY, "switch1", "nvr1", "acs1"):
            assert secret not in everything
    finally:
        service.close()


async def test_unreadable_secret_is_an_unknown_finding(
    store: Store, snmpd: Snmpd, snmpsim: Snmpsim, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("T_SNMPD", raising=False)
    config = make_config(snmpd.port, snmpsim.port, max_attempts=1)
    store.devices.sync(
        site_records(config), [device_record(d) for d in config.devices], SystemClock().now()
    )
    service = SnmpService(config, store, SystemClock(), CollectorRegistry(), lambda _d: None)
    try:
        await service.watch.poll("agent")
        [event] = kinds(store, "agent", "finding")
        assert (event.to_state, event.reason) == (
            "unknown",
            "snmp: SNMP: secret env:T_SNMPD: variable is not set",
        )
    finally:
        service.close()


async def test_timeouts_do_not_block_others(store: Store, snmpd: Snmpd, env: None) -> None:
    config = make_config(snmpd.port, 9, timeout=0.3, retries=0, max_attempts=1)  # 9: discard
    store.devices.sync(
        site_records(config), [device_record(d) for d in config.devices], SystemClock().now()
    )
    service = SnmpService(config, store, SystemClock(), CollectorRegistry(), lambda _d: None)
    try:
        delays = await asyncio.gather(*(service.watch.poll(d) for d in ("agent", "sw", "nvr")))
        assert delays[0] == 60
        assert service.watch.tracker.current("agent")["snmp"].status == "ok"
        assert {e.observation["check"] for e in kinds(store, "sw", "finding")} == {"snmp"}
    finally:
        service.close()


async def test_tables_every_nth_poll_or_after_a_trap(
    env: None, store: Store, snmpd: Snmpd, snmpsim: Snmpsim, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = make_config(snmpd.port, snmpsim.port, max_attempts=1, tables_every=3)
    config = on_loopback(config, "sw")
    clock = SystemClock()
    store.devices.sync(
        site_records(config), [device_record(d) for d in config.devices], clock.now()
    )
    walks: list[str] = []
    original = snmp_wire.bulk

    async def counted(*args: Any) -> Any:
        walks.append(args[3])
        return await original(*args)

    monkeypatch.setattr(snmp_wire, "bulk", counted)
    service = SnmpService(config, store, clock, CollectorRegistry(), lambda _d: None)
    try:
        per_poll = []
        for turn in range(4):
            if turn == 2:
                service.watch.walk_tables_next("sw")  # what a trap does
            await service.watch.poll("sw")
            per_poll.append(len(walks))
            walks.clear()
        assert [n > 0 for n in per_poll] == [True, False, True, True]  # turns 0, trap, 3
        assert service.watch.tracker.hard("sw")["poe:1.2"] == "critical"
    finally:
        service.close()


async def test_reboot_while_stopped_is_recorded_once(
    env: None, store: Store, snmpd: Snmpd, snmpsim: Snmpsim
) -> None:
    """snmpd booted seconds ago; monitord last saw it an hour ago: a reboot it missed.
    Seen a minute ago instead: none. Restarted again with the same stale last-seen time,
    the reboot already recorded is not recorded twice."""
    config = make_config(snmpd.port, snmpsim.port)
    clock = SystemClock()
    store.devices.sync(
        site_records(config), [device_record(d) for d in config.devices], clock.now()
    )
    hour_ago = clock.now() - dt.timedelta(hours=1)

    async def start_and_poll(last_seen: dt.datetime) -> None:
        service = SnmpService(config, store, clock, CollectorRegistry(), lambda _d: None)
        try:
            service.watch.restore({"agent": last_seen}, store.states.latest_events("reboot"))
            await service.watch.poll("agent")
            await service.watch.poll("agent")  # the second poll has live memory: no event
        finally:
            service.close()

    snmpd.stop()
    snmpd.start()  # booted now, whatever the fixture's age
    await start_and_poll(clock.now() - dt.timedelta(seconds=1))
    assert kinds(store, "agent", "reboot") == []
    await start_and_poll(hour_ago)
    [reboot] = kinds(store, "agent", "reboot")
    assert reboot.reason.startswith("rebooted while not watched: uptime ")
    assert reboot.observation["unwatched_s"] >= 3600
    await start_and_poll(hour_ago)
    assert len(kinds(store, "agent", "reboot")) == 1


async def test_what_the_device_says_is_kept_and_a_firmware_change_recorded_once(
    env: None, store: Store, snmpd: Snmpd, snmpsim: Snmpsim
) -> None:
    config = make_config(snmpd.port, snmpsim.port)
    config = on_loopback(config, "nvr")
    clock = SystemClock()
    store.devices.sync(
        site_records(config), [device_record(d) for d in config.devices], clock.now()
    )
    # What the last run saw: older firmware (updated while monitord was stopped).
    store.facts.learn("nvr", "snmp", {"firmware": "V4.20.000"}, clock.now())
    for _restart in range(2):
        service = SnmpService(config, store, clock, CollectorRegistry(), lambda _d: None)
        try:
            for _ in range(2):
                await service.watch.poll("nvr")
                await service.watch.poll("agent")
        finally:
            service.close()
    [change] = kinds(store, "nvr", "firmware")
    assert change.reason == "firmware changed (snmp): V4.20.000 -> V4.30.005"
    nvr = {n: f.value for n, f in store.facts.of("nvr").items()}
    assert nvr == {
        "firmware": "V4.30.005",
        "sys_descr": "NVR DS-7608NI firmware V4.30.005",
        "sys_object_id": "1.3.6.1.4.1.99999.3.8",
    }
    agent = store.facts.of("agent")
    assert agent["vendor"].value == "Net-SNMP" and agent["vendor"].source == "snmp"
    assert kinds(store, "agent", "firmware") == kinds(store, "agent", "archive") == []
