"""In a running daemon, an unexpected exception in any supervised component is logged with
its traceback, counted, and the component works again; a wedged critical loop stops WATCHDOG=1."""

from __future__ import annotations

import asyncio
import functools
import io
import json
import os
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from monitord import app, log
from monitord.app import Daemon
from monitord.checks.icmp.watch import Fleet
from monitord.checks.snmp.service import SnmpService
from monitord.checks.tcp.watch import PortWatch
from monitord.clock import FakeClock
from monitord.config import Config
from monitord.discovery.drift import TableWatch
from monitord.health.recorder import Recorder
from monitord.notify.digest import DigestTask
from monitord.notify.dispatcher import Dispatcher
from monitord.notify.escalator import Escalator
from monitord.prevention.history import HistoryRecorder
from monitord.prevention.service import PreventionService
from monitord.prevention.warnings import EarlyWarningDesk
from monitord.scheduler import Scheduler
from monitord.sites.silence import SilenceWatch
from tests.peers.notify import free_port
from tests.support.notify_socket import systemd_manager
from tests.support.notifylab import notify_data

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the daemon opens raw ICMP sockets")


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    log.configure("info", json=True, stream=stream)
    yield stream
    log.configure("info")


def daemon_config(tmp_path: Path) -> Config:
    data = notify_data(tmp_path, free_port())
    data["devices"] = [
        {"id": "cam-1", "name": "cam 1", "site": "s1", "kind": "camera", "address": "127.0.0.1"}
    ]
    data["history"] = {"flush_every": 10, "evaluate_every": 20}
    data["prevention"] = {"check_every": 10}
    return Config.model_validate(data)


class Injected:
    """Wraps a component's step: the first call raises ValueError, later calls run it."""

    def __init__(self, task: str, original: Callable[..., Awaitable[Any]], when: Any = None):
        self.task, self.original, self.when = task, original, when
        self.raised, self.after = False, 0

    def wrap(self) -> Callable[..., Awaitable[Any]]:
        @functools.wraps(self.original)
        async def step(*args: Any, **kwargs: Any) -> Any:
            if self.when is not None and not self.when(*args):
                return await self.original(*args, **kwargs)
            if not self.raised:
                self.raised = True
                raise ValueError(f"injected into {self.task}")
            self.after += 1
            return await self.original(*args, **kwargs)

        return step


def main_scheduler(scheduler: Scheduler) -> bool:
    return isinstance(scheduler._on_beat, functools.partial)  # the daemon's own reports beats


async def test_every_supervised_component_survives_an_unexpected_exception(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, logs: io.StringIO
) -> None:
    targets: list[tuple[str, Any, str, Any]] = [
        ("recorder", Recorder, "step", None),
        ("scheduler", Scheduler, "run", main_scheduler),
        ("snmp", SnmpService, "run", None),
        ("tcp", PortWatch, "run", None),
        ("sla-clocks", app.TicketDesk, "clocks_step", None),
        ("notify", Dispatcher, "step", None),
        ("escalation", Escalator, "step", None),
        ("digest", DigestTask, "step", None),
        ("inspections", PreventionService, "step", None),
        ("history", HistoryRecorder, "step", None),
        ("warnings", EarlyWarningDesk, "step", None),
        ("windows", app, "windows_step", None),
        ("poller-silence", SilenceWatch, "step", None),
        ("mac-tables", TableWatch, "step", None),
    ]
    injected = []
    for task, owner, attribute, when in targets:
        i = Injected(task, getattr(owner, attribute), when)
        monkeypatch.setattr(owner, attribute, i.wrap())
        injected.append(i)
    checks: list[float] = []
    check = Fleet.check

    async def counted(self: Fleet, device: str) -> float:
        checks.append(clock.monotonic())
        return await check(self, device)

    monkeypatch.setattr(Fleet, "check", counted)
    clock = FakeClock()
    daemon = Daemon(tmp_path / "monitord.yaml", daemon_config(tmp_path), clock)
    ready = asyncio.Event()
    running = asyncio.create_task(daemon.run(ready.set))
    await asyncio.wait_for(ready.wait(), 20)
    restarted_at = None
    for _ in range(400):  # fake seconds, bounded
        await clock.advance(1.0)
        await asyncio.sleep(0.01)
        if restarted_at is None and injected[1].after:
            restarted_at = clock.monotonic()
        if (
            all(i.after for i in injected)
            and restarted_at
            and any(t > restarted_at for t in checks)
        ):
            break
    try:
        assert injected, "no component was patched"
        assert [i.task for i in injected if not i.raised] == []
        assert [i.task for i in injected if not i.after] == []  # each ran again afterwards
        assert restarted_at is not None and any(t > restarted_at for t in checks)
        found = [json.loads(line) for line in logs.getvalue().splitlines() if '"task"' in line]
        for i in injected:
            [entry] = [e for e in found if e.get("task") == i.task and "traceback" in e]
            assert entry["level"] == "error"
            assert f"ValueError: injected into {i.task}" in entry["traceback"]
            value = daemon.registry.get_sample_value(
                "monitord_task_failures_total", {"task": i.task}
            )
            assert value == 1.0, i.task
        assert not running.done()
    finally:
        daemon.stop()
        await asyncio.wait_for(running, 10)


async def test_a_wedged_dispatcher_stops_the_watchdog(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, logs: io.StringIO
) -> None:
    path = str(tmp_path / "notify.sock")
    monkeypatch.setenv("NOTIFY_SOCKET", path)
    monkeypatch.setenv("WATCHDOG_USEC", "30000000")  # WatchdogSec=30: fed every 15 s
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    wedged = asyncio.Event()
    step = Dispatcher.step

    async def maybe_stuck(self: Dispatcher) -> float:
        if wedged.is_set():
            await asyncio.Event().wait()  # a send that never returns, say
        return await step(self)

    monkeypatch.setattr(Dispatcher, "step", maybe_stuck)
    clock = FakeClock()
    daemon = Daemon(tmp_path / "monitord.yaml", daemon_config(tmp_path), clock)
    stale_after = 120.0  # the supervisor's default
    with systemd_manager(path) as heard:

        async def advance(seconds: int) -> None:
            for _ in range(seconds):
                await clock.advance(1.0)
                await asyncio.sleep(0.005)

        ready = asyncio.Event()
        running = asyncio.create_task(daemon.run(ready.set))
        try:
            await asyncio.wait_for(ready.wait(), 20)
            await advance(60)
            before = heard()
            assert before.count("READY=1") == 1
            assert before.count("WATCHDOG=1") >= 4  # 0, 15, 30, 45, 60
            wedged.set()
            await advance(int(stale_after) + 30)
            assert daemon.supervisor.stale() == ["notify"]
            heard()  # what was sent before it went stale
            await advance(60)
            assert "WATCHDOG=1" not in heard()
            assert any(
                "not feeding the watchdog" in line and '"notify"' in line
                for line in logs.getvalue().splitlines()
            )
        finally:
            daemon.stop()
            await asyncio.wait_for(running, 10)
        assert "STOPPING=1" in heard()
