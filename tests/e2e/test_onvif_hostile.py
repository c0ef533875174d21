"""The daemon as a process against a hostile "camera" (tests/peers/soapevil.py): every attack
becomes an ONVIF finding naming why, no entity is resolved (the canary file and URL are
never read), memory stays bounded and the daemon keeps running and stops cleanly."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.peers.soapevil import CANARY, MODES, EvilSoap
from tests.support.daemon import DaemonProcess, write_config

# what the finding's summary says, by attack
EXPECTED = {
    "xxe_file": "declares a DTD", "xxe_http": "declares a DTD", "billion_laughs": "declares a DTD",
    "quadratic": "declares a DTD", "huge": "answer of 52428800 bytes (cap 1048576)",
    "huge_chunked": "larger than 1048576 bytes", "endless": "no complete answer within 1 s",
    "stall": "no complete answer within 1 s", "invalid_xml": "not well-formed XML",
    "deep": "not well-formed XML", "not_soap": "not a SOAP envelope",
    "fault": "SOAP fault s:Receiver/ter:HardwareFailure", "http500": "HTTP 500",
}  # fmt: skip


def device_id(mode: str) -> str:
    return "evil-" + mode.replace("_", "-")


@pytest.fixture
def evil() -> Iterator[EvilSoap]:
    loop = asyncio.new_event_loop()
    peer = EvilSoap([f"127.0.8.{i + 1}" for i in range(len(MODES))])
    ready = threading.Event()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(peer.__aenter__())
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert ready.wait(10)
    yield peer
    asyncio.run_coroutine_threadsafe(peer.__aexit__(None, None, None), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def test_every_attack_is_a_finding_and_the_daemon_lives(
    tmp_path: Path, evil: EvilSoap, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert set(EXPECTED) | {"ok"} == set(MODES)
    monkeypatch.setenv("T_EVIL", "evil-Pa55")
    onvif: dict[str, Any] = {"port": evil.port, "username": "admin",
                             "password": {"env": "T_EVIL"}, "timeout": 1.0, "interval": 10,
                             "max_attempts": 1, "events": False, "check_stream": False}  # fmt: skip
    devices = [
        {"id": device_id(m), "address": evil.hosts[i], "icmp": {"enabled": False},
         "onvif": {**onvif, "path": f"/{m}/onvif/device_service"}}
        for i, m in enumerate(MODES)
    ]  # fmt: skip
    daemon = DaemonProcess(write_config(tmp_path, devices))
    try:
        daemon.started()
        for mode, says in EXPECTED.items():
            wanted = device_id(mode)
            entry = daemon.wait_for(
                lambda e, d=wanted: (
                    e.get("event") == "finding changed"
                    and e.get("device") == d
                    and e.get("check") == "onvif"
                ),
                60,
            )
            assert entry["to_status"] == "warning", entry
            assert says in entry["summary"], entry
        assert daemon.proc.poll() is None  # alive
        peak = peak_rss_mb(daemon.proc.pid)
    finally:
        code = daemon.stop()
    assert code == 0, daemon.tail()
    assert evil.canary_hits == 0
    output = "".join(daemon.raw)
    assert CANARY not in output and "LEAKED" not in output and "evil-Pa55" not in output
    assert peak < 300, f"daemon peak RSS {peak:.0f} MB"
