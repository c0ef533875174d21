"""Opens the tickets that maintenance windows held back, when each window ends (P5).

The desk holds a root's ticket while a window covers it. This loop wakes at the end of the
nearest cover (or every `every` s, to notice a window ended early from the CLI) and lets the
desk open what is still a fault then: exactly once, since opening is idempotent by dedup key,
and also after a restart inside the window, since the desk's reconcile holds them again.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from functools import partial
from typing import Protocol

from monitord import log
from monitord.clock import Clock
from monitord.health.tracker import HealthTracker
from monitord.store import StoreError
from monitord.supervise import repeat

_log = log.get("monitord.maintenance")


class HoldingDesk(Protocol):
    held: set[str]

    async def release_held(self, tracker: HealthTracker) -> None: ...


class CoverEnds(Protocol):
    def cover_ends(self, device_id: str, at: dt.datetime) -> dt.datetime | None: ...


async def watch_windows(
    desk: HoldingDesk,
    tracker: HealthTracker,
    book: CoverEnds,
    clock: Clock,
    every: float = 30.0,
) -> None:
    await repeat(partial(windows_step, desk, tracker, book, clock, every), clock)


async def windows_step(
    desk: HoldingDesk, tracker: HealthTracker, book: CoverEnds, clock: Clock, every: float = 30.0
) -> float:
    """Release what ended; returns the seconds until the nearest end (at most `every`)."""
    # Wake times count from the start of the pass, whatever the pass itself took.
    started, now = clock.monotonic(), clock.now()
    wake = every
    try:
        await desk.release_held(tracker)
        for device_id in sorted(desk.held):
            end = await asyncio.to_thread(book.cover_ends, device_id, now)
            if end is not None:
                wake = min(wake, max((end - now).total_seconds(), 0.5))
    except StoreError as exc:
        _log.error("cannot check maintenance windows", error=str(exc))
    return started + wake - clock.monotonic()
