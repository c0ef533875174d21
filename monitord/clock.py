"""The injectable clock: wall time for records, monotonic time for scheduling.

Tests use `FakeClock` and move time by hand; nothing in the daemon calls time.time() or
asyncio.sleep() directly.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """The current instant, timezone-aware UTC."""

    def monotonic(self) -> float:
        """Seconds on a clock that never jumps (for intervals and deadlines in-process)."""

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` of monotonic time."""


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class FakeClock:
    """A clock that only moves when a test calls `advance()` (or `set_wall()` for jumps)."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self._wall = start or dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        self._mono = 1000.0
        self._moved = asyncio.Condition()

    def now(self) -> dt.datetime:
        return self._wall

    def monotonic(self) -> float:
        return self._mono

    def set_wall(self, instant: dt.datetime) -> None:
        """Jump the wall clock (NTP step, operator error) without moving monotonic time."""
        self._wall = instant

    async def advance(self, seconds: float) -> None:
        self._mono += seconds
        self._wall += dt.timedelta(seconds=seconds)
        async with self._moved:
            self._moved.notify_all()
        # Let woken tasks run before the test looks at the result.
        for _ in range(5):
            await asyncio.sleep(0)

    async def sleep(self, seconds: float) -> None:
        until = self._mono + seconds
        async with self._moved:
            await self._moved.wait_for(lambda: self._mono >= until)
