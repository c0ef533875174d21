"""What the console's pages show, read from the store and shaped for the templates (pure
shapes plus the few store reads; called in a thread). SLA clocks come from ticketing/sla.py,
never recomputed here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from monitord.config import Config
from monitord.config.models import Site
from monitord.console import ticket_memo
from monitord.console.accounts import User
from monitord.store import Store
from monitord.store.records import TicketEventRecord, TicketRecord
from monitord.ticketing.lifecycle import EventKind, Status
from monitord.ticketing.sla import Deadline

WORKING = [s.value for s in Status][:6]  # open .. in_progress: an engineer's work
ACTIVE = [s.value for s in Status if s != Status.CLOSED]
STATUSES = [s.value for s in Status]
CLASSES = ("A", "B", "C", "D", "hotline")
EN_ROUTE = "en_route"  # a comment's data.milestone: the lifecycle has no state for it
_MAX = 2000
PAGE = 50  # tickets per page of a list: a phone screenful or two, fast at any fleet size


@dataclass(frozen=True, slots=True)
class Clock:
    milestone: str
    due: dt.datetime | None
    met_at: dt.datetime | None
    breached: bool
    paused: bool
    remaining: float | None  # seconds; negative when overdue


@dataclass(frozen=True, slots=True)
class TicketView:
    ticket: TicketRecord
    site_name: str
    tz: str
    clocks: tuple[Clock, ...]
    events: tuple[TicketEventRecord, ...]
    en_route: bool
    assignee: str | None  # the console user of the latest assignment

    @property
    def next(self) -> Clock | None:
        """The running clock due soonest."""
        running = [c for c in self.clocks if c.met_at is None and c.due is not None]
        return min(running, key=lambda c: c.remaining or 0.0, default=None)


def clock_of(d: Deadline, now: dt.datetime) -> Clock:
    left = d.remaining(now)
    seconds = left.total_seconds() if left is not None else None
    return Clock(d.milestone, d.due, d.met_at, d.breached(now), d.paused, seconds)


def view(
    config: Config, ticket: TicketRecord, events: Sequence[TicketEventRecord], now: dt.datetime
) -> TicketView:
    memo = ticket_memo.memo_of(config)
    return _shape(memo, ticket_memo.compute(memo, ticket, events), now)


def views_of(
    store: Store, config: Config, rows: Sequence[TicketRecord], now: dt.datetime
) -> list[TicketView]:
    """`view` for many rows: their logs and deadlines from the memo (console/ticket_memo.py)."""
    memo = ticket_memo.memo_of(config, store)
    return [_shape(memo, e, now) for e in ticket_memo.entries(store, config, rows)]


def _shape(memo: ticket_memo.Memo, entry: ticket_memo.Entry, now: dt.datetime) -> TicketView:
    ticket, events = entry.ticket, entry.events
    site = memo.sites.get(ticket.site_id)
    en_route = any(e.data.get("milestone") == EN_ROUTE for e in events)
    return TicketView(ticket, site.name if site else ticket.site_id,
                      site.timezone if site else "UTC",
                      tuple(clock_of(d, now) for d in entry.deadlines),
                      events, en_route, assignee(events))  # fmt: skip


def one(
    store: Store, config: Config, user: User, ticket_id: int, now: dt.datetime
) -> TicketView | None:
    """A ticket the user may see, or None (also for another tenant's: nothing leaks)."""
    found = store.tickets.get(ticket_id)
    if found is None or not user.sees(found[0].contract, found[0].site_id):
        return None
    return view(config, found[0], found[1], now)


def _by_breach(views: list[TicketView]) -> list[TicketView]:
    def key(v: TicketView) -> tuple[int, float, int]:
        n = v.next
        return (0, n.remaining or 0.0, v.ticket.id) if n else (1, 0.0, v.ticket.id)

    return sorted(views, key=key)


def mine(store: Store, config: Config, user: User, now: dt.datetime) -> list[TicketView]:
    """An engineer's queue: the tickets assigned to them, those they have acted on, and the
    open work nobody has been given yet; soonest breach first."""
    out = []
    rows = ticket_memo.recent(store, config, WORKING, None, _MAX)
    for v in views_of(store, config, rows, now):
        free = v.ticket.status == Status.OPEN.value and v.assignee is None
        if free or v.assignee == user.name or any(e.by == user.name for e in v.events):
            out.append(v)
    return _by_breach(out)


def assignee(events: Sequence[TicketEventRecord]) -> str | None:
    """The console user of the latest assignment, if any."""
    assigned = [e for e in events if e.kind == EventKind.ASSIGNED.value]
    return str(assigned[-1].data.get("engineer")) if assigned else None


@dataclass(frozen=True, slots=True)
class Filters:
    """The ticket list's filters (each empty: any)."""

    site: str = ""
    ticket_class: str = ""  # A-D or "hotline"
    status: str = ""

    def keeps(self, t: TicketRecord) -> bool:
        return (
            (not self.site or t.site_id == self.site)
            and (not self.ticket_class or (t.ticket_class or "hotline") == self.ticket_class)
            and (not self.status or t.status == self.status)
        )


def visible(
    store: Store, config: Config, user: User, now: dt.datetime, filters: Filters = Filters()
) -> list[TicketView]:
    """Every ticket this user may see that the filters keep (active ones unless a status
    is asked for; a customer: their contract and sites)."""
    contract = user.contract if user.contract else None
    statuses = [filters.status] if filters.status in STATUSES else ACTIVE
    found = [t for t in ticket_memo.recent(store, config, statuses, contract, _MAX)
             if user.sees(t.contract, t.site_id) and filters.keeps(t)]  # fmt: skip
    return _by_breach(views_of(store, config, found, now))


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a sorted list, and the links to its neighbours (filters kept)."""

    items: list[TicketView]
    number: int
    pages: int
    total: int
    prev_url: str
    next_url: str


def page_of(found: list[TicketView], number: int, base: str, query: dict[str, str]) -> Page:
    pages = max(1, -(-len(found) // PAGE))
    number = min(max(1, number), pages)
    kept = {k: v for k, v in query.items() if v}

    def url(n: int) -> str:
        return base + "?" + urlencode({**kept, "page": n}) if 1 <= n <= pages else ""

    items = found[(number - 1) * PAGE : number * PAGE]
    return Page(items, number, pages, len(found), url(number - 1), url(number + 1))


def sites_of(config: Config, user: User) -> list[Site]:
    """The sites a user may report a fault for or filter by (a customer: their own)."""
    return [s for s in config.sites if s.contract and user.sees(s.contract, s.id)]


def engineers(store: Store) -> list[tuple[str, str]]:
    """Who a ticket may be assigned to: enabled engineers and managers, (name, display)."""
    return [(u.name, u.display_name) for u in store.accounts.users()
            if u.role in ("engineer", "manager") and not u.disabled]  # fmt: skip
