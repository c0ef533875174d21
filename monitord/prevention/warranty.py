"""Warranty (P3): the project warranty and the manufacturers', per device.

Seed 000: three years of free hardware replacement and repair from acceptance, repair at
cost after it. Seed 004: the manufacturer's warranty (the archive's `warranty_end`) makes
a repair free, after it the repair is charged at cost. A device is covered while either
runs; both end dates are the last day covered.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from monitord.config.contracts import Contract, FaultKind, TicketClass
from monitord.config.models import Config, Device, Site
from monitord.present.i18n import both_title
from monitord.prevention.schedule import add_months, local_day
from monitord.store.records import TicketRecord
from monitord.ticketing.lifecycle import EventKind
from monitord.ticketing.ports import MessageRenderer

if TYPE_CHECKING:
    # The ticketing engine and the store, for the monthly tickets only: `ticket show`
    # reads repair terms here and must not import SQLAlchemy for them (issue 15).
    from monitord.store import Store
    from monitord.ticketing.tickets import TicketRequest


@dataclass(frozen=True, slots=True)
class Coverage:
    device: str
    name: str
    site: str
    project_end: dt.date | None
    manufacturer_end: dt.date | None

    @property
    def end(self) -> dt.date | None:
        ends = [d for d in (self.project_end, self.manufacturer_end) if d is not None]
        return max(ends) if ends else None

    @property
    def source(self) -> str | None:
        if self.end is None:
            return None
        return "project" if self.end == self.project_end else "manufacturer"

    def covered(self, day: dt.date) -> bool:
        return self.end is not None and day <= self.end


def project_end(site: Site, contract: Contract | None) -> dt.date | None:
    years = contract.prevention.warranty_years if contract else None
    if years is None or site.acceptance_date is None:
        return None
    start = site.acceptance_date
    anniversary = add_months(start, 12 * years)
    if anniversary.day < start.day:  # accepted on 29 Feb: the anniversary is 1 March
        anniversary += dt.timedelta(days=1)
    return anniversary - dt.timedelta(days=1)


def coverage(config: Config, device: Device) -> Coverage:
    site = next((s for s in config.sites if s.id == device.site), None)
    contract = next((c for c in config.contracts if site and c.id == site.contract), None)
    end = project_end(site, contract) if site else None
    return Coverage(device.id, device.name, device.site, end, device.warranty_end)


def coverages(config: Config) -> list[Coverage]:
    """Every device's cover; the project warranty is worked out once per site."""
    contracts = {c.id: c for c in config.contracts}
    ends = {s.id: project_end(s, contracts.get(s.contract or "")) for s in config.sites}
    return [
        Coverage(d.id, d.name, d.site, ends.get(d.site), d.warranty_end) for d in config.devices
    ]


def expiring(
    config: Config, now: dt.datetime, horizon: dt.timedelta, site: str | None = None
) -> list[Coverage]:
    """Devices whose cover ends between today and today + horizon (site days), by end."""
    zones = {s.id: s.timezone for s in config.sites}
    today = {s: local_day(now, tz) for s, tz in zones.items()}
    out = []
    for c in coverages(config):
        if site is not None and c.site != site:
            continue
        day = today.get(c.site) or local_day(now, "UTC")
        if c.end is not None and day <= c.end <= day + horizon:
            out.append(c)
    return sorted(out, key=lambda c: (c.end or dt.date.max, c.site, c.device))


def repair_terms(config: Config, device_id: str | None, at: dt.datetime) -> dict[str, object]:
    """What a repair of the ticket's device costs on `at`: free under warranty, else at cost."""
    # A site's ticket (a lost link) has no device: no scan of every device for it.
    device = config.by_id().get(device_id) if device_id is not None else None
    if device is None:
        return {"device": device_id, "terms": "unknown", "under_warranty": None}
    c = coverage(config, device)
    site = next((s for s in config.sites if s.id == device.site), None)
    day = local_day(at, site.timezone if site else "UTC")
    covered = c.covered(day)
    return {
        "device": device.id,
        "under_warranty": covered,
        "terms": "free" if covered else "at_cost",
        "warranty_end": c.end.isoformat() if c.end else None,
        "source": c.source,
        "project_end": c.project_end.isoformat() if c.project_end else None,
        "manufacturer_end": c.manufacturer_end.isoformat() if c.manufacturer_end else None,
    }


def open_monthly_tickets(
    store: Store,
    config: Config,
    now: dt.datetime,
    horizon: dt.timedelta,
    messages: MessageRenderer | None = None,
    ending: list[Coverage] | None = None,
) -> list[TicketRecord]:
    """One class C ticket per site and month listing its devices whose warranty ends
    within `horizon`; a month that had one (open or closed) gets no second, and devices
    found later in the month join its list while it is open. Returns the tickets opened now.
    `ending`: what `expiring(config, now, horizon)` returns, when the caller has it."""
    from monitord.ticketing.tickets import open_ticket

    by_site: dict[str, list[Coverage]] = defaultdict(list)
    for c in expiring(config, now, horizon) if ending is None else ending:
        by_site[c.site].append(c)
    contracts = {c.id: c for c in config.contracts}
    requests = []
    for site in config.sites:
        found, contract = by_site.get(site.id), contracts.get(site.contract or "")
        if found and contract is not None:
            requests.append((_request(contract.id, site, found, horizon, now), found))
    known = store.tickets.by_key([r.key for r, _ in requests])
    opened = []
    for request, found in requests:
        ticket = known.get(request.key)
        if ticket is None:
            new, created = open_ticket(store, request, now, messages)
            opened += [new] if created else []
        elif ticket.status != "closed":
            _add_devices(store, ticket, found, now)
    return opened


def _request(
    contract: str, site: Site, found: list[Coverage], horizon: dt.timedelta, now: dt.datetime
) -> TicketRequest:
    from monitord.ticketing.tickets import TicketRequest, dedup_key

    month = local_day(now, site.timezone).strftime("%Y-%m")
    title = f"{both_title('warranty_ending', days=horizon.days)}: "
    return TicketRequest(
        key=dedup_key(contract, FaultKind.WARRANTY.value, site.id, month),
        contract=contract,
        site=site.id,
        kind=FaultKind.WARRANTY,
        ticket_class=TicketClass.C,
        rule="warranty-ending",
        title=f"{title}{len(found)} device(s) at {site.id}"[:120],
        text="\n".join(f"{c.device} {c.name}: {c.end} ({c.source})" for c in found),
        impacted=[c.device for c in found],
    )


def _add_devices(
    store: Store, ticket: TicketRecord, found: list[Coverage], now: dt.datetime
) -> None:
    from monitord.ticketing.tickets import SYSTEM, append

    new = [c for c in found if c.device not in ticket.impacted]
    if not new:
        return
    impacted = [*ticket.impacted, *(c.device for c in new)]
    text = "\n".join(f"{c.device} {c.name}: {c.end} ({c.source})" for c in new)
    append(store, ticket.id, EventKind.IMPACT, SYSTEM, now, text, {"impacted": impacted})
