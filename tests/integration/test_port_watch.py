"""TCP port checks against real sockets on 127.0.0.1: open, refused, and a listener whose
accept queue is full (the kernel drops further SYNs: the connection never completes)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from monitord.checks.tcp.client import check_port
from monitord.checks.tcp.watch import PortWatch
from monitord.clock import SystemClock
from monitord.config.models import Config
from monitord.inventory.archive import device_record, site_records
from monitord.store import Store


def listener(backlog: int = 16) -> socket.socket:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(backlog)
    return s


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def stuck() -> Iterator[int]:
    """A port that accepts nothing more: backlog 0, its queue filled by connections we hold."""
    server = listener(0)
    port = server.getsockname()[1]
    held = []
    for _ in range(4):
        c = socket.socket()
        c.setblocking(False)
        c.connect_ex(("127.0.0.1", port))
        held.append(c)
    yield port
    for c in held:
        c.close()
    server.close()


async def test_open_refused_and_unanswered(stuck: int) -> None:
    with listener() as server:
        port = server.getsockname()[1]
        opened = await check_port("127.0.0.1", port, 2.0)
    assert (opened.open, opened.reason) == (True, "open")
    refused = await check_port("127.0.0.1", closed_port(), 2.0)
    assert (refused.open, refused.reason, refused.detail) == (
        False,
        "refused",
        "connection refused",
    )
    hung = await check_port("127.0.0.1", stuck, 0.5)
    assert (hung.open, hung.reason) == (False, "timeout")
    assert 0.5 <= hung.seconds < 2.0


def gate(ports: list[int]) -> Config:
    device = {
        "id": "acs",
        "name": "Door controller",
        "kind": "access_controller",
        "site": "s1",
        "address": "127.0.0.1",
        "tcp": {"ports": ports, "max_attempts": 2, "timeout": 1.0},
    }
    return Config.model_validate({"sites": [{"id": "s1", "name": "Gate"}], "devices": [device]})


def series(port: int, value: float) -> str:
    labels = f'device="acs",kind="access_controller",port="{port}",site="s1"'
    return f"monitord_tcp_port_open{{{labels}}} {value}"


async def test_closed_port_is_a_confirmed_finding_recorded_once(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'db.sqlite'}")
    store.upgrade()
    clock, registry = SystemClock(), CollectorRegistry()
    gone = closed_port()
    try:
        with listener() as server:
            up = server.getsockname()[1]
            config = gate([up, gone])
            store.devices.sync(
                site_records(config), [device_record(d) for d in config.devices], clock.now()
            )
            watch = PortWatch(config, store, clock, registry)
            assert await watch.poll("acs") == 15.0  # SOFT: look again soon
            assert await watch.poll("acs") == 60.0  # HARD now
            await watch.poll("acs")
            records = [e for e in store.states.operation_record("acs") if e.kind == "finding"]
            assert [(e.observation["check"], e.to_state) for e in records] == [
                (f"tcp:{gone}", "critical")
            ]
            text = generate_latest(registry).decode()
            assert series(up, 1.0) in text and series(gone, 0.0) in text
            with socket.socket() as back:  # the controller's service comes back on its port
                back.bind(("127.0.0.1", gone))
                back.listen(4)
                await watch.poll("acs")
        records = [e for e in store.states.operation_record("acs") if e.kind == "finding"]
        assert (records[0].from_state, records[0].to_state) == ("critical", "ok")
        assert len(records) == 2
    finally:
        store.close()
