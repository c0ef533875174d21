"""A site poller runs the centre's watches (SNMP against snmpsim, ONVIF against the ONVIF
peer) and ships what they confirm: a finding confirmed at the site becomes the same line of
the device's operation record at the centre, once; the secrets come down with the
configuration, only over the pinned HTTPS, and stay 0600 and out of the logs."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from monitord.api import ApiServer
from monitord.clock import SystemClock
from monitord.config import Config
from monitord.health.tracker import HealthTracker
from monitord.inventory.archive import device_record, site_records, topology
from monitord.sites.centre import PollerCentre
from monitord.sites.enrolment import CODE_VALID, new_code
from monitord.sites.identity import enrol
from monitord.sites.link import fingerprint
from monitord.sites.poller import PollerDaemon
from monitord.sites.routes import poller_router
from monitord.store import Store
from tests.peers.onvif import OnvifPeer
from tests.peers.snmp import Snmpsim, free_udp_port
from tests.support.tlscert import self_signed

ONVIF_PASSWORD = "Adm1n-9x!"
SNMP_COMMUNITY = "switch1"  # snmpsim's community of the simulated switch
TRAP_COMMUNITY = "tr4p-c0mmunity"


def centre_config(cert: Path, key: Path, snmp_port: int, onvif_port: int, trap_port: int) -> Config:
    return Config.model_validate(
        {
            "api": {"enabled": True, "port": 0, "tls_cert": str(cert), "tls_key": str(key)},
            # The trap receiver's settings go down with its secrets: traps arrive at the site.
            "traps": {"listen": "127.0.0.1", "port": trap_port,
                      "communities": [{"env": "T_TRAP"}]},
            "sites": [{"id": "north", "name": "North", "poller": "p-north"},
                      {"id": "south", "name": "South", "poller": "p-south"}],
            "devices": [
                {"id": "sw", "name": "sw", "kind": "switch", "address": "127.0.0.1",
                 "site": "north",
                 "snmp": {"port": snmp_port, "community": {"env": "T_SW"}, "timeout": 1.0,
                          "retries": 1, "interval": 5, "retry_interval": 0.3,
                          "max_attempts": 2, "ports": [1, 2, 3]}},
                {"id": "nvr", "name": "nvr", "kind": "nvr", "address": "127.0.0.2",
                 "site": "north",
                 "onvif": {"port": onvif_port, "username": "admin",
                           "password": {"env": "T_ONVIF"}, "timeout": 1.0, "interval": 10,
                           "retry_interval": 0.3, "max_attempts": 2, "check_stream": False,
                           "events": False}},
                # Another poller's device: its secret never goes to p-north.
                {"id": "s-sw", "name": "s-sw", "kind": "switch", "address": "127.0.0.1",
                 "site": "south",
                 "snmp": {"port": snmp_port, "community": {"env": "T_SOUTH"}}},
            ],
        }
    )  # fmt: skip


class Centre:
    def __init__(self, store: Store, tmp: Path, snmp_port: int, onvif_port: int) -> None:
        self.cert, key = self_signed(tmp, "127.0.0.1")
        self.trap_port = free_udp_port()
        self.config = centre_config(self.cert, key, snmp_port, onvif_port, self.trap_port)
        self.store, clock = store, SystemClock()
        store.devices.sync(
            site_records(self.config), [device_record(d) for d in self.config.devices], clock.now()
        )
        tracker = HealthTracker(
            {d.id: self.config.icmp_for(d) for d in self.config.devices}, topology(self.config)
        )
        self.centre = PollerCentre(store, clock, lambda: self.config, tracker, None)
        self.server = ApiServer(
            store, lambda: self.config, clock, [poller_router(store, clock, self.centre)]
        )
        self.code = new_code()
        store.pollers.add_code("p-north", ["north"], self.code, clock.now(), CODE_VALID)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.server.port}"


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("T_SW", SNMP_COMMUNITY)
    monkeypatch.setenv("T_ONVIF", ONVIF_PASSWORD)
    monkeypatch.setenv("T_SOUTH", "south-only-c0mmunity")
    monkeypatch.setenv("T_TRAP", TRAP_COMMUNITY)


@pytest.fixture
async def lab(
    store: Store, tmp_path: Path, secrets: None
) -> AsyncIterator[tuple[Centre, OnvifPeer]]:
    with (
        Snmpsim(tmp_path) as sim,
        OnvifPeer(password=ONVIF_PASSWORD, clock_offset=120.0, host="127.0.0.2") as nvr,
    ):
        made = Centre(store, tmp_path, sim.port, nvr.port)
        await made.server.start()
        try:
            yield made, nvr
        finally:
            await made.server.stop()


async def trap(port: int) -> None:
    """A linkDown from 127.0.0.1 (the switch's address) to the poller's trap receiver."""
    proc = await asyncio.create_subprocess_exec(
        "snmptrap", "-v2c", "-c", TRAP_COMMUNITY, f"127.0.0.1:{port}", "",
        "1.3.6.1.6.3.1.1.5.3", "1.3.6.1.2.1.2.2.1.1.3", "i", "3",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    await asyncio.wait_for(proc.wait(), 20)


def findings(store: Store, device: str) -> list[Any]:
    return [e for e in store.states.operation_record(device, 200) if e.kind == "finding"]


async def test_site_findings_reach_the_centre_once(
    lab: tuple[Centre, OnvifPeer], tmp_path: Path
) -> None:
    centre, _nvr = lab
    # The centre is told not to poll these itself: they are on a poller's site.
    assert {d.id for d in centre.config.polled_here()} == set()
    state = tmp_path / "poller"
    printed = fingerprint(centre.cert.read_text())
    await asyncio.to_thread(enrol, [centre.url], centre.code, state, printed)
    poller = PollerDaemon(state, heartbeat=0.3)
    with capture_logs() as logs:
        task = asyncio.create_task(poller.run())
        wanted = {("sw", "port:3", "critical"), ("nvr", "clock", "warning")}
        seen: set[tuple[str, str, str | None]] = set()
        traps: list[Any] = []
        for i in range(150):  # bounded: 30 s
            await asyncio.sleep(0.2)
            assert not task.done(), task
            if i % 10 == 5 and not traps:  # the receiver at the site opens with the poller
                await trap(centre.trap_port)
            seen = {
                (e.device_id, e.observation["check"], e.to_state)
                for d in ("sw", "nvr")
                for e in findings(centre.store, d)
            }
            traps = [e for e in centre.store.states.operation_record("sw", 200)
                     if e.kind == "trap"]  # fmt: skip
            if wanted <= seen and traps:
                break
        await asyncio.sleep(1.0)  # a few more pushes: nothing is applied twice
        poller.stop()
        await asyncio.wait_for(task, 10)
    assert wanted <= seen, seen
    assert traps and "linkDown" in traps[0].reason, traps  # received at the site, sent up
    for device, check, to in wanted:
        lines = [e for e in findings(centre.store, device)
                 if e.observation["check"] == check and e.to_state == to]  # fmt: skip
        assert len(lines) == 1, lines  # once
        assert lines[0].observation["poller_seq"] >= 1  # it came up the journal
        assert lines[0].at <= dt.datetime.now(dt.UTC)
    # What the NVR says about itself came up too (facts), recorded as the centre records it.
    assert centre.store.facts.of("nvr")["firmware"].value == "V4.2.1 build 250601"
    # Secrets: at rest only 0600 (config.json and one file each, in a 0700 folder), only
    # this poller's sites' secrets, never in a log line.
    cached = (state / "config.json").read_text()
    assert (state / "config.json").stat().st_mode & 0o777 == 0o600
    assert SNMP_COMMUNITY in cached and ONVIF_PASSWORD in cached
    assert "south-only-c0mmunity" not in cached
    assert (state / "secrets").stat().st_mode & 0o777 == 0o700
    kept = list((state / "secrets").iterdir())
    assert len(kept) == 3 and all(p.stat().st_mode & 0o777 == 0o600 for p in kept)
    assert {p.read_text() for p in kept} == {SNMP_COMMUNITY, ONVIF_PASSWORD, TRAP_COMMUNITY}
    text = repr(logs)
    assert ONVIF_PASSWORD not in text and SNMP_COMMUNITY not in text
    assert TRAP_COMMUNITY not in text


async def test_a_1_0_poller_gets_no_secret(lab: tuple[Centre, OnvifPeer]) -> None:
    """A poller that does not say it speaks 1.1 gets the 1.0 configuration: ICMP only."""
    centre, _ = lab
    record = centre.store.pollers.get("p-north")
    assert record is not None
    old = centre.centre.configuration(record, minor=0)
    assert "secrets" not in old.config and all("snmp" not in d for d in old.config["devices"])
    new = centre.centre.configuration(record, minor=1)
    assert set(new.config["secrets"].values()) == {SNMP_COMMUNITY, ONVIF_PASSWORD, TRAP_COMMUNITY}
    assert SNMP_COMMUNITY not in new.revision and old.revision != new.revision


async def test_a_change_at_the_centre_reaches_the_poller_within_10_s(
    lab: tuple[Centre, OnvifPeer], tmp_path: Path
) -> None:
    """Over the real HTTPS link, with heartbeats a minute apart: only the long poll can
    bring the change this soon."""
    centre, _ = lab
    state = tmp_path / "poller"
    await asyncio.to_thread(enrol, [centre.url], centre.code, state, None)
    poller = PollerDaemon(state, heartbeat=60.0)
    task = asyncio.create_task(poller.run())
    try:
        for _ in range(100):  # bounded: until the poller holds a long poll
            await asyncio.sleep(0.1)
            assert not task.done(), task
            if centre.centre.waiting:
                break
        assert centre.centre.waiting
        before = json.loads((state / "config.json").read_text())["revision"]
        renamed = centre.config.devices[0].model_copy(update={"name": "sw, renamed"})
        centre.config = centre.config.model_copy(
            update={"devices": (renamed, *centre.config.devices[1:])}
        )
        centre.centre.config_changed()
        got = before
        for _ in range(100):  # bounded: 10 s
            await asyncio.sleep(0.1)
            got = json.loads((state / "config.json").read_text())["revision"]
            if got != before:
                break
        assert got != before, "not delivered within 10 s"  # the figure: bench/poller_link.py
    finally:
        poller.stop()
        await asyncio.wait_for(task, 10)


class BehindClock(SystemClock):
    """The poller's box, its wall clock 10 minutes slow (monotonic time is unaffected)."""

    def now(self) -> dt.datetime:
        return super().now() - dt.timedelta(minutes=10)


async def test_a_poller_10_min_slow_records_true_times(
    lab: tuple[Centre, OnvifPeer], tmp_path: Path
) -> None:
    centre, _ = lab
    state = tmp_path / "poller"
    await asyncio.to_thread(enrol, [centre.url], centre.code, state, None)
    started = dt.datetime.now(dt.UTC)
    poller = PollerDaemon(state, clock=BehindClock(), heartbeat=0.3)
    task = asyncio.create_task(poller.run())
    lines: list[Any] = []
    try:
        for _ in range(150):  # bounded: 30 s
            await asyncio.sleep(0.2)
            assert not task.done(), task
            lines = [e for e in findings(centre.store, "sw") if e.observation["check"] == "port:3"]
            if lines:
                break
        await asyncio.sleep(1.0)  # a few pushes with the NTP-style sample
    finally:
        poller.stop()
        await asyncio.wait_for(task, 10)
    ended = dt.datetime.now(dt.UTC)
    assert len(lines) == 1, lines
    slack = dt.timedelta(seconds=2)
    assert started - slack <= lines[0].at <= ended + slack, (started, lines[0].at, ended)
    record = centre.store.pollers.get("p-north")
    assert record is not None and record.clock_offset is not None
    assert abs(record.clock_offset - 600) <= 2, record.clock_offset
    assert record.backlog is not None
