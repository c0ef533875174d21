"""Writes HARD transitions to the store before anyone is told of them.

Each transition is one transaction (event + current state), so a SIGKILL leaves either both
or neither, and a change that was logged or announced is always on disk. Last-check times
are batched: they are cheap news that changes every few seconds.
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
        self._last_checks: dict[str, dt.datetime] = {}

    def checked(self, device_id: str, at: dt.datetime) -> None:
        self._last_checks[device_id] = at

    async def record(self, t: Transition) -> None:
        """Persist one transition; retry until the store takes it (never drop a change)."""
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
                # The store may come back (disk freed, database restarted).
                _log.error(
                    "cannot record state change; retrying", device=t.device_id, error=str(exc)
                )
                await self._clock.sleep(self._flush_every)

    async def run(self) -> None:
        """Flush last-check times periodically until cancelled, then once more."""
        try:
            while True:
                await self._clock.sleep(self._flush_every)
                await self.flush_checks()
        except asyncio.CancelledError:
            await asyncio.shield(self.flush_checks())
            raise

    async def flush_checks(self) -> None:
        if not self._last_checks:
            return
        batch, self._last_checks = self._last_checks, {}
        try:
            await asyncio.to_thread(self._store.touch_checks, batch)
        except StoreError as exc:
            _log.warning("cannot record last check times", error=str(exc))
            self._last_checks = {**batch, **self._last_checks}
