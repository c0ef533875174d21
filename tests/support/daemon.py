"""Run `monitord run` as a real process (optionally inside a network namespace) for tests."""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml

from tests.support.contracts import CONTRACTS


def cli_json(config: Path, *args: str) -> Any:
    """Run `monitord -c CONFIG ARGS --json` as a user would and parse what it prints."""
    out = subprocess.run(
        [sys.executable, "-m", "monitord", "-c", str(config), *args, "--json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return json.loads(out.stdout)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_config(
    directory: Path,
    devices: Sequence[dict[str, Any]],
    port: int = 0,
    icmp: dict[str, Any] | None = None,
    site: dict[str, Any] | None = None,
    **extra: Any,
) -> Path:
    config = {
        "state_dir": str(directory / "state"),
        "icmp_mode": "raw",
        "metrics": {"listen": "127.0.0.1", "port": port},
        "icmp": icmp
        if icmp is not None
        else {"interval": 1.5, "retry_interval": 0.5, "count": 1, "timeout": 0.5},
        "sites": [{"id": "s1", "name": "Site 1", "timezone": "Asia/Shanghai", **(site or {})}],
        "devices": [{"site": "s1", "kind": "camera", "name": d["id"], **d} for d in devices],
        **extra,
    }
    path = directory / "monitord.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


def seed_000_config(directory: Path, devices: Sequence[dict[str, Any]], **more: Any) -> Path:
    """`write_config` with its site under the seed-000 contract (the seed contracts included)."""
    return write_config(
        directory,
        devices,
        site={"contract": "seed-000"},
        include=[str(CONTRACTS / "*.yaml")],
        **more,
    )


class DaemonProcess:
    """`monitord run` with its JSON log lines collected as they arrive."""

    def __init__(self, config: Path, netns: str | None = None) -> None:
        cmd = [sys.executable, "-m", "monitord", "-c", str(config), "run", "--log-format", "json"]
        if netns:
            cmd = ["ip", "netns", "exec", netns, *cmd]
        self.proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.lines: list[dict[str, Any]] = []
        self.raw: list[str] = []
        self._new: queue.Queue[dict[str, Any]] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.raw.append(line)
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            self.lines.append(entry)
            self._new.put(entry)

    def wait_for(
        self, match: Callable[[dict[str, Any]], bool], timeout: float = 30.0
    ) -> dict[str, Any]:
        """The first log entry (past or future) that matches; fails after `timeout`."""
        for entry in list(self.lines):
            if match(entry):
                return entry
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                entry = self._new.get(timeout=min(left, 0.5))
            except queue.Empty:
                if self.proc.poll() is not None and self._new.empty():
                    break
                continue
            if match(entry):
                return entry
        raise AssertionError(f"no matching log line in {timeout}s; output:\n{''.join(self.raw)}")

    def wait_state(
        self, device: str, state: str, timeout: float = 30.0, from_state: str | None = None
    ) -> dict[str, Any]:
        return self.wait_for(
            lambda e: (
                e.get("event") == "device state changed"
                and e.get("device") == device
                and e.get("to_state") == state
                and from_state in (None, e.get("from_state"))
            ),
            timeout,
        )

    def started(self, timeout: float = 30.0) -> dict[str, Any]:
        """Wait for the start; a daemon that does not start in time is stopped, not left
        running for the rest of the session (fixtures never reach their teardown then)."""
        try:
            return self.wait_for(lambda e: e.get("event") == "monitord started", timeout)
        except AssertionError:
            self.stop()
            raise

    def signal(self, sig: signal.Signals) -> None:
        self.proc.send_signal(sig)

    def tail(self, lines: int = 30) -> str:
        return "".join(self.raw[-lines:])

    def stop(self, timeout: float = 10.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


# ICMP settings that confirm an outage within a few seconds
RETRY = 0.5
ATTEMPTS = 3
ICMP = {
    "interval": 1.5,
    "retry_interval": RETRY,
    "max_attempts": ATTEMPTS,
    "count": 1,
    "timeout": 0.5,
}


def tickets(config: Path) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = cli_json(config, "tickets")
    return found


def wait_tickets(config: Path, predicate: Any, timeout: float = 20) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        found = tickets(config)
        if predicate(found) or time.monotonic() > deadline:
            return found
        time.sleep(0.5)
