"""The retry policy and the supervisor: failures are logged, counted and restarted with
back-off; a critical task that stops making progress stops the watchdog."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from monitord import log
from monitord.clock import FakeClock
from monitord.supervise import Backoff, Supervisor, retry
from tests.support.notify_socket import systemd_manager


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    log.configure("info", json=True, stream=stream)
    yield stream
    log.configure("info")


def entries(stream: io.StringIO, event: str) -> list[dict[str, Any]]:
    found = [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    return [e for e in found if e.get("event") == event]


def failures(registry: CollectorRegistry, task: str) -> float:
    value = registry.get_sample_value("monitord_task_failures_total", {"task": task})
    return 0.0 if value is None else value


async def settle(clock: FakeClock, seconds: float, steps: int = 1) -> None:
    for _ in range(steps):
        await clock.advance(seconds / steps)


def test_backoff_doubles_from_first_to_cap() -> None:
    b = Backoff(1.0, 60.0)
    assert [b.delay(n) for n in range(1, 9)] == [1, 2, 4, 8, 16, 32, 60, 60]
    assert b.delay(0) == 1.0  # nothing stored yet counts as the first failure
    assert Backoff(5.0, 5.0).delay(10) == 5.0  # a constant policy
    assert Backoff(10.0, 900.0, factor=3.0).delay(3) == 90.0


async def test_retry_waits_the_policy_and_gives_up_after_tries() -> None:
    clock = FakeClock()
    calls: list[float] = []
    seen: list[str] = []

    async def flaky() -> str:
        calls.append(clock.monotonic())
        if len(calls) < 3:
            raise OSError(f"try {len(calls)}")
        return "ok"

    task = asyncio.create_task(
        retry(flaky, clock, Backoff(2.0, 60.0), OSError, lambda e: seen.append(str(e)))
    )
    await settle(clock, 10.0, 20)
    assert await task == "ok"
    assert [t - calls[0] for t in calls] == [0.0, 2.0, 6.0]
    assert seen == ["try 1", "try 2"]

    async def broken() -> None:
        raise OSError("down")

    seen.clear()
    with pytest.raises(OSError):
        await retry(
            broken, clock, Backoff(0.0, 0.0), OSError, lambda e: seen.append(str(e)), tries=3
        )
    assert seen == ["down"] * 3

    async def bug() -> None:
        raise ValueError("not retried")

    with pytest.raises(ValueError):
        await retry(bug, clock, Backoff(), OSError, lambda e: seen.append(str(e)))


async def test_a_failing_step_is_logged_counted_and_runs_again(logs: io.StringIO) -> None:
    clock, registry = FakeClock(), CollectorRegistry()
    passes: list[float] = []

    async def step() -> float:
        passes.append(clock.monotonic())
        if len(passes) == 2:
            raise ValueError("unexpected")
        return 10.0

    async with Supervisor(clock, registry) as sup:
        sup.periodic("tick", step)
        await settle(clock, 0.0)
        assert len(passes) == 1
        await settle(clock, 10.0)  # the second pass fails
        assert failures(registry, "tick") == 1
        [entry] = entries(logs, "background task failed; restarting")
        assert entry["task"] == "tick" and entry["restart_in"] == 1.0
        assert "ValueError: unexpected" in entry["traceback"]
        assert "in step" in entry["traceback"]  # the frame that raised
        await settle(clock, 1.0)  # back-off, then the step runs at once
        assert len(passes) == 3 and passes[2] - passes[1] == 1.0
        await settle(clock, 10.0)
        assert len(passes) == 4 and failures(registry, "tick") == 1
        await sup.cancel_all()


async def test_back_off_doubles_while_failing_and_resets_after_a_success(
    logs: io.StringIO,
) -> None:
    clock, registry = FakeClock(), CollectorRegistry()
    outcomes = iter([False, False, False, True, False])  # False: raise

    async def step() -> float:
        if not next(outcomes, True):
            raise RuntimeError("again")
        return 100.0

    async with Supervisor(clock, registry) as sup:
        sup.periodic("flaky", step)
        await settle(clock, 8.0, 16)  # fails at 0, 1, 3; succeeds at 7
        await settle(clock, 100.0, 4)  # fails again at 107: back to the first delay
        await sup.cancel_all()
    delays = [e["restart_in"] for e in entries(logs, "background task failed; restarting")]
    assert delays == [1.0, 2.0, 4.0, 1.0]
    assert failures(registry, "flaky") == 4


async def test_a_service_that_raises_is_restarted_and_a_one_off_reported(
    logs: io.StringIO,
) -> None:
    clock, registry = FakeClock(), CollectorRegistry()
    starts: list[float] = []

    async def serve() -> None:
        starts.append(clock.monotonic())
        if len(starts) == 1:
            raise KeyError("first run")
        await asyncio.Event().wait()

    async def job() -> None:
        raise ValueError("reload broke")

    async with Supervisor(clock, registry) as sup:
        sup.service("server", serve)
        sup.once("reload", job())
        await settle(clock, 0.0)
        await settle(clock, 1.0, 4)
        assert starts == [1000.0, 1001.0]
        assert failures(registry, "server") == 1 and failures(registry, "reload") == 1
        assert entries(logs, "background task failed")[0]["task"] == "reload"
        await sup.cancel_all()


async def test_the_watchdog_is_fed_only_while_critical_tasks_progress(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, logs: io.StringIO
) -> None:
    clock = FakeClock()
    wedge = asyncio.Event()
    path = str(tmp_path / "notify.sock")
    monkeypatch.setenv("NOTIFY_SOCKET", path)

    async def step() -> float:
        if wedge.is_set():
            await asyncio.Event().wait()  # stuck for good
        return 5.0

    with systemd_manager(path) as heard:
        async with Supervisor(clock, CollectorRegistry(), stale_after=30.0) as sup:
            sup.periodic("dispatcher", step, critical=True)
            sup.feed_watchdog(10.0)
            await settle(clock, 0.0)
            await settle(clock, 60.0, 12)
            assert sup.stale() == []
            assert heard().count("WATCHDOG=1") == 7  # at 0, 10, ... 60
            wedge.set()
            await settle(clock, 5.0)  # the next pass starts and never ends
            await settle(clock, 30.0, 6)  # within 5 s + 30 s of the last pass: still fed
            assert heard().count("WATCHDOG=1") == 3
            await settle(clock, 30.0, 6)
            assert sup.stale() == ["dispatcher"]
            assert heard() == []
            [entry] = entries(logs, "critical tasks made no progress; not feeding the watchdog")
            assert entry["tasks"] == ["dispatcher"]
            await sup.cancel_all()


async def test_a_critical_service_is_stale_without_beats() -> None:
    clock = FakeClock()

    async def serve() -> None:
        await asyncio.Event().wait()

    async with Supervisor(clock, CollectorRegistry(), stale_after=20.0) as sup:
        sup.service("scheduler", serve, critical=True)
        await settle(clock, 0.0)
        await settle(clock, 15.0)
        sup.beat("scheduler", quiet_for=100.0)  # idle until a due time 100 s away
        await settle(clock, 110.0)
        assert sup.stale() == []
        await settle(clock, 11.0)
        assert sup.stale() == ["scheduler"]
        await sup.cancel_all()
