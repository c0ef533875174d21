"""What the console's lists keep between requests: each ticket's log and SLA deadlines, by
the ticket's version.

A ticket's deadlines are a function of its events, its contract and its zone alone (the
clock's `now` only reads them: ticketing/sla.py), and its version counts its events, so a
(ticket id, version) pair names them for good. The ticket list, "Mine" and the wallboard
read a few thousand active tickets per request; with this they read the rows (one query)
and fetch and compute only the tickets that changed since. Kept per configuration object:
a reload (new contracts) starts afresh.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from monitord.config import Config
from monitord.config.contracts import Contract
from monitord.config.models import Site
from monitord.store import Store
from monitord.store.records import TicketEventRecord, TicketRecord
from monitord.ticketing.lifecycle import as_events
from monitord.ticketing.sla import Deadline, deadlines

_BATCH: Final = 500  # ids per read: well under SQLite's bound-parameter limit
_MAX_ENTRIES: Final = 50_000  # then start afresh: memory stays bounded however long it runs
FRESH: Final = 30.0  # seconds a list of rows is kept while no ticket event is newer


@dataclass(frozen=True, slots=True)
class Entry:
    ticket: TicketRecord
    events: tuple[TicketEventRecord, ...]
    deadlines: tuple[Deadline, ...]


@dataclass
class Memo:
    config: Config
    store: Store | None  # None: the lookups alone, for one ticket's view
    sites: dict[str, Site]
    contracts: dict[str, Contract]
    entries: dict[int, Entry] = field(default_factory=dict)
    # (statuses, contract, limit) -> (the newest ticket event then, when read, the rows)
    rows: dict[tuple[tuple[str, ...], str | None, int], tuple[int, float, list[TicketRecord]]] = (
        field(default_factory=dict)
    )


_lock = threading.Lock()
_current: dict[bool, Memo] = {}


def memo_of(config: Config, store: Store | None = None) -> Memo:
    """The memo of this configuration (and store: two stores never share ticket ids)."""
    with _lock:
        found = _current.get(store is not None)
        if found is None or found.config is not config or found.store is not store:
            sites = {s.id: s for s in config.sites}
            contracts = {c.id: c for c in config.contracts}
            found = _current[store is not None] = Memo(config, store, sites, contracts)
        return found


def recent(
    store: Store, config: Config, statuses: Sequence[str], contract: str | None, limit: int
) -> list[TicketRecord]:
    """`store.tickets.recent`, read again only when a ticket changed (every change appends
    an event: one indexed read tells) or FRESH seconds passed (a writer whose transaction
    commits out of id order, on PostgreSQL, is seen by then)."""
    memo = memo_of(config, store)
    key = (tuple(statuses), contract, limit)
    mark, now = store.tickets.last_event_id(), time.monotonic()
    found = memo.rows.get(key)
    if found is not None and found[0] == mark and now - found[1] < FRESH:
        return found[2]
    rows = store.tickets.recent(statuses, contract, limit)
    if len(memo.rows) > 64:  # a customer's list each: bounded
        memo.rows.clear()
    memo.rows[key] = (mark, now, rows)
    return rows


def compute(memo: Memo, ticket: TicketRecord, events: Sequence[TicketEventRecord]) -> Entry:
    site = memo.sites.get(ticket.site_id)
    contract = memo.contracts.get(ticket.contract)
    zone = site.zone.value if site else "city"
    # `now` only reads the deadlines (sla.py): any instant gives the same ones.
    at = ticket.updated_at
    found = deadlines(as_events(list(events)), contract, zone, at) if contract else []
    return Entry(ticket, tuple(events), tuple(found))


def entries(store: Store, config: Config, rows: Sequence[TicketRecord]) -> list[Entry]:
    """Each row's entry, in the rows' order; a row newer than its memo is read again."""
    memo = memo_of(config, store)
    known = memo.entries
    stale = [t.id for t in rows if (e := known.get(t.id)) is None or e.ticket.version != t.version]
    if len(known) + len(stale) > _MAX_ENTRIES:
        known.clear()
    for start in range(0, len(stale), _BATCH):
        for ticket_id, (ticket, events) in store.tickets.get_many(
            stale[start : start + _BATCH]
        ).items():
            known[ticket_id] = compute(memo, ticket, events)
    # A ticket read again may be newer than its row (an event in between): show the newer.
    return [known[t.id] for t in rows if t.id in known]
