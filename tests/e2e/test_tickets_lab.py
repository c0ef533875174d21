"""Faults to tickets end to end: the daemon in a netns lab, tickets read back with the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.peers import netlab
from tests.support.daemon import ICMP, DaemonProcess, seed_000_config, wait_tickets

_why = netlab.available()
pytestmark = [pytest.mark.root, pytest.mark.skipif(_why is not None, reason=_why or "")]
CAMERAS = [f"cam-{i:02d}" for i in range(1, 13)]


def test_a_switch_and_its_cameras_make_one_ticket(tmp_path: Path) -> None:
    with netlab.NetLab(hosts=13) as lab:
        a = lab.host_addresses
        devices = [
            {"id": "sw", "kind": "switch", "address": a[0]},
            *[{"id": c, "address": a[i + 1], "parents": ["sw"]} for i, c in enumerate(CAMERAS)],
        ]
        config = seed_000_config(tmp_path, devices, icmp=ICMP)
        daemon = DaemonProcess(config, lab.client_ns)
        try:
            daemon.started()
            for camera in CAMERAS:
                daemon.wait_state(camera, "up")
            # 4 of 12 cameras behind a healthy switch go dark: a B ticket each.
            lab.drop(*a[1:5])
            found = wait_tickets(config, lambda t: len(t) >= 4)
            assert sorted(t["root_device"] for t in found) == CAMERAS[:4]
            assert {(t["class"], t["rule"]) for t in found} == {("B", "camera-down")}
            lab.undrop(*a[1:5])
            for camera in CAMERAS[:4]:
                daemon.wait_state(camera, "up", from_state="down", timeout=15)
            # The switch dies, taking all 12 cameras with it: one ticket, root = the switch.
            lab.drop(*a)
            daemon.wait_state("sw", "down", timeout=15)
            for camera in CAMERAS:
                daemon.wait_state(camera, "unreachable", timeout=20)
            found = wait_tickets(
                config,
                lambda t: any(
                    x["root_device"] == "sw" and len(x["impacted_devices"]) == 13 for x in t
                ),
            )
            switch = [t for t in found if t["root_device"] == "sw"]
            assert len(switch) == 1 and len(found) == 5
            assert switch[0]["class"] == "A" and switch[0]["rule"] == "cameras-dark-30pct"
            assert set(switch[0]["impacted_devices"]) == {"sw", *CAMERAS}
            assert not any(
                e.get("to_state") == "down" and e.get("device") in CAMERAS[4:] for e in daemon.lines
            )
            # Back again: the ticket notes the recovery and stays open for the customer.
            lab.undrop(*a)
            daemon.wait_state("sw", "up", from_state="down", timeout=15)
            found = wait_tickets(
                config, lambda t: any(x["root_device"] == "sw" and x["recovered"] for x in t)
            )
            switch = [t for t in found if t["root_device"] == "sw"]
            assert switch[0]["recovered"] and switch[0]["status"] == "open"
        finally:
            assert daemon.stop() == 0, daemon.tail()
