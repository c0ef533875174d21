"""The per-switch token bucket on the fake clock: one address is spaced, others are not."""

from __future__ import annotations

import asyncio
import itertools

from monitord.clock import FakeClock
from monitord.discovery.pacing import HEADROOM, TargetBuckets


async def test_requests_to_one_switch_are_spaced_and_other_switches_wait_for_nothing() -> None:
    clock = FakeClock()
    buckets = TargetBuckets(50.0, clock)
    granted: list[tuple[str, float]] = []

    async def ask(address: str, times: int) -> None:
        for _ in range(times):
            await buckets.take(address)
            granted.append((address, clock.monotonic()))

    tasks = [asyncio.create_task(ask("10.0.0.1", 60)), asyncio.create_task(ask("10.0.0.2", 2))]
    await asyncio.sleep(0)  # let both start before time moves (a yield, not a wait)
    for _ in range(400):  # move time by hand, a few ms at a time, until both are done
        if all(t.done() for t in tasks):
            break
        await clock.advance(0.005)
    assert all(t.done() for t in tasks)
    one = [at for a, at in granted if a == "10.0.0.1"]
    gaps = [b - a for a, b in itertools.pairwise(one)]
    assert min(gaps) >= 1 / (50 * HEADROOM) - 1e-9
    assert max(sum(1 for x in one if s <= x < s + 1.0) for s in one) <= 50
    other = [at for a, at in granted if a == "10.0.0.2"]
    assert other[0] == 1000.0  # the first request to another switch goes at once
    assert buckets.requests == {"10.0.0.1": 60, "10.0.0.2": 2}
