"""Commands from the centre to a site poller ("probe now", "discover"), over the poller's own
outbound connection: nothing listens at the site, so an order waits here until the poller's
held long poll (`GET /config?wait=`, sites/centre.py) takes it, and the poller answers with
`POST /commands/{id}` (sites/routes.py): "accepted", progress, then a result.

Kept in memory, not in the store, on purpose: a command is interactive and short-lived (a
person waits for a probe's answer, seconds; a discovery run, minutes). After a centre
restart nobody waits for the answer any more, and a probe run later than asked for would
show a state that is no longer news; so a restart forgets them, and the caller (who went
with the old process) is the only one who could have cared. Delivery is at most once: an
order is handed out in one answer and not again, so a discovery never runs twice; if the
poller does not accept it within `DELIVERY` seconds the caller hears so, at once.

Whoever asks gets a clear refusal before anything waits (`Refused`, its reason an i18n
key): an unknown or revoked poller, a silent one, one too old for commands (wire < 1.2),
or too many orders waiting for one poller.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
from collections import Counter
from collections.abc import AsyncGenerator, Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from monitord import log
from monitord.clock import Clock
from monitord.config import Config
from monitord.sites.wire import Command, Update
from monitord.store import Store

_log = log.get("monitord.sites")
COMMANDS_MINOR: Final = 2  # the wire's first minor version that carries commands
DELIVERY: Final = 5.0  # seconds for a connected poller to accept an order
PROBE_TIMEOUT: Final = 30.0
DISCOVER_TIMEOUT: Final = 900.0
_QUEUED: Final = 16  # orders open per poller at most
_KEPT: Final = 256  # updates buffered per order (progress beyond that is dropped)

Kind = Literal["probe", "discover"]


class Refused(Exception):
    """The order cannot be given (`reason`: an i18n key such as "cmd_too_old")."""

    def __init__(self, reason: str, poller: str, detail: str = "") -> None:
        super().__init__(f"{poller}: {reason}{': ' + detail if detail else ''}")
        self.reason, self.poller, self.detail = reason, poller, detail


class NotYours(Exception):
    """A poller answered an order it was not given (or one already finished)."""


@dataclass(eq=False)
class _Order:
    command: Command
    poller: str
    created: float  # monotonic
    updates: asyncio.Queue[Update] = field(default_factory=asyncio.Queue)
    delivered: bool = False
    accepted: bool = False
    finished: bool = False
    cancelled: bool = False


@dataclass(frozen=True, slots=True)
class Progress:
    """A step of a running order, as the poller reported it."""

    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Outcome:
    """An order's final answer: its result, or why it failed (`error`)."""

    data: dict[str, Any]
    error: str | None = None
    where: str = "centre"  # who ran it: "centre" or a poller's id


class Commands:
    def __init__(self, store: Store, clock: Clock, config: Callable[[], Config]) -> None:
        self._store, self._clock, self._config = store, clock, config
        self._orders: dict[str, _Order] = {}
        self._heard: dict[str, tuple[int, float]] = {}  # poller -> (wire minor, monotonic)
        self._wake: dict[str, asyncio.Event] = {}
        self.delivery = DELIVERY  # seconds a connected poller has to accept an order
        self.last_delivery: float | None = None  # seconds from queued to accepted, last order
        # (poller, outcome) -> orders so far, for /metrics (sites/metrics.py): "delivered"
        # (accepted), "failed" (the poller said so), "not_delivered", "timeout".
        self.counts: Counter[tuple[str, str]] = Counter()

    def pending(self) -> Counter[str]:
        """Orders not finished yet, per poller (queued or running)."""
        return Counter(o.poller for o in self._orders.values() if not o.finished)

    # -- the link's side (sites/routes.py, sites/centre.py) --------------------------------

    def heard(self, poller: str, minor: int) -> None:
        """Every authenticated exchange: which wire version the poller speaks now."""
        self._heard[poller] = (minor, self._clock.monotonic())

    def wake(self, poller: str) -> asyncio.Event:
        """Set when an order or a cancellation waits for `poller` (its long poll returns)."""
        return self._wake.setdefault(poller, asyncio.Event())

    def take(self, poller: str) -> tuple[tuple[Command, ...], tuple[str, ...]]:
        """What to hand the poller in this answer: new orders and ones to stop."""
        self._wake.pop(poller, None)
        mine = [o for o in self._orders.values() if o.poller == poller]
        new = [o for o in mine if not o.delivered and not o.cancelled]
        for o in new:
            o.delivered = True
        stop = [o for o in mine if o.cancelled and o.delivered and not o.finished]
        for o in stop:
            o.finished = True  # told once; its answers are refused from now on
            self._orders.pop(o.command.id, None)
        return tuple(o.command for o in new), tuple(o.command.id for o in stop)

    def waiting(self, poller: str) -> bool:
        return any(
            o.poller == poller and ((not o.delivered and not o.cancelled) or
                                    (o.cancelled and o.delivered and not o.finished))
            for o in self._orders.values()
        )  # fmt: skip

    def answer(self, poller: str, command_id: str, update: Update) -> bool:
        """An update from the poller; returns whether the order was cancelled (stop)."""
        order = self._orders.get(command_id)
        if order is None or order.poller != poller or not order.delivered or order.finished:
            raise NotYours(command_id)
        if order.cancelled:
            return True
        if update.kind == "accepted" and not order.accepted:
            order.accepted = True
            self.last_delivery = self._clock.monotonic() - order.created
            self.counts[(poller, "delivered")] += 1
            _log.info("command accepted", poller=poller, command=command_id,
                      delivery_ms=round(self.last_delivery * 1000, 1))  # fmt: skip
        elif update.kind == "progress" and order.updates.qsize() >= _KEPT:
            return False  # a caller that stopped reading: drop progress, never a result
        order.updates.put_nowait(update)
        if update.kind == "failed":
            self.counts[(poller, "failed")] += 1
        if update.kind in ("result", "failed"):
            order.finished = True  # kept for its follower, who forgets it (or _purge)
        return False

    # -- the caller's side (console) -------------------------------------------------------

    async def submit(
        self, poller: str, kind: Kind, args: dict[str, Any], within: float | None = None
    ) -> str:
        """Queue an order for `poller`, to be done `within` seconds (by default the kind's
        timeout; the poller is told it too); its id. Raises Refused at once when it cannot
        go."""
        await self.check(poller)
        self._purge()
        if (
            sum(1 for o in self._orders.values() if o.poller == poller and not o.finished)
            >= _QUEUED
        ):
            raise Refused("cmd_busy", poller)
        timeout = within or (PROBE_TIMEOUT if kind == "probe" else DISCOVER_TIMEOUT)
        command = Command(id=secrets.token_urlsafe(12), kind=kind, args=args, timeout=timeout)
        self._orders[command.id] = _Order(command, poller, self._clock.monotonic())
        self.wake(poller).set()
        _log.info("command queued", poller=poller, command=command.id, kind=kind)
        return command.id

    async def check(self, poller: str) -> None:
        """Raises Refused when `poller` could not take an order now (unknown, revoked,
        silent, not connected here, too old): what a page says before anyone presses."""
        record = await asyncio.to_thread(self._store.pollers.get, poller)
        if record is None:
            raise Refused("cmd_unknown_poller", poller)
        if record.revoked_at is not None:
            raise Refused("cmd_revoked", poller)
        silence = self._config().poller_silence
        now = self._clock.now()
        if record.silent or record.last_seen is None or (
            now - record.last_seen > dt.timedelta(seconds=silence)
        ):  # fmt: skip
            raise Refused("cmd_silent", poller)
        heard = self._heard.get(poller)
        if heard is None or self._clock.monotonic() - heard[1] > silence:
            # Seen (its heartbeat), but never on this centre's link since it started.
            raise Refused("cmd_not_connected", poller)
        if heard[0] < COMMANDS_MINOR:
            raise Refused("cmd_too_old", poller, f"wire 1.{heard[0]}")

    def _purge(self) -> None:
        """Forget orders nobody can be waiting for any more (a poller that went away with
        them, a caller that never followed), so they cannot keep a poller "busy"."""
        now = self._clock.monotonic()
        for key, o in list(self._orders.items()):
            if now - o.created > o.command.timeout + self.delivery:
                del self._orders[key]

    def cancel(self, command_id: str) -> None:
        """The caller gave up: the poller is told to stop at its next exchange."""
        order = self._orders.get(command_id)
        if order is None or order.finished:
            return
        order.cancelled = True
        if not order.delivered:
            self._orders.pop(command_id, None)
            return
        self.wake(order.poller).set()

    async def follow(self, command_id: str) -> AsyncGenerator[Progress | Outcome, None]:
        """The order's progress, then its outcome (last). An order not accepted within
        DELIVERY seconds, or not finished within its timeout, ends in an outcome with
        `error` ("cmd_not_delivered", "cmd_timeout"); leaving early cancels it."""
        order = self._orders.get(command_id)
        if order is None:
            yield Outcome({}, "cmd_unknown_command", "")
            return
        deadline = order.created + order.command.timeout
        try:
            while True:
                left = deadline - self._clock.monotonic()
                if not order.accepted:
                    left = min(left, order.created + self.delivery - self._clock.monotonic())
                update = await self._next(order, left)
                if update is None:
                    late = "cmd_timeout" if order.accepted else "cmd_not_delivered"
                    self.counts[(order.poller, late.removeprefix("cmd_"))] += 1
                    _log.warning("command unanswered", poller=order.poller,
                                 command=command_id, error=late)  # fmt: skip
                    yield Outcome({}, late, order.poller)
                    return
                if update.kind == "progress":
                    yield Progress(update.data)
                elif update.kind in ("result", "failed"):
                    error = None if update.kind == "result" else str(
                        update.data.get("error", "cmd_failed"))[:200]  # fmt: skip
                    yield Outcome(update.data, error, order.poller)
                    return
        finally:
            if order.finished:
                self._orders.pop(command_id, None)
            else:
                self.cancel(command_id)  # timed out or the caller left: the poller stops too

    async def _next(self, order: _Order, left: float) -> Update | None:
        """The order's next update, or None after `left` seconds (on the injected clock)."""
        if not order.updates.empty():
            return order.updates.get_nowait()
        if left <= 0:
            return None
        getting = asyncio.ensure_future(order.updates.get())
        timer = asyncio.ensure_future(self._clock.sleep(left))
        try:
            await asyncio.wait([getting, timer], return_when=asyncio.FIRST_COMPLETED)
        finally:
            timer.cancel()
            if not getting.done():
                getting.cancel()
        return getting.result() if getting.done() and not getting.cancelled() else None

    async def run(
        self, poller: str, kind: Kind, args: dict[str, Any], within: float | None = None
    ) -> AsyncGenerator[Progress | Outcome, None]:
        """Submit and follow; a refusal is the one outcome (its reason as `error`)."""
        try:
            command_id = await self.submit(poller, kind, args, within)
        except Refused as exc:
            yield Outcome({}, exc.reason, poller)
            return
        async with aclosing(self.follow(command_id)) as steps:
            async for step in steps:
                yield step

    async def result(
        self, poller: str, kind: Kind, args: dict[str, Any], within: float | None = None
    ) -> Outcome:
        """Submit and wait for the outcome alone (progress is let go)."""
        last = Outcome({}, "cmd_timeout", poller)
        async with aclosing(self.run(poller, kind, args, within)) as steps:
            async for step in steps:
                if isinstance(step, Outcome):
                    last = step
        return last

    async def run_discover(
        self, site: str, ranges: Sequence[str] = ()
    ) -> AsyncGenerator[Progress | Outcome, None]:
        """A discovery run of `site` (its configured ranges, or `ranges` inside them) where
        the devices are: by the site's poller, or here for a `local` site. Progress (stage,
        addresses, probed, found, walked), then the outcome: the change set as
        `monitord discover --json` prints it, each change with its `record`. Leaving early
        stops the run."""
        # Here, not at the top: the console imports this module, discovery's probers need
        # not come with it until a local site is discovered.
        from monitord.discovery.plan import PlanError, last_positions, run_as_data, watched

        config = self._config()
        found = next((s for s in config.sites if s.id == site), None)
        if found is None:
            yield Outcome({}, "no_site")
            return
        last = await asyncio.to_thread(last_positions, self._store, site)
        if found.poller != "local":
            args = {"site": site, "ranges": list(ranges),
                    "last": {mac: list(p) for mac, p in last.items()}}  # fmt: skip
            async with aclosing(self.run(found.poller, "discover", args)) as steps:
                async for step in steps:
                    yield step
            return
        try:
            run = watched(lambda st: run_as_data(config, site, ranges, last, self._clock.now, st))
            async with aclosing(run) as moves:
                async for moved in moves:
                    if "result" in moved:
                        yield Outcome(moved["result"])
                        return
                    yield Progress(moved["progress"])
        except PlanError as exc:
            yield Outcome({}, exc.key or "outside_ranges")
