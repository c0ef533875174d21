"""Real outages in a network-namespace lab, seen by the daemon as a process.

The daemon runs in the lab's client namespace and pings hosts in the other one; nftables
rules there make hosts stop answering. Shows: DOWN confirmed after the retries and not
before, DEGRADED on partial loss, UNREACHABLE behind a dead parent, recovery, flapping,
and a SIGKILL that loses no state.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.peers import netlab
from tests.support.daemon import ATTEMPTS, ICMP, RETRY, DaemonProcess, cli_json, write_config

_why = netlab.available()
pytestmark = [pytest.mark.root, pytest.mark.skipif(_why is not None, reason=_why or "")]


@pytest.fixture
def lab() -> Iterator[netlab.NetLab]:
    with netlab.NetLab(hosts=6) as lab:
        yield lab


def topology(lab: netlab.NetLab) -> list[dict[str, Any]]:
    a = lab.host_addresses
    return [
        {"id": "sw-a", "kind": "switch", "address": a[0]},
        {"id": "sw-b", "kind": "switch", "address": a[1]},
        {"id": "cam-1", "address": a[2], "parents": ["sw-a"]},
        {"id": "nvr-1", "kind": "nvr", "address": a[3], "parents": ["sw-a", "sw-b"]},
        {
            "id": "cam-lossy",
            "address": a[4],
            "icmp": {"count": 4, "echo_interval": 0.05, "interval": 1.0},
        },
        {
            "id": "cam-flappy",
            "address": a[5],
            "icmp": {"max_attempts": 1, "interval": 0.5, "timeout": 0.3},
        },
    ]


def start(tmp_path: Path, lab: netlab.NetLab) -> DaemonProcess:
    daemon = DaemonProcess(write_config(tmp_path, topology(lab), icmp=ICMP), lab.client_ns)
    daemon.started()
    for device in ("sw-a", "sw-b", "cam-1", "nvr-1"):
        daemon.wait_state(device, "up")
    return daemon


def cli_device(tmp_path: Path, device: str) -> dict[str, Any]:
    result: dict[str, Any] = cli_json(tmp_path / "monitord.yaml", "device", device)
    return result


def changes(daemon: DaemonProcess, device: str) -> list[str]:
    return [
        e["to_state"]
        for e in daemon.lines
        if e.get("event") == "device state changed" and e.get("device") == device
    ]


class TestOutages:
    def test_down_is_confirmed_after_retries_and_recovers(
        self, tmp_path: Path, lab: netlab.NetLab
    ) -> None:
        daemon = start(tmp_path, lab)
        try:
            dropped = time.monotonic()
            lab.drop(lab.host_addresses[2])
            down = daemon.wait_state("cam-1", "down", timeout=15)
            took = time.monotonic() - dropped
            # max_attempts failed checks, RETRY apart, each waiting out its timeout.
            assert took >= (ATTEMPTS - 1) * RETRY, took
            assert down["reason"].startswith("ICMP: no reply")
            assert changes(daemon, "sw-a") == ["up"]  # the switch is fine: not its fault
            lab.undrop(lab.host_addresses[2])
            daemon.wait_state("cam-1", "up", timeout=10, from_state="down")
            assert changes(daemon, "cam-1") == ["up", "down", "up"]
        finally:
            assert daemon.stop() == 0, daemon.tail()
        record = cli_device(tmp_path, "cam-1")["operation_record"]
        assert [(e["from_state"], e["to_state"]) for e in record] == [
            ("down", "up"),
            ("up", "down"),
            ("pending", "up"),
        ]
        assert record[1]["observation"]["loss_pct"] == 100.0

    def test_partial_loss_is_degraded(self, tmp_path: Path, lab: netlab.NetLab) -> None:
        daemon = start(tmp_path, lab)
        try:
            daemon.wait_state("cam-lossy", "up")
            lab.lossy(lab.host_addresses[4], every=2)
            entry = daemon.wait_state("cam-lossy", "degraded", timeout=15)
            assert "50% loss" in entry["reason"]
        finally:
            daemon.stop()

    def test_children_of_a_dead_switch_are_unreachable_not_down(
        self, tmp_path: Path, lab: netlab.NetLab
    ) -> None:
        daemon = start(tmp_path, lab)
        a = lab.host_addresses
        try:
            lab.drop(a[0], a[2], a[3])  # sw-a dies, taking cam-1 and nvr-1's link with it
            daemon.wait_state("sw-a", "down", timeout=15)
            entry = daemon.wait_state("cam-1", "unreachable", timeout=15)
            assert entry["reason"] == "all parents down: sw-a"
            # nvr-1 still has sw-b: it is its own fault, DOWN.
            daemon.wait_state("nvr-1", "down", timeout=15)
            assert "down" not in changes(daemon, "cam-1")
            lab.drop(a[1])  # now both of nvr-1's parents are gone
            daemon.wait_state("sw-b", "down", timeout=15)
            daemon.wait_state("nvr-1", "unreachable", timeout=15)
            lab.undrop(*a[:4])
            for device in ("sw-a", "sw-b", "cam-1", "nvr-1"):
                daemon.wait_for(
                    lambda e, d=device: (
                        e.get("device") == d
                        and e.get("to_state") == "up"
                        and e.get("from_state") != "pending"
                    ),
                    timeout=15,
                )
        finally:
            daemon.stop()

    def test_flapping_device_is_reported_once_as_flapping(
        self, tmp_path: Path, lab: netlab.NetLab
    ) -> None:
        daemon = start(tmp_path, lab)
        try:
            daemon.wait_state("cam-flappy", "up")
            lab.lossy(lab.host_addresses[5], every=2)  # answers every other check
            daemon.wait_state("cam-flappy", "flapping", timeout=30)
            before = len(changes(daemon, "cam-flappy"))
            time.sleep(3)  # six more alternating checks: no news while flapping
            assert len(changes(daemon, "cam-flappy")) == before
            assert changes(daemon, "cam-flappy")[-1] == "flapping"
        finally:
            daemon.stop()


def test_sigkill_while_down_loses_nothing(tmp_path: Path, lab: netlab.NetLab) -> None:
    daemon = start(tmp_path, lab)
    a = lab.host_addresses
    lab.drop(a[0], a[2])
    daemon.wait_state("sw-a", "down", timeout=15)
    daemon.wait_state("cam-1", "unreachable", timeout=15)
    daemon.signal(signal.SIGKILL)
    daemon.proc.wait(timeout=5)
    before = cli_device(tmp_path, "cam-1")
    assert before["state"]["state"] == "unreachable"

    again = DaemonProcess(tmp_path / "monitord.yaml", lab.client_ns)
    try:
        again.started()
        time.sleep(3)  # several checks of the still-dead devices
        assert changes(again, "cam-1") == [] and changes(again, "sw-a") == []
        after = cli_device(tmp_path, "cam-1")
        assert after["state"]["state"] == "unreachable"
        assert after["state"]["since"] == before["state"]["since"]
        assert after["operation_record"] == before["operation_record"]
        lab.undrop(a[0], a[2])
        again.wait_state("sw-a", "up", timeout=15, from_state="down")
        again.wait_state("cam-1", "up", timeout=15, from_state="unreachable")
    finally:
        assert again.stop() == 0, again.tail()
