"""Writes HARD transitions to the store before anyone is told of them.

A transition's event and current state are written in one transaction, so a SIGKILL leaves
either both or neither, and a change that was logged or announced is always on disk.
Transitions that arrive while a write is under way share the next transaction (group
commit): a storm of thousands of changes costs a few transactions, not thousands. Last-check
times are batched every 30 s: cheap news that changes every few seconds. At 10 000 devices
checked every 10 s, a 5 s flush updated 1 000 rows a second, a tenth of the daemon's CPU
(bench/fleet.py under py-spy); 30 s writes each device's time once per flush, a third of
that, and what is shown as the last check is at most 30 s older than the check.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from functools import partial
from typing import Protocol

from monitord import log
from monitord.clock import Clock
from monitord.health.tracker import Transition
from monitord.health.writer import WriterThreads
from monitord.store import Store, StoreError
from monitord.store.records import OperationEvent, SavedState
from monitord.supervise import Backoff, repeat, retry

_log = log.get("monitord.recorder")
_RETRY = Backoff(5.0, 5.0)  # a state change the store refused: tried again every 5 s


class StateWriter(Protocol):
    """Where confirmed transitions go first: the store at the centre (`Recorder`), the
    journal at a site poller (sites/poller.py); `record` returns once it is durable."""

    def checked(self, device_id: str, at: dt.datetime) -> None: ...

    async def record(self, t: Transition) -> None: ...


class Recorder:
    def __init__(self, store: Store, clock: Clock, flush_every: float = 30.0) -> None:
        self._store, self._clock, self._flush_every = store, clock, flush_every
        self._last_checks: dict[str, dt.datetime] = {}
        self._queued: list[tuple[OperationEvent, SavedState, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None
        # Two threads, so a state change never queues behind a last-check flush of the
        # whole fleet (the store still orders them).
        self._threads = WriterThreads(2, "state-recorder")

    def close(self) -> None:
        """Wait for the writes under way; later writes fall back to the default executor."""
        self._threads.close()

    def checked(self, device_id: str, at: dt.datetime) -> None:
        self._last_checks[device_id] = at

    async def record(self, t: Transition) -> None:
        """Persist one transition; return once it is committed (never drop a change)."""
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
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queued.append((event, state, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_queued(), name="state-writer")
        await asyncio.shield(done)

    async def _write_queued(self) -> None:
        """Commit what is queued, in order, until nothing is; retry until the store takes it."""
        while self._queued:
            batch, self._queued = self._queued, []
            changes = [(event, state) for event, state, _ in batch]
            failure: BaseException | None = None

            def failed(
                exc: Exception, changes: list[tuple[OperationEvent, SavedState]] = changes
            ) -> None:
                _log.error(
                    "cannot record state change; retrying",
                    devices=[event.device_id for event, _ in changes[:10]],
                    error=str(exc),
                )

            try:
                # The store may come back (disk freed, database restarted): never give up.
                await retry(
                    partial(self._threads.run, self._store.states.record_changes, changes),
                    self._clock,
                    _RETRY,
                    StoreError,
                    failed,
                )
            except Exception as exc:  # noqa: BLE001 - a bug, not the database: tell the callers
                failure = exc
            for _, _, done in batch:
                if done.done():
                    continue
                if failure is None:
                    done.set_result(None)
                else:
                    done.set_exception(failure)

    async def run(self) -> None:
        """Flush last-check times periodically until cancelled, then once more."""
        try:
            await repeat(self.step, self._clock, first_after=self._flush_every)
        except asyncio.CancelledError:
            await asyncio.shield(self.flush_checks())
            raise

    async def step(self) -> float:
        """Write the last-check times; returns the seconds until the next flush."""
        await self.flush_checks()
        return self._flush_every

    async def flush_checks(self) -> None:
        if not self._last_checks:
            return
        batch, self._last_checks = self._last_checks, {}
        try:
            await self._threads.run(self._store.states.touch_checks, batch)
        except StoreError as exc:
            _log.warning("cannot record last check times", error=str(exc))
            self._last_checks = {**batch, **self._last_checks}
