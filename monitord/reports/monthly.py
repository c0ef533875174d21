"""The monthly contract report (R2): read a month from the store, compute its figures.

Reading is here; computing is in `figures` and `availability` (pure); rendering is in
`html` and `markdown`. The result is a plain value, so tests check figures, not markup.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from monitord.config.contracts import Contract
from monitord.reports import availability as av
from monitord.reports.figures import LoggedTicket, TicketFigures, ticket_figures
from monitord.reports.period import Period
from monitord.reports.sources import ArchiveWarranty, TaskCounts, Tasks, Warranties, Windows
from monitord.store import Store
from monitord.store.records import DeviceRecord, SiteRecord
from monitord.ticketing.lifecycle import as_events

TOP_FAILING = 10


@dataclass(frozen=True, slots=True)
class DeviceLine:
    device: DeviceRecord
    uptime: av.Uptime
    tickets: int  # tickets opened in the period with this device as root


@dataclass(frozen=True, slots=True)
class SiteLine:
    site: SiteRecord
    uptime: av.Uptime
    devices: tuple[DeviceLine, ...]


@dataclass(frozen=True, slots=True)
class WarrantyLine:
    device: DeviceRecord
    ends: dt.date
    days_left: int  # from the last day of the period


@dataclass(frozen=True, slots=True)
class MonthlyReport:
    contract: Contract
    period: Period
    lang: str
    tickets: TicketFigures
    sites: tuple[SiteLine, ...]
    overall: av.Uptime
    top_failing: tuple[DeviceLine, ...]
    inspections: TaskCounts | None  # None: not recorded
    follow_ups: TaskCounts | None
    warranty: tuple[WarrantyLine, ...]
    warranty_days: int


def report_timezone(contract: Contract, sites: list[SiteRecord]) -> str:
    """The contract's business-hours zone, else its sites' zone when they agree, else UTC."""
    if contract.business_hours is not None:
        return str(contract.business_hours.timezone)
    zones = {s.timezone for s in sites if s.contract == contract.id}
    return zones.pop() if len(zones) == 1 else "UTC"


def build(
    store: Store,
    contract: Contract,
    period: Period,
    lang: str,
    windows: Windows,
    tasks: Tasks,
    warranty_days: int = 90,
    warranties: Warranties | None = None,
) -> MonthlyReport:
    sites = [s for s in store.devices.sites() if s.contract == contract.id]
    site_ids = {s.id for s in sites}
    devices = [d for d in store.devices.all() if d.site_id in site_ids]
    opened = store.history.tickets_opened(period.start, period.recorded_until, contract.id)
    logs = store.history.ticket_logs([t.id for t in opened])
    zones = {s.id: s.zone for s in sites}
    logged = [
        LoggedTicket(t, tuple(as_events(logs[t.id])), zones.get(t.site_id, "city")) for t in opened
    ]
    figures = ticket_figures(logged, contract, period.as_of)
    roots: dict[str, int] = defaultdict(int)
    for t in opened:
        if t.root_device:
            roots[t.root_device] += 1
    lines = _device_lines(store, devices, period, windows, roots)
    per_site: dict[str, list[DeviceLine]] = defaultdict(list)
    for line in lines:
        per_site[line.device.site_id].append(line)
    site_lines = tuple(
        SiteLine(s, av.total(ln.uptime for ln in per_site[s.id]), tuple(per_site[s.id]))
        for s in sites
    )
    failing = sorted(
        (ln for ln in lines if ln.uptime.failures or ln.uptime.down),
        key=lambda ln: (-ln.uptime.failures, -ln.uptime.down, ln.device.id),
    )
    return MonthlyReport(
        contract=contract,
        period=period,
        lang=lang,
        tickets=figures,
        sites=site_lines,
        overall=av.total(ln.uptime for ln in lines),
        top_failing=tuple(failing[:TOP_FAILING]),
        inspections=tasks.inspections(contract.id, period.start, period.as_of),
        follow_ups=tasks.follow_ups(contract.id, period.start, period.as_of),
        warranty=_warranty(devices, period, warranty_days, warranties or ArchiveWarranty()),
        warranty_days=warranty_days,
    )


def _device_lines(
    store: Store,
    devices: list[DeviceRecord],
    period: Period,
    windows: Windows,
    roots: dict[str, int],
) -> list[DeviceLine]:
    ids = [d.id for d in devices]
    before = store.history.states_before(ids, period.start)
    moves: dict[str, list[tuple[dt.datetime, str]]] = defaultdict(list)
    for e in store.history.operation_events(ids, period.start, period.recorded_until, ("state",)):
        if e.to_state:
            moves[e.device_id].append((e.at, e.to_state))
    return [
        DeviceLine(
            d,
            av.uptime(
                before.get(d.id),
                moves[d.id],
                period.start,
                period.as_of,
                windows.excluded(d, period.start, period.as_of),
            ),
            roots.get(d.id, 0),
        )
        for d in devices
    ]


def _warranty(
    devices: list[DeviceRecord], period: Period, horizon_days: int, warranties: Warranties
) -> tuple[WarrantyLine, ...]:
    """Devices whose warranty ends after the period and within `horizon_days` of its end."""
    last_day = (period.end - dt.timedelta(microseconds=1)).astimezone(ZoneInfo(period.tz)).date()
    ends = [(d, warranties.end(d)) for d in devices]
    ahead = [
        WarrantyLine(d, end, (end - last_day).days)
        for d, end in ends
        if end is not None and 0 < (end - last_day).days <= horizon_days
    ]
    return tuple(sorted(ahead, key=lambda w: (w.ends, w.device.id)))
