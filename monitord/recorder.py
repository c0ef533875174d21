"""Writes HARD transitions to the store, in order, off the event loop, losing none on stop.

Each transition is one transaction (event + current state), so a SIGKILL leaves either both
or neither. Last-check times are batched: they are cheap news and change every few seconds.
"""

from __future__ import annotations

import asyncio
import datetime as dt

from monitord import log
from monitord.clock import Clock
from monitord.health.tracker import Transition
from monitord.store import Store, StoreError
from monitord.store.records import OperationEvent, SavedState

_log = log.get("monitord.recorder")


class Recorder:
    def __init__(self, store: Store, clock: Clock, flush_every: float = 5.0) -> None:
        self._store, self._clock, self._flush_every = store, clock, flush_every
        self._queue: asyncio.Queue[Transition] = asyncio.Queue()
        self._last_checks: dict[str, dt.datetime] = {}

    def record(self, transition: Transition) -> None:
        self._queue.put_nowait(transition)

    def checked(self, device_id: str, at: dt.datetime) -> None:
        self._last_checks[device_id] = at

    @property
    def backlog(self) -> int:
        return self._queue.qsize()

    async def run(self) -> None:
        """Write until cancelled; on cancellation, write what is queued and then stop."""
        try:
            while True:
                try:
                    transition = await asyncio.wait_for(self._queue.get(), self._flush_every)
                except TimeoutError:
                    await self._flush_checks()
                    continue
                await self._write(transition)
        except asyncio.CancelledError:
            await asyncio.shield(self.drain())
            raise

    async def drain(self) -> None:
        while not self._queue.empty():
            await self._write(self._queue.get_nowait())
        await self._flush_checks()

    async def _write(self, t: Transition) -> None:
        event = OperationEvent(
            device_id=t.device_id,
            at=t.at,
            kind="state",
            from_state=t.from_state.value,
            to_state=t.to_state.value,
            reason=t.reason,
            observation=t.observation,
        )
        state = SavedState(t.device_id, t.to_state.value, t.at, t.at, t.reason)
        while True:
            try:
                await asyncio.to_thread(self._store.record_state_change, event, state)
                return
            except StoreError as exc:
                # Never drop a state change: the store may be back (disk freed, DB restarted).
                _log.error(
                    "cannot record state change; retrying", device=t.device_id, error=str(exc)
                )
                await self._clock.sleep(self._flush_every)

    async def _flush_checks(self) -> None:
        if not self._last_checks:
            return
        batch, self._last_checks = self._last_checks, {}
        try:
            await asyncio.to_thread(self._store.touch_checks, batch)
        except StoreError as exc:
            _log.warning("cannot record last check times", error=str(exc))
            self._last_checks = {**batch, **self._last_checks}
