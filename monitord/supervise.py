"""Every background task of the daemon under one owner, so that nothing dies unseen.

A `Supervisor` owns an asyncio.TaskGroup. Each component is started through it, either as a
periodic *step* (one pass; returns the seconds until the next one) or as a long-running
*service* (a coroutine that runs until cancelled, like a scheduler). An exception the
component did not handle itself is logged as JSON with its traceback, counted in
`monitord_task_failures_total{task}` (one series per task name, a bounded set) and the step
or service starts again after a back-off: 1 s doubling to 60 s, back to 1 s after a success.

Critical tasks (scheduler, state recorder, dispatcher, SLA clocks) also report progress: a
step that completes is progress, a service calls `beat()`. systemd's WATCHDOG=1 is sent only
while every critical task has made progress recently, so a wedged or dead critical loop
stops the feeding and systemd restarts the daemon.

Retries use one policy object, `Backoff` (and `retry()` for "until the store takes it"),
rather than a library: tenacity measured 48-79 ms to import and ~174 us per successful call
(the helper ~1 us), and has no way to start from an attempt count stored in the database,
which is what the outbox does.
"""

from __future__ import annotations

import asyncio
import traceback
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Self, TypeVar

from prometheus_client import CollectorRegistry, Counter

from monitord import log, sdnotify
from monitord.clock import Clock

_log = log.get("monitord.supervise")
_T = TypeVar("_T")

Step = Callable[[], Awaitable[float]]
"""One pass of a periodic component; returns the seconds until the next pass."""


@dataclass(frozen=True, slots=True)
class Backoff:
    """Delays that grow by `factor` from `first` up to `cap`: the one retry policy."""

    first: float = 1.0
    cap: float = 60.0
    factor: float = 2.0

    def delay(self, failures: int) -> float:
        """The wait after the `failures`-th failure in a row (1, 2, ...; 0 counts as 1)."""
        return min(self.cap, self.first * self.factor ** max(0, failures - 1))


RESTART = Backoff(1.0, 60.0)
"""How a supervised step or service starts again after an unexpected exception."""


async def retry(
    action: Callable[[], Awaitable[_T]],
    clock: Clock,
    policy: Backoff,
    retry_on: type[Exception] | tuple[type[Exception], ...],
    on_error: Callable[[Exception], None],
    tries: int | None = None,
) -> _T:
    """`action()`'s result, tried again after `policy`'s delays while it raises `retry_on`
    (reported to `on_error` each time); after `tries` failures the last one is raised."""
    failures = 0
    while True:
        try:
            return await action()
        except retry_on as exc:
            failures += 1
            on_error(exc)
            if tries is not None and failures >= tries:
                raise
            await clock.sleep(policy.delay(failures))


async def repeat(step: Step, clock: Clock, first_after: float = 0.0) -> None:
    """Run `step` forever, waiting what it returns; unsupervised (tests, one component)."""
    await clock.sleep(first_after)
    while True:
        await clock.sleep(await step())


@dataclass(slots=True)
class _Progress:
    stale_after: float
    due: float  # monotonic instant after which the task counts as stuck


class Supervisor:
    def __init__(
        self,
        clock: Clock,
        registry: CollectorRegistry | None = None,
        restart: Backoff = RESTART,
        stale_after: float = 120.0,
    ) -> None:
        self._clock, self._restart, self._stale_after = clock, restart, stale_after
        self.failures = Counter(
            "monitord_task_failures_total",
            "Unexpected exceptions in a background task (each one restarts the task)",
            ["task"],
            registry=registry,
        )
        self._group: asyncio.TaskGroup | None = None
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._progress: dict[str, _Progress] = {}
        self._in_row: dict[str, int] = {}  # failures since the last success, per task
        self._starving = False

    async def __aenter__(self) -> Self:
        self._group = asyncio.TaskGroup()
        await self._group.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._group is not None
        if exc[0] is not None:  # leaving by an error: stop the children too
            for task in self._tasks.values():
                task.cancel()
        await self._group.__aexit__(*exc)  # type: ignore[arg-type]

    # -- starting -------------------------------------------------------------------------

    def periodic(
        self, name: str, step: Step, first_after: float = 0.0, critical: bool = False
    ) -> None:
        """Run `step` now (or after `first_after` s), then again after what it returns."""

        wait = [first_after]  # only before the first pass, not after a restart

        async def turns() -> None:
            await self._clock.sleep(wait.pop() if wait else 0.0)
            while True:
                quiet = await step()
                self.beat(name, quiet)
                await self._clock.sleep(quiet)

        self._start(name, turns, critical, first_after)

    def service(
        self, name: str, run: Callable[[], Awaitable[None]], critical: bool = False
    ) -> None:
        """Run `run()` until cancelled, again after a back-off if it raises. A critical
        service calls `beat()` as it goes."""
        self._start(name, run, critical, 0.0)

    def once(self, name: str, run: Awaitable[None]) -> asyncio.Task[None]:
        """A one-off job (a reload): owned and reported like the others, not restarted."""

        async def guarded() -> None:
            try:
                await run
            except Exception as exc:  # noqa: BLE001 - reported, never lost
                self._failed(name, exc, None)

        return self._spawn(name, guarded())

    def _start(
        self, name: str, body: Callable[[], Awaitable[None]], critical: bool, grace: float
    ) -> None:
        if critical:
            self._progress[name] = _Progress(
                self._stale_after, self._clock.monotonic() + grace + self._stale_after
            )
        self._spawn(name, self._keep_running(name, body))

    def _spawn(self, name: str, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        assert self._group is not None, "use the supervisor inside `async with`"
        task = self._group.create_task(coro, name=name)
        self._tasks[name] = task

        def gone(done: asyncio.Task[None]) -> None:
            if self._tasks.get(name) is done:
                del self._tasks[name]

        task.add_done_callback(gone)
        return task

    async def _keep_running(self, name: str, body: Callable[[], Awaitable[None]]) -> None:
        self._in_row[name] = 0
        while True:  # the daemon's one restart loop: every component comes back
            started = self._clock.monotonic()
            try:
                await body()
                return  # a service that ends on its own is done
            except Exception as exc:  # noqa: BLE001 - the point: log, count, restart
                # A success (a beat) or a long run before failing starts from the first delay.
                ran = self._clock.monotonic() - started
                failures = 1 if ran >= self._restart.cap else self._in_row[name] + 1
                self._in_row[name] = failures
                delay = self._restart.delay(failures)
                self._failed(name, exc, delay)
                await self._clock.sleep(delay)

    def _failed(self, name: str, exc: Exception, delay: float | None) -> None:
        self.failures.labels(name).inc()
        _log.error(
            "background task failed" + ("; restarting" if delay is not None else ""),
            task=name,
            error=repr(exc),
            restart_in=delay,
            traceback="".join(traceback.format_exception(exc)),
        )

    # -- progress and the watchdog --------------------------------------------------------

    def beat(self, name: str, quiet_for: float = 0.0) -> None:
        """`name` made progress now and may be quiet for `quiet_for` s (its next pass)."""
        self._in_row[name] = 0
        p = self._progress.get(name)
        if p is not None:
            p.due = self._clock.monotonic() + quiet_for + p.stale_after

    def stale(self) -> list[str]:
        """The critical tasks that have not made progress in time, or are gone."""
        now = self._clock.monotonic()
        return sorted(n for n, p in self._progress.items() if now > p.due or n not in self._tasks)

    def feed_watchdog(self, every: float) -> None:
        """Send WATCHDOG=1 every `every` s while no critical task is stale."""

        async def feed() -> float:
            stale = self.stale()
            if not stale:
                sdnotify.notify("WATCHDOG=1")
            elif not self._starving:
                _log.error("critical tasks made no progress; not feeding the watchdog", tasks=stale)
            self._starving = bool(stale)
            return every

        self.periodic("watchdog", feed)

    # -- stopping -------------------------------------------------------------------------

    async def cancel(self, *names: str) -> None:
        """Cancel these tasks and wait until they have ended (in the order of shutdown)."""
        tasks = [t for n in names if (t := self._tasks.get(n)) is not None]
        for name in names:
            self._progress.pop(name, None)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def cancel_all(self) -> None:
        await self.cancel(*list(self._tasks))
