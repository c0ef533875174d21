"""Maintenance windows end to end: the daemon in a netns lab, a window started with the CLI."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest

from tests.peers import netlab
from tests.support.daemon import (
    ICMP,
    DaemonProcess,
    cli_json,
    seed_000_config,
    tickets,
    wait_tickets,
)

_why = netlab.available()
pytestmark = [pytest.mark.root, pytest.mark.skipif(_why is not None, reason=_why or "")]


def test_planned_work_opens_no_ticket_and_a_device_still_down_after_it_opens_one(
    tmp_path: Path,
) -> None:
    with netlab.NetLab(hosts=2) as lab:
        a = lab.host_addresses
        devices = [{"id": "cam-a", "address": a[0]}, {"id": "cam-b", "address": a[1]}]
        config = seed_000_config(tmp_path, devices, icmp=ICMP)
        daemon = DaemonProcess(config, lab.client_ns)
        try:
            daemon.started()
            daemon.wait_state("cam-a", "up")
            daemon.wait_state("cam-b", "up")
            # One window over the site's cameras; the CLI is slow on a busy machine, so the
            # checks below count from the window's own end, not from here.
            window = cli_json(config, "maintenance", "start", "--site", "s1", "--kind", "camera",
                              "--for", "40s", "--reason", "lens cleaning", "--by", "li")  # fmt: skip
            assert window["active"]
            left = dt.datetime.fromisoformat(window["ends_at"]) - dt.datetime.now(dt.UTC)
            ends = time.monotonic() + left.total_seconds()
            lab.drop(a[0], a[1])
            daemon.wait_state("cam-a", "down", timeout=15)
            daemon.wait_state("cam-b", "down", timeout=15)
            lab.undrop(a[1])  # cam-b is back before its window ends
            daemon.wait_state("cam-b", "up", from_state="down", timeout=15)
            assert time.monotonic() < ends, "the lab was too slow for a 40 s window"
            window_end = dt.datetime.fromisoformat(window["ends_at"])
            during = [
                t for t in tickets(config) if dt.datetime.fromisoformat(t["opened_at"]) < window_end
            ]
            assert during == [], "\n".join([repr(during), daemon.tail(60)])  # none in the window
            found = wait_tickets(
                config, lambda t: len(t) >= 1, timeout=ends - time.monotonic() + 40
            )
            assert [t["root_device"] for t in found] == ["cam-a"]  # cam-b recovered inside it
            opened = dt.datetime.fromisoformat(found[0]["opened_at"])
            assert window_end <= opened < window_end + dt.timedelta(seconds=35)
            time.sleep(3)  # the loop keeps running: still exactly one
            assert len(tickets(config)) == 1
            assert daemon.stop() == 0
        finally:
            if daemon.proc.poll() is None:
                daemon.stop()
