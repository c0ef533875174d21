"""The daemon as a process on loopback: metrics, SIGTERM, SIGHUP, broken reloads."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.daemon import DaemonProcess, free_port, write_config

pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root: the daemon uses raw ICMP sockets"),
]

DEVICES = [
    {"id": "sw-1", "kind": "switch", "address": "127.0.30.1"},
    {"id": "cam-1", "kind": "camera", "address": "127.0.30.11", "parents": ["sw-1"]},
    {"id": "cam-2", "kind": "camera", "address": "127.0.30.12", "parents": ["sw-1"]},
]


def scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        return str(response.read().decode())


def wait_for_checks(port: int, count: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    pattern = re.compile(r'monitord_probe_duration_seconds_count{probe="icmp"} (\S+)')
    while time.monotonic() < deadline:
        found = pattern.search(scrape(port))
        if found and float(found.group(1)) >= count:
            return
        time.sleep(0.2)
    raise AssertionError(f"fewer than {count} checks in {timeout}s")


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def daemon(tmp_path: Path, port: int) -> Iterator[DaemonProcess]:
    proc = DaemonProcess(write_config(tmp_path, DEVICES, port))
    proc.started()
    yield proc
    proc.stop()


class TestRunningDaemon:
    def test_metrics_show_every_device_up(self, daemon: DaemonProcess, port: int) -> None:
        for device in ("sw-1", "cam-1", "cam-2"):
            daemon.wait_state(device, "up")
        text = scrape(port)
        for device in ("sw-1", "cam-1", "cam-2"):
            assert re.search(rf'monitord_device_up{{device="{device}",.*}} 1\.0', text), text
        assert "monitord_build_info{python=" in text
        assert "monitord_probe_duration_seconds_bucket" in text
        assert "monitord_scheduler_lag_seconds_count" in text
        assert "monitord_checks_overdue 0.0" in text
        series = [line for line in text.splitlines() if 'device="cam-1"' in line]
        assert 4 <= len(series) <= 10, series
        assert "127.0.30" not in text  # addresses are not labels

    def test_sigterm_stops_cleanly_within_5_seconds(self, daemon: DaemonProcess) -> None:
        daemon.wait_state("cam-1", "up")
        started = time.monotonic()
        daemon.signal(signal.SIGTERM)
        assert daemon.proc.wait(timeout=5) == 0
        assert time.monotonic() - started < 5
        daemon.wait_for(lambda e: e.get("event") == "stopped", timeout=1)

    def test_state_change_is_logged_once(self, daemon: DaemonProcess, port: int) -> None:
        daemon.wait_state("cam-1", "up")
        wait_for_checks(port, 15)  # several more checks happen; none of them is news
        changes = [
            e
            for e in daemon.lines
            if e.get("event") == "device state changed" and e.get("device") == "cam-1"
        ]
        assert len(changes) == 1

    def test_promtool_accepts_the_exposition(self, daemon: DaemonProcess, port: int) -> None:
        promtool = shutil.which("promtool")
        if promtool is None:
            if os.environ.get("CI"):
                pytest.fail("CI must install promtool (Debian package prometheus)")
            pytest.skip("promtool not installed (Debian package prometheus)")
        daemon.wait_state("cam-2", "up")
        checked = subprocess.run(
            [promtool, "check", "metrics"],
            input=scrape(port),
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert checked.returncode == 0, checked.stdout + checked.stderr


class TestReload:
    def test_sighup_adds_changes_and_removes_devices(
        self, tmp_path: Path, port: int, daemon: DaemonProcess
    ) -> None:
        daemon.wait_state("cam-2", "up")
        changed = [
            DEVICES[0],
            {**DEVICES[1], "location": "north gate"},
            {"id": "cam-3", "kind": "camera", "address": "127.0.30.13"},
        ]
        write_config(tmp_path, changed, port)
        daemon.signal(signal.SIGHUP)
        entry = daemon.wait_for(
            lambda e: e.get("event") == "equipment archive updated" and "sw-1" not in e["added"]
        )
        assert (entry["added"], entry["changed"], entry["removed"]) == (
            ["cam-3"],
            ["cam-1"],
            ["cam-2"],
        )
        daemon.wait_state("cam-3", "up")
        text = scrape(port)
        assert 'device="cam-3"' in text and 'device="cam-2"' not in text
        assert daemon.proc.poll() is None

    def test_broken_reload_keeps_the_running_configuration(
        self, tmp_path: Path, port: int, daemon: DaemonProcess
    ) -> None:
        daemon.wait_state("cam-1", "up")
        write_config(tmp_path, [*DEVICES, {"id": "bad", "kind": "toaster"}], port)
        daemon.signal(signal.SIGHUP)
        entry = daemon.wait_for(lambda e: e.get("event", "").startswith("configuration rejected"))
        assert any("devices[3].kind" in err for err in entry["errors"]), entry
        assert any("devices[3]" in err and "is required" in err for err in entry["errors"])
        assert daemon.proc.poll() is None
        assert "monitord_config_last_reload_successful 0.0" in scrape(port)
        assert 'device="cam-2"' in scrape(port)


def test_broken_config_at_start_exits_2_naming_the_errors(tmp_path: Path) -> None:
    config = write_config(tmp_path, [{"id": "x", "address": "300.1.1.1"}])
    result = subprocess.run(
        [sys.executable, "-m", "monitord", "-c", str(config), "run"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert f"{config}:" in result.stderr and "devices[0].address" in result.stderr
