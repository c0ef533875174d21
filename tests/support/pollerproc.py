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

from tests.support.daemon import DaemonProcess


def monitord(*args: str, ns: str | None = None) -> str:
    cmd = [sys.executable, "-m", "monitord", *args]
    if ns is not None:
        cmd = ["ip", "netns", "exec", ns, *cmd]
    done = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


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
