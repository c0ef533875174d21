"""Threads of a store writer's own, apart from the default executor.

Behind the default executor (every `to_thread` of the daemon: tickets, history, the API) a
write that someone waits on (a transition holding a scheduler slot, a probe's journal entry)
queued for as long as the others held its workers on SQLite's writer lock. The writers that
must not wait so (health/recorder.py, health/journal.py) each keep a few threads here.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import TypeVar

_T = TypeVar("_T")


class WriterThreads:
    def __init__(self, workers: int, name: str) -> None:
        self._pool = ThreadPoolExecutor(workers, name)
        self._closed = False

    async def run(self, fn: Callable[..., _T], *args: object) -> _T:
        """`fn(*args)` on these threads, as `asyncio.to_thread` runs it on the default ones."""
        # The caller's context goes along, as with to_thread: a fenced write stays fenced.
        call = partial(contextvars.copy_context().run, fn, *args)
        # Closed: the daemon is stopping; a write that still comes is still written.
        pool = None if self._closed else self._pool
        return await asyncio.get_running_loop().run_in_executor(pool, call)

    def close(self) -> None:
        """Wait for the writes under way; later ones go to the default executor."""
        self._closed = True
        self._pool.shutdown(wait=True)
