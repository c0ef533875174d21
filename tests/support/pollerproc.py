"""`monitord poller run` as a real process (optionally inside a network namespace), and the
CLI as a user runs it, for the tests that run a real centre beside a real poller."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import yaml

from tests.support.daemon import DaemonProcess
from tests.support.tlscert import self_signed


def monitord(*args: str, ns: str | None = None) -> str:
    cmd = [sys.executable, "-m", "monitord", *args]
    if ns is not None:
        cmd = ["ip", "netns", "exec", ns, *cmd]
    done = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def centre_file(root: Path, data: dict[str, Any], listen: str, port: int, **more: Any) -> Path:
    """`data` written as a centre's configuration in `root`: its API on HTTPS at listen:port
    (a certificate made for that address), state and metrics of its own, no notify channel."""
    cert, key = self_signed(root, listen)
    data |= {
        "state_dir": str(root / "centre"),
        "metrics": {"listen": "127.0.0.1", "port": 0},
        "api": {"enabled": True, "listen": listen, "port": port,
                "tls_cert": str(cert), "tls_key": str(key)},
        "notify": {"channels": []},
        **more,
    }  # fmt: skip
    path = root / "centre.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


class PollerProcess(DaemonProcess):
    """`monitord poller run`, its JSON log collected (DaemonProcess's waits work on it)."""

    def __init__(self, ns: str | None, state: Path, heartbeat: float = 0.5, *more: str) -> None:
        cmd = [sys.executable, "-m", "monitord", "poller", "run", "--state-dir", str(state),
               "--heartbeat", str(heartbeat), "--log-format", "json", *more]  # fmt: skip
        if ns is not None:
            cmd = ["ip", "netns", "exec", ns, *cmd]
        self.proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
        self.lines: list[dict[str, Any]] = []
        self.raw: list[str] = []
        self._new: queue.Queue[dict[str, Any]] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def journaled(self, device: str, state: str, timeout: float = 20) -> dict[str, Any]:
        return self.wait_for(
            lambda e: (
                e.get("event") == "journaled"
                and e.get("device") == device
                and e.get("to_state") == state
            ),
            timeout,
        )

    def started(self, timeout: float = 30.0) -> dict[str, Any]:
        return self.wait_for(lambda e: e.get("event") == "poller started", timeout)
