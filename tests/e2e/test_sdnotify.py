"""The daemon speaks systemd's notify protocol: READY after start, WATCHDOG, STOPPING."""

from __future__ import annotations

import itertools
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.daemon import write_config

pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root: the daemon uses raw ICMP sockets"),
]


def test_ready_watchdog_and_stopping(tmp_path: Path) -> None:
    config = write_config(tmp_path, [{"id": "cam-1", "address": "127.0.31.1"}])
    path = str(tmp_path / "notify.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as manager:
        manager.bind(path)
        manager.settimeout(20)
        env = {**os.environ, "NOTIFY_SOCKET": path, "WATCHDOG_USEC": "1000000"}
        proc = subprocess.Popen(
            [sys.executable, "-m", "monitord", "-c", str(config), "run", "--log-format", "json"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            heard: list[tuple[float, str]] = []
            while (
                not any(m == "READY=1" for _, m in heard)
                or sum(m == "WATCHDOG=1" for _, m in heard) < 3
            ):
                heard.append((time.monotonic(), manager.recv(256).decode()))
            assert [m for _, m in heard].count("READY=1") == 1
            pings = [t for t, m in heard if m == "WATCHDOG=1"]
            # Fed at half of WatchdogSec (1 s here), from the event loop.
            assert max(b - a for a, b in itertools.pairwise(pings)) < 1.0
            proc.send_signal(signal.SIGTERM)
            while (message := manager.recv(256).decode()) == "WATCHDOG=1":
                pass
            assert message == "STOPPING=1"
            assert proc.wait(timeout=5) == 0
        finally:
            proc.kill()
            proc.wait()
