"""When each device is checked: spread over its interval, retried sooner, never piled up.

One asyncio loop over a heap of due times replaces a job per device (measured 10x cheaper
than APScheduler's per-job bookkeeping for thousands of devices; ../shared/research/libs.md).
A device's first check is offset by a stable hash of its id, so a restart or a fleet of
10 000 devices does not fire all at once. A device is never checked twice at the same time.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import zlib
from collections.abc import Awaitable, Callable, Iterable

from monitord.clock import Clock

CheckFn = Callable[[str], Awaitable[float]]
"""Runs one check of a device and returns the delay until its next check."""


class Scheduler:
    def __init__(
        self,
        clock: Clock,
        check: CheckFn,
        max_in_flight: int,
        on_lag: Callable[[float], None] = lambda _: None,
        on_error: Callable[[str, Exception], None] = lambda _d, _e: None,
        on_beat: Callable[[float], None] = lambda _: None,
    ) -> None:
        self._clock, self._check, self._on_lag, self._on_error = clock, check, on_lag, on_error
        # Progress for the watchdog: called with how long the loop may now be quiet.
        self._on_beat = on_beat
        self._intervals: dict[str, float] = {}
        self._slots = asyncio.Semaphore(max_in_flight)
        self._heap: list[tuple[float, int, str]] = []
        self._due: dict[str, float] = {}
        self._in_flight: dict[str, asyncio.Task[None]] = {}
        self._wanted_again: set[str] = set()
        self._counter = itertools.count()
        self._wakeup = asyncio.Event()

    def set_devices(self, intervals: dict[str, float]) -> None:
        """Adopt an inventory: new devices get a spread first check, removed ones stop."""
        now = self._clock.monotonic()
        self._intervals = dict(intervals)
        # Differences of key views run in C: a reload of 10 000 devices that changes a few
        # spent ~10 ms of the event loop here walking them all in Python (bench/reload.py).
        for device in self._due.keys() - intervals.keys():
            del self._due[device]
        new = intervals.keys() - self._due.keys() - self._in_flight.keys()
        for device, interval in intervals.items() if new else ():
            if device in new:  # in the inventory's order, so first checks are reproducible
                spread = (zlib.crc32(device.encode()) % 10_000) / 10_000
                self._push(device, now + spread * interval)
        self._wakeup.set()

    def check_soon(self, devices: Iterable[str]) -> None:
        """Check these devices now (a trap, a failing child, a recovered parent)."""
        now = self._clock.monotonic()
        for device in devices:
            if device in self._in_flight:
                self._wanted_again.add(device)
            elif device in self._due and self._due[device] > now:
                self._push(device, now)
        self._wakeup.set()

    def overdue(self, grace: float = 1.0) -> int:
        """Devices whose check is late by more than `grace` seconds and has not started."""
        limit = self._clock.monotonic() - grace
        # Copied first (one C call, atomic under the GIL): /metrics asks from its own thread
        # while the loop changes the dict ("dictionary changed size during iteration").
        return sum(1 for due in list(self._due.values()) if due < limit)

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    def _push(self, device: str, due: float) -> None:
        self._due[device] = due
        heapq.heappush(self._heap, (due, next(self._counter), device))

    async def run(self) -> None:
        """Run checks until cancelled; in-flight checks are cancelled with it."""
        try:
            while True:
                await self._next_due()
                due, _, device = heapq.heappop(self._heap)
                if self._due.get(device) != due:
                    continue  # superseded by an earlier or removed entry
                del self._due[device]
                await self._slots.acquire()
                self._on_beat(0.0)
                self._on_lag(max(0.0, self._clock.monotonic() - due))
                task = asyncio.create_task(self._run_one(device), name=f"check:{device}")
                self._in_flight[device] = task
        finally:
            tasks = list(self._in_flight.values())
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _next_due(self) -> None:
        while True:
            while self._heap and self._due.get(self._heap[0][2]) != self._heap[0][0]:
                heapq.heappop(self._heap)
            wait = self._heap[0][0] - self._clock.monotonic() if self._heap else 3600.0
            if wait <= 0:
                return
            self._on_beat(wait)
            self._wakeup.clear()
            sleeper = asyncio.create_task(self._clock.sleep(wait))
            waker = asyncio.create_task(self._wakeup.wait())
            try:
                await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                sleeper.cancel()
                waker.cancel()

    async def _run_one(self, device: str) -> None:
        try:
            delay = await self._check(device)
        except Exception as exc:  # noqa: BLE001 - one broken check must not stop the others
            self._on_error(device, exc)
            delay = self._intervals.get(device, 60.0)
        finally:
            self._slots.release()
            del self._in_flight[device]
        if device in self._intervals:
            again = device in self._wanted_again
            self._wanted_again.discard(device)
            self._push(device, self._clock.monotonic() + (0.0 if again else delay))
            self._wakeup.set()
