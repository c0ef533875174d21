"""SIGHUP with a hostile configuration: rejected as JSON, counted, the daemon alive and the
running configuration kept (issue 13, item 4)."""

from __future__ import annotations

import os
import signal
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.daemon import DaemonProcess, free_port, write_config

pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root: the daemon uses raw ICMP sockets"),
]
DEVICES = [{"id": "cam-1", "kind": "camera", "address": "127.0.30.21"}]
BOMB = 'a: &a ["x","x","x","x","x","x","x","x","x"]\n' + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 9) + "]\n" for i in range(8)
)


def scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        return str(response.read().decode())


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[tuple[DaemonProcess, int]]:
    port = free_port()
    proc = DaemonProcess(write_config(tmp_path, DEVICES, port))
    proc.started()
    yield proc, port
    proc.stop()


@pytest.mark.parametrize("text", [BOMB, "x: &r [*r]\n"], ids=["billion-laughs", "recursive"])
def test_a_hostile_reload_is_rejected_and_the_daemon_lives(
    tmp_path: Path, daemon: tuple[DaemonProcess, int], text: str
) -> None:
    proc, port = daemon
    proc.wait_state("cam-1", "up")
    (tmp_path / "monitord.yaml").write_text(text, encoding="utf-8")
    proc.signal(signal.SIGHUP)
    entry = proc.wait_for(lambda e: e.get("event", "").startswith("configuration rejected"))
    assert any("alias" in err for err in entry["errors"]), entry
    assert proc.proc.poll() is None
    metrics = scrape(port)
    assert "monitord_config_last_reload_successful 0.0" in metrics
    assert 'device="cam-1"' in metrics
