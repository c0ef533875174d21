"""The dispatcher's wallboard: one tile per site (worst device state, open tickets by class,
the nearest deadline), and its live feed as server-sent events.

SSE, not a WebSocket: plain HTTP that reverse proxies pass, and browsers reconnect by
themselves. The feed sends the grid again only when it changed, and a `tick` otherwise, so
the page can say "connection lost" when ticks stop.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import re
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from fastapi import Request

from monitord.config import Config
from monitord.console import ticket_memo, views
from monitord.store import Store
from monitord.ticketing.sla import Deadline

if TYPE_CHECKING:
    from monitord.console.web import Console

POLL: Final = 1.0  # seconds between looks at the store: a change shows within ~1 s
CHECK: Final = 0.5  # seconds: how stale the shared tiles may be before the store is asked
REBUILD: Final = 30.0  # seconds: the longest the tiles are kept without building them again
LIFETIME: Final = 600.0  # seconds; then the browser reconnects (bounded loop, fresh session check)
# Worst first: the tile takes the first state any of its devices is in.
# The page's script ticks countdowns: a frame that differs only in their text is not news.
_COUNTDOWN: Final = re.compile(r'(<time class="countdown"[^>]*>)[^<]*(</time>)')
_SEVERITY: Final = ("down", "unreachable", "degraded", "flapping", "pending", "up")


@dataclass(frozen=True, slots=True)
class Tile:
    site_id: str
    name: str
    state: str
    by_class: tuple[tuple[str, int], ...]
    nearest: views.Clock | None
    tz: str


@dataclass(frozen=True, slots=True)
class _Part:
    """A tile as a state change leaves it; its clock is read at each render."""

    site_id: str
    name: str
    state: str
    by_class: tuple[tuple[str, int], ...]
    nearest: Deadline | None
    tz: str


def tiles(store: Store, config: Config, now: dt.datetime) -> list[Tile]:
    return _finish(_parts(store, config), now)


def _parts(store: Store, config: Config) -> list[_Part]:
    states = store.states.state_names()
    seen: dict[str, set[str]] = {}
    for device in config.devices:
        seen.setdefault(device.site, set()).add(states.get(device.id, "pending"))
    rows = ticket_memo.recent(store, config, views.ACTIVE, None, 10_000)
    classes: dict[str, Counter[str]] = {}
    nearest: dict[str, Deadline] = {}
    for e in ticket_memo.entries(store, config, rows):
        at = e.ticket.site_id
        classes.setdefault(at, Counter())[e.ticket.ticket_class or "hotline"] += 1
        # The running clock due soonest: it stays soonest as time passes.
        for d in e.deadlines:
            if d.met_at is None and d.due is not None and d.due < _due(nearest.get(at)):
                nearest[at] = d
    out = []
    for site in config.sites:
        state = next((s for s in _SEVERITY if s in seen.get(site.id, ())), "up")
        by_class = tuple(sorted(classes.get(site.id, Counter()).items()))
        out.append(_Part(site.id, site.name, state, by_class, nearest.get(site.id),
                         site.timezone))  # fmt: skip
    # Trouble first, so a TV shows what matters at the top.
    return sorted(out, key=lambda t: (_SEVERITY.index(t.state), -len(t.by_class), t.site_id))


def _due(d: Deadline | None) -> dt.datetime:
    return d.due if d is not None and d.due is not None else dt.datetime.max.replace(tzinfo=dt.UTC)


def _finish(parts: list[_Part], now: dt.datetime) -> list[Tile]:
    return [Tile(p.site_id, p.name, p.state, p.by_class,
                 views.clock_of(p.nearest, now) if p.nearest else None, p.tz)
            for p in parts]  # fmt: skip


class Board:
    """The wallboard's tiles, shared by every page and stream of one app: built again only
    when a ticket or a device state changed (CHECK: how often that is looked at, two
    indexed reads), and at least every REBUILD against a change those reads cannot see
    (another writer's transaction committing out of id order). Clocks are read per call."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._config: Config | None = None
        self._key: tuple[int, int] = (-1, -1)
        self._parts: list[_Part] = []
        self._checked = self._built = -math.inf
        self._frames: dict[tuple[str, int, tuple[int, int]], str] = {}

    def parts(self, store: Store, config: Config) -> tuple[tuple[int, int], list[_Part]]:
        with self._lock:  # one thread builds; the others wait for its tiles
            mono = time.monotonic()
            if config is self._config and mono - self._checked < CHECK:
                return self._key, self._parts
            key = (store.tickets.last_event_id(), store.states.last_event_id())
            self._checked = mono
            if config is not self._config or key != self._key or mono - self._built > REBUILD:
                self._parts, self._key, self._config = _parts(store, config), key, config
                self._built = mono
                self._frames.clear()
            return self._key, self._parts

    def tiles(self, store: Store, config: Config, now: dt.datetime) -> list[Tile]:
        return _finish(self.parts(store, config)[1], now)

    def frame(
        self, store: Store, config: Config, now: dt.datetime, lang: str,
        render: Callable[[list[Tile]], str],
    ) -> str:  # fmt: skip
        """The grid as HTML for `lang`, rendered once a second for all the streams."""
        key, parts = self.parts(store, config)
        at = (lang, int(now.timestamp()), key)
        with self._lock:
            found = self._frames.get(at)
        if found is None:
            found = render(_finish(parts, now))
            with self._lock:
                if len(self._frames) > 8:  # a second or two, two languages
                    self._frames.clear()
                self._frames[at] = found
        return found


def event(name: str, data: str) -> str:
    lines = "".join(f"data: {line}\n" for line in data.splitlines() or [""])
    return f"event: {name}\n{lines}\n"


async def feed(
    request: Request, console: Console, frame: Callable[[], Awaitable[str | None]],
    poll: float = POLL,
) -> AsyncIterator[str]:  # fmt: skip
    """The console's live feed: `frame()` (an HTML fragment) as a `grid` event when it
    changed, a `tick` otherwise; `frame()` answering None ends the feed with `done` (the
    page then loads itself again: a discovery run's proposal). Bounded by LIFETIME."""
    loop = asyncio.get_running_loop()
    ends, last = loop.time() + LIFETIME, None
    yield "retry: 2000\n\n"
    while loop.time() < ends and not await request.is_disconnected():
        shown = await frame()
        if shown is None:
            yield event("done", "")
            return
        settled = _COUNTDOWN.sub(r"\1\2", shown)
        yield (
            event("grid", shown)
            if settled != last
            else event("tick", console.clock.now().isoformat())
        )
        last = settled
        await asyncio.sleep(poll)


async def events(request: Request, console: Console, lang: str) -> AsyncIterator[str]:
    from monitord.console.web import fragment

    def render(found: list[Tile]) -> str:
        return fragment("_grid.html", lang, {"tiles": found}, console)

    async def grid() -> str:
        return await asyncio.to_thread(console.board.frame, console.store, console.config(),
                                       console.clock.now(), lang, render)  # fmt: skip

    async for chunk in feed(request, console, grid):
        yield chunk
