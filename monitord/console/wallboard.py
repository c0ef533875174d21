"""The dispatcher's wallboard: one tile per site (worst device state, open tickets by class,
the nearest deadline), and its live feed as server-sent events.

SSE, not a WebSocket: plain HTTP that reverse proxies pass, and browsers reconnect by
themselves. The feed sends the grid again only when it changed, and a `tick` otherwise, so
the page can say "connection lost" when ticks stop.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from fastapi import Request

from monitord.config import Config
from monitord.console import views
from monitord.store import Store

if TYPE_CHECKING:
    from monitord.console.web import Console

POLL: Final = 1.0  # seconds between looks at the store: a change shows within ~1 s
LIFETIME: Final = 600.0  # seconds; then the browser reconnects (bounded loop, fresh session check)
# Worst first: the tile takes the first state any of its devices is in.
_SEVERITY: Final = ("down", "unreachable", "degraded", "flapping", "pending", "up")


@dataclass(frozen=True, slots=True)
class Tile:
    site_id: str
    name: str
    state: str
    by_class: tuple[tuple[str, int], ...]
    nearest: views.Clock | None
    tz: str


def tiles(store: Store, config: Config, now: dt.datetime) -> list[Tile]:
    states = store.states.load()
    active = [views.view(config, t, store.tickets.events(t.id), now)
              for t in store.tickets.recent(views.ACTIVE, None, 10_000)]  # fmt: skip
    out = []
    for site in config.sites:
        seen = {states[d.id].state if d.id in states else "pending"
                for d in config.devices if d.site == site.id}  # fmt: skip
        state = next((s for s in _SEVERITY if s in seen), "up")
        mine = [v for v in active if v.ticket.site_id == site.id]
        classes = Counter(v.ticket.ticket_class or "hotline" for v in mine)
        clocks = [c for v in mine if (c := v.next) is not None]
        nearest = min(clocks, key=lambda c: c.remaining or 0.0, default=None)
        out.append(Tile(site.id, site.name, state, tuple(sorted(classes.items())), nearest,
                        site.timezone))  # fmt: skip
    # Trouble first, so a TV shows what matters at the top.
    return sorted(out, key=lambda t: (_SEVERITY.index(t.state), -len(t.by_class), t.site_id))


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
    ends, last = loop.time() + LIFETIME, ""
    yield "retry: 2000\n\n"
    while loop.time() < ends and not await request.is_disconnected():
        shown = await frame()
        if shown is None:
            yield event("done", "")
            return
        yield (
            event("grid", shown)
            if shown != last
            else event("tick", console.clock.now().isoformat())
        )
        last = shown
        await asyncio.sleep(poll)


async def events(request: Request, console: Console, lang: str) -> AsyncIterator[str]:
    from monitord.console.web import fragment

    async def grid() -> str:
        found = await asyncio.to_thread(tiles, console.store, console.config(), console.clock.now())
        return fragment("_grid.html", lang, {"tiles": found}, console)

    async for chunk in feed(request, console, grid):
        yield chunk
