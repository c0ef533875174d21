"""One PullPoint listener per device that offers events, started once a check has found
the events service, stopped when the device leaves the configuration.

A listener that fails waits before subscribing again (10 s doubling to 10 min), and stops
for rejected credentials or a device without events: the next good check starts it again.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable
from typing import Final

from monitord import log
from monitord.checks.onvif.client import OnvifDevice
from monitord.checks.onvif.errors import OnvifError, Reason
from monitord.checks.onvif.pullpoint import Event, PullPoint
from monitord.clock import Clock
from monitord.supervise import Backoff

_log = log.get("monitord.onvif")
_WAIT: Final = 60.0  # PullMessages long-poll: the device answers at once when it has news;
# a long wait keeps the idle cost low (5 000 cameras: ~80 empty answers per second)
_RETRY: Final = Backoff(10.0, 600.0)  # a pull-point that failed, not one that said no
# Stopped until the next good check starts it again; a refused subscription address is
# not asked again and again (the check's finding names it).
_STOP_FOR: Final = (Reason.AUTH_REJECTED, Reason.NOT_SUPPORTED, Reason.ADDRESS_REFUSED)


class EventListeners:
    def __init__(
        self, clock: Clock, on_event: Callable[[str, Event], None], wait: float = _WAIT
    ) -> None:
        self._clock, self._on_event, self._wait = clock, on_event, wait
        self._tasks: dict[str, asyncio.Task[None]] = {}

    @property
    def running(self) -> int:
        return sum(1 for t in self._tasks.values() if not t.done())

    def ensure(self, device_id: str, device: OnvifDevice) -> None:
        task = self._tasks.get(device_id)
        if task is None or task.done():
            self._tasks[device_id] = asyncio.create_task(
                self._listen(device_id, device), name=f"onvif-events:{device_id}"
            )

    def retain(self, devices: Iterable[str]) -> None:
        for device_id in self._tasks.keys() - set(devices):
            self._tasks.pop(device_id).cancel()

    async def close(self) -> None:
        tasks = list(self._tasks.values())
        self._tasks.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _listen(self, device_id: str, device: OnvifDevice) -> None:
        pullpoint, failures = PullPoint(device), 0
        try:
            while True:
                try:
                    events = await pullpoint.pull(self._wait)
                except OnvifError as exc:
                    failures += 1
                    _log.info("ONVIF events unavailable", device=device_id, error=exc.detail)
                    if exc.reason in _STOP_FOR:
                        return
                    await self._clock.sleep(_RETRY.delay(failures))
                    continue
                failures = 0
                for event in events:
                    self._on_event(device_id, event)
        finally:
            # Cameras have few subscription slots: give ours back, briefly (it expires anyway).
            with contextlib.suppress(Exception):
                await asyncio.wait_for(pullpoint.close(), 1.0)
