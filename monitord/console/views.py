"""What the console's pages show, read from the store and shaped for the templates (pure
shapes plus the few store reads; called in a thread). SLA clocks come from ticketing/sla.py,
never recomputed here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from monitord.config import Config
from monitord.config.models import Site
from monitord.console.accounts import User
from monitord.store import Store
from monitord.store.records import TicketEventRecord, TicketRecord
from monitord.ticketing.lifecycle import EventKind, Status
from monitord.ticketing.sla import Deadline, deadlines
from monitord.ticketing.tickets import as_events

WORKING = [s.value for s in Status][:6]  # open .. in_progress: an engineer's work
ACTIVE = [s.value for s in Status if s != Status.CLOSED]
STATUSES = [s.value for s in Status]
CLASSES = ("A", "B", "C", "D", "hotline")
EN_ROUTE = "en_route"  # a comment's data.milestone: the lifecycle has no state for it
_MAX = 2000


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


def _clock(d: Deadline, now: dt.datetime) -> Clock:
    left = d.remaining(now)
    seconds = left.total_seconds() if left is not None else None
    return Clock(d.milestone, d.due, d.met_at, d.breached(now), d.paused, seconds)


def view(
    config: Config, ticket: TicketRecord, events: Sequence[TicketEventRecord], now: dt.datetime
) -> TicketView:
    site = next((s for s in config.sites if s.id == ticket.site_id), None)
    contract = next((c for c in config.contracts if c.id == ticket.contract), None)
    zone = site.zone.value if site else "city"
    found = deadlines(as_events(list(events)), contract, zone, now) if contract else []
    en_route = any(e.data.get("milestone") == EN_ROUTE for e in events)
    return TicketView(ticket, site.name if site else ticket.site_id,
                      site.timezone if site else "UTC", tuple(_clock(d, now) for d in found),
                      tuple(events), en_route, assignee(events))  # fmt: skip


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
    for t in store.tickets.recent(WORKING, None, _MAX):
        events = store.tickets.events(t.id)
        to = assignee(events)
        free = t.status == Status.OPEN.value and to is None
        if free or to == user.name or any(e.by == user.name for e in events):
            out.append(view(config, t, events, now))  # the clocks only for what is shown
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
    found = [t for t in store.tickets.recent(statuses, contract, _MAX)
             if user.sees(t.contract, t.site_id) and filters.keeps(t)]  # fmt: skip
    return _by_breach([view(config, t, store.tickets.events(t.id), now) for t in found])


def sites_of(config: Config, user: User) -> list[Site]:
    """The sites a user may report a fault for or filter by (a customer: their own)."""
    return [s for s in config.sites if s.contract and user.sees(s.contract, s.id)]


def engineers(store: Store) -> list[tuple[str, str]]:
    """Who a ticket may be assigned to: enabled engineers and managers, (name, display)."""
    return [(u.name, u.display_name) for u in store.accounts.users()
            if u.role in ("engineer", "manager") and not u.disabled]  # fmt: skip
