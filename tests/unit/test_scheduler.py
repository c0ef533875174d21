"""The check scheduler, driven by a fake clock: spread, retries, re-checks, removal, errors."""

from __future__ import annotations

import asyncio
import itertools
from collections import defaultdict
from collections.abc import AsyncIterator

import pytest

from monitord.clock import FakeClock
from monitord.scheduler import Scheduler


class Recorder:
    def __init__(self, clock: FakeClock, delay: float = 10.0) -> None:
        self.clock, self.delay = clock, delay
        self.calls: dict[str, list[float]] = defaultdict(list)
        self.running: set[str] = set()
        self.overlaps = 0
        self.fail: set[str] = set()
        self.duration = 0.0

    async def check(self, device: str) -> float:
        if device in self.running:
            self.overlaps += 1
        self.running.add(device)
        self.calls[device].append(self.clock.monotonic())
        try:
            if self.duration:
                await self.clock.sleep(self.duration)
            if device in self.fail:
                raise RuntimeError("probe exploded")
            return self.delay
        finally:
            self.running.discard(device)


async def run_for(clock: FakeClock, seconds: float, step: float = 0.05) -> None:
    for _ in range(round(seconds / step)):
        await clock.advance(step)


@pytest.fixture
async def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def rec(clock: FakeClock) -> Recorder:
    return Recorder(clock)


@pytest.fixture
async def sched(clock: FakeClock, rec: Recorder) -> AsyncIterator[Scheduler]:
    errors: list[tuple[str, Exception]] = []
    scheduler = Scheduler(
        clock, rec.check, max_in_flight=1000, on_error=lambda d, e: errors.append((d, e))
    )
    task = asyncio.create_task(scheduler.run())
    yield scheduler
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


class TestScheduler:
    async def test_first_checks_are_spread_over_the_interval(
        self, clock: FakeClock, rec: Recorder, sched: Scheduler
    ) -> None:
        start = clock.monotonic()
        sched.set_devices({f"cam-{i}": 10.0 for i in range(200)})
        await run_for(clock, 10.0)
        firsts = sorted(calls[0] - start for calls in rec.calls.values())
        assert len(firsts) == 200
        per_second = [sum(1 for t in firsts if s <= t < s + 1) for s in range(10)]
        assert max(per_second) < 40, per_second  # ~20 per second, no herd

    async def test_each_device_runs_at_its_interval(
        self, clock: FakeClock, rec: Recorder, sched: Scheduler
    ) -> None:
        sched.set_devices({"sw": 10.0})
        await run_for(clock, 35.0)
        calls = rec.calls["sw"]
        assert len(calls) in (3, 4)
        gaps = [round(b - a, 1) for a, b in itertools.pairwise(calls)]
        assert all(9.9 <= g <= 10.2 for g in gaps), gaps

    async def test_check_soon_runs_at_once(
        self, clock: FakeClock, rec: Recorder, sched: Scheduler
    ) -> None:
        sched.set_devices({"sw": 10.0})
        await run_for(clock, 10.0)
        before = len(rec.calls["sw"])
        sched.check_soon(["sw"])
        await run_for(clock, 0.2)
        assert len(rec.calls["sw"]) == before + 1

    async def test_removed_device_is_no_longer_checked(
        self, clock: FakeClock, rec: Recorder, sched: Scheduler
    ) -> None:
        sched.set_devices({"a": 10.0, "b": 10.0})
        await run_for(clock, 10.0)
        sched.set_devices({"a": 10.0})
        seen_b = len(rec.calls["b"])
        await run_for(clock, 25.0)
        assert len(rec.calls["b"]) == seen_b
        assert len(rec.calls["a"]) >= 3

    async def test_a_failing_check_is_rescheduled_and_reported(
        self, clock: FakeClock, rec: Recorder
    ) -> None:
        errors: list[str] = []
        scheduler = Scheduler(clock, rec.check, 10, on_error=lambda d, e: errors.append(d))
        rec.fail.add("bad")
        rec.delay = 5.0
        task = asyncio.create_task(scheduler.run())
        scheduler.set_devices({"bad": 5.0, "good": 5.0})
        await run_for(clock, 16.0)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        assert len(rec.calls["bad"]) >= 3
        assert errors.count("bad") == len(rec.calls["bad"])
        assert len(rec.calls["good"]) >= 3

    async def test_slow_check_never_overlaps_itself(
        self, clock: FakeClock, rec: Recorder, sched: Scheduler
    ) -> None:
        rec.duration, rec.delay = 3.0, 1.0
        sched.set_devices({"slow": 1.0})
        await run_for(clock, 5.0)
        sched.check_soon(["slow"])  # asked again while running: runs right after, not beside
        await run_for(clock, 10.0)
        assert rec.overlaps == 0
        assert len(rec.calls["slow"]) >= 3

    async def test_overdue_counts_late_checks_when_slots_are_full(self, clock: FakeClock) -> None:
        rec = Recorder(clock)
        rec.duration = 30.0
        scheduler = Scheduler(clock, rec.check, max_in_flight=2)
        task = asyncio.create_task(scheduler.run())
        scheduler.set_devices({f"d{i}": 10.0 for i in range(10)})
        await run_for(clock, 12.0)
        assert scheduler.in_flight == 2
        assert scheduler.overdue() >= 7
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
