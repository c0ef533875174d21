"""Customer follow-up visits (P4, seed 000 §2(3)): which visits are owed, which were made.

回访频率: after acceptance at least once a month for a year, then at least once every 3 months.
Read as windows anchored at the acceptance date: each window needs a visit inside it. The
windows are computed, never stored: each starts at acceptance + n months (clamped to the
month's end, so 31 Jan -> 28/29 Feb), so they cannot drift. A window is `done` with a visit
inside it, `due` while it runs without one, `overdue` once it ended without one. Windows
that ended before the site's `followups_since` (history before monitord) are not counted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace

from monitord.config.contracts import Contract, FaultKind, TicketClass
from monitord.config.models import Config, Site
from monitord.config.prevention import FollowUpCadence
from monitord.present.i18n import both_title
from monitord.prevention.schedule import add_months, local_day
from monitord.store import Store
from monitord.store.records import FollowUpVisit
from monitord.ticketing import tickets
from monitord.ticketing.ports import MessageRenderer


class FollowUpError(ValueError):
    """A visit that cannot be recorded (unknown site, no contract); says why."""


@dataclass(frozen=True, slots=True)
class Window:
    """[start, end) in local days: at least one visit is owed inside it."""

    start: dt.date
    end: dt.date
    months: int  # its length: the cadence it belongs to


@dataclass(frozen=True, slots=True)
class WindowState:
    window: Window
    state: str  # done, due, overdue
    visits: tuple[FollowUpVisit, ...]


def windows(acceptance: dt.date, cadence: FollowUpCadence, through: dt.date) -> list[Window]:
    """The windows that have started by `through` (inclusive), oldest first."""
    out: list[Window] = []
    year = add_months(acceptance, 12)
    months = 0
    while True:
        step = cadence.first_year if months < 12 else cadence.after
        start = add_months(acceptance, months)
        if start > through:
            return out
        end = add_months(acceptance, months + step)
        if months < 12 and end > year:
            end, step = year, 12 - months  # the first year's last window stops at its end
        out.append(Window(start, end, step))
        months += step


def site_states(
    site: Site, cadence: FollowUpCadence, visits: Sequence[FollowUpVisit], now: dt.datetime
) -> list[WindowState]:
    """Each counted window of the site up to now, with its visits (local days)."""
    if site.acceptance_date is None:
        return []
    today = local_day(now, site.timezone)
    days = [(local_day(v.visited_at, site.timezone), v) for v in visits]
    out = []
    for w in windows(site.acceptance_date, cadence, today):
        if site.followups_since is not None and w.end <= site.followups_since:
            continue
        inside = tuple(v for day, v in days if w.start <= day < w.end)
        state = "done" if inside else ("due" if today < w.end else "overdue")
        out.append(WindowState(w, state, inside))
    return out


def cadence_of(config: Config, site: Site) -> FollowUpCadence | None:
    contract = next((c for c in config.contracts if c.id == site.contract), None)
    return contract.prevention.followups if contract else None


def record(
    store: Store,
    config: Config,
    visit: FollowUpVisit,
    open_ticket: bool = False,
    ticket_class: TicketClass = TicketClass.C,
    messages: MessageRenderer | None = None,
) -> FollowUpVisit:
    """Store the visit; with `open_ticket` (a quality problem, 确属工程质量问题) its ticket
    is opened first and the visit records it (the handling result lives on the ticket)."""
    site = next((s for s in config.sites if s.id == visit.site_id), None)
    if site is None:
        raise FollowUpError(f"unknown site {visit.site_id!r}")
    contract: Contract | None = next((c for c in config.contracts if c.id == site.contract), None)
    if contract is None:
        raise FollowUpError(f"site {site.id!r} has no contract")
    visit = replace(
        visit, contract=contract.id, quality_problem=visit.quality_problem or open_ticket
    )
    if open_ticket:
        what = visit.problems or visit.suggestions or "quality problem"
        kind = FaultKind.FOLLOWUP
        request = tickets.TicketRequest(
            key=tickets.dedup_key(contract.id, kind.value, site.id, visit.visited_at.isoformat()),
            contract=contract.id,
            site=site.id,
            kind=kind,
            ticket_class=ticket_class,
            rule="followup-quality-problem",
            title=f"{both_title('followup_quality')}: {what.splitlines()[0]}"[:120],
            text=f"follow-up visit at {site.id} by {visit.by}"
            + (f", customer contact {visit.contact}" if visit.contact else "")
            + f": {what}",
            by=visit.by,
        )
        ticket, _ = tickets.open_ticket(store, request, visit.visited_at, messages)
        visit = replace(visit, ticket_id=ticket.id)
    return store.followups.add(visit)


def ticket_statuses(store: Store, visits: Sequence[FollowUpVisit]) -> dict[int, str]:
    """The status of each ticket the visits opened (the handling result of the problem)."""
    out = {}
    for ticket_id in {v.ticket_id for v in visits if v.ticket_id is not None}:
        found = store.tickets.get(ticket_id)
        if found is not None:
            out[ticket_id] = found[0].status
    return out
