"""What the device page shows, read from the store in one thread: the archive, the state,
the operation record, the tickets that name the device, and the charts of its hourly
history (prevention/history.py) with the early warnings' forecast line (prevention/trends.py:
its fit and forecast, not a second one)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from monitord.config import Config
from monitord.config.early import ForecastRule
from monitord.config.models import Device, Site
from monitord.console import charts
from monitord.console.accounts import User
from monitord.present import i18n
from monitord.prevention import history as H
from monitord.prevention.trends import fit, forecast
from monitord.prevention.warnings import rule_of
from monitord.store import Store
from monitord.store.records import MetricHour, OperationEvent, SavedState, SeriesSums, TicketRecord

# rule (early warnings) -> metric, the scale to show it in (disk: a ratio shown as %), unit
METRICS: Final = (
    ("loss", H.LOSS, 1.0, "%"),
    ("rtt", H.RTT, 1.0, "ms"),
    ("disk_full", H.DISK, 100.0, "%"),
    ("temperature", H.TEMPERATURE, 1.0, "°C"),
)
_SUBJECTS: Final = 4  # charts per metric at most (volumes, sensors)
_TICKETS: Final = 2000  # recent tickets looked through for the device's
_RECORD: Final = 50


@dataclass(frozen=True, slots=True)
class DevicePage:
    site: Site
    device: Device
    archive: tuple[tuple[str, str], ...]  # (label, value) in the reader's language
    state: SavedState | None
    record: tuple[OperationEvent, ...]
    tickets: tuple[TicketRecord, ...]
    charts: tuple[charts.Chart, ...]
    polled_remotely: bool  # a site poller watches it: "probe now" cannot run here


def find(config: Config, user: User, site_id: str, device_id: str) -> tuple[Site, Device] | None:
    """The site and device if this user may see them (another tenant's: None, like none)."""
    site = site_of(config, user, site_id)
    if site is None:
        return None
    device = next((d for d in config.devices if d.id == device_id and d.site == site.id), None)
    return None if device is None else (site, device)


def site_of(config: Config, user: User, site_id: str) -> Site | None:
    """The site if this user may see it (another tenant's: None, like none)."""
    site = next((s for s in config.sites if s.id == site_id), None)
    if site is None or not user.sees(site.contract or "", site.id):
        return None
    if user.contract is not None and site.contract is None:
        return None  # a site under no contract is nobody's customer's
    return site


def devices_of(store: Store, config: Config, site: Site) -> list[tuple[Device, str]]:
    """The site's devices and each one's state ("pending" before its first check)."""
    here = [d for d in config.devices if d.site == site.id]
    states = store.states.load([d.id for d in here])
    return [(d, states[d.id].state if d.id in states else "pending") for d in here]


def page(
    store: Store, config: Config, site: Site, device: Device, now: dt.datetime, lang: str
) -> DevicePage:
    record = store.devices.archive(device.id)
    archive = []
    for key in i18n.ARCHIVE_FIELDS:
        value = getattr(record, key, None) if record is not None else None
        if key == "kind" and value:
            value = i18n.t(str(value), lang)
        elif key == "parents":
            value = ", ".join(value or ())
        if key in ("site_id",):
            value = site.name
        if value not in (None, ""):
            archive.append((i18n.field(key, lang), str(value)))
    # A ticket is about one site's devices: the site's tickets are read, not the contract's.
    found = [t for t in store.tickets.recent(None, site.contract, _TICKETS, site=site.id)
             if t.root_device == device.id or device.id in t.impacted]  # fmt: skip
    return DevicePage(
        site,
        device,
        tuple(archive),
        store.states.load([device.id]).get(device.id),
        tuple(store.states.operation_record(device.id, _RECORD)),
        tuple(found),
        tuple(device_charts(store, config, site, device, now, lang)),
        site.poller != "local",
    )


def device_charts(
    store: Store, config: Config, site: Site, device: Device, now: dt.datetime, lang: str
) -> list[charts.Chart]:
    contract = next((c for c in config.contracts if c.id == site.contract), None)
    now_hours = now.timestamp() / 3600
    out = []
    for rule, metric, scale, unit in METRICS:
        settings, limit = rule_of(contract, rule, device)
        since = int(now_hours) - int(settings.window.total_seconds() // 3600)
        by_subject: dict[str, list[MetricHour]] = {}
        for row in store.metric_history.hours(device.id, metric, since):
            by_subject.setdefault(row.subject, []).append(row)
        for subject, rows in sorted(by_subject.items())[:_SUBJECTS]:
            s = sums(device.id, subject, since, rows)
            line = None if limit is None else forecast_line(s, now_hours, limit, settings, scale)
            title = i18n.word(i18n.CONSOLE, "chart_" + rule, lang)
            out.append(
                charts.Chart(
                    f"{metric}:{subject}",
                    f"{title} {subject}".strip(),
                    unit,
                    charts.points([(r.hour, r.mean * scale) for r in rows]),
                    line,
                    None if limit is None else limit * scale,
                )
            )
    return out


def forecast_line(
    s: SeriesSums, now_hours: float, limit: float, rule: ForecastRule, scale: float
) -> tuple[charts.Point, charts.Point] | None:
    """The forecaster's line from the first hour to where it meets the limit (at most as far
    ahead as the history reaches back), drawn only where the forecaster sees a clear rise
    (its `rising`): a line through noise would promise what the early warnings do not."""
    f = forecast(s, now_hours, limit, rule)
    line = fit(s)
    if f is None or line is None or not (line.slope > 0 and line.t >= rule.min_t):
        return None
    span = s.last - s.first + 1
    ahead = min(f.hours_left if f.hours_left is not None else span, span)

    def at(hours: float) -> charts.Point:
        # An hour's mean stands for the middle of that hour (as trends.forecast has it).
        return charts.Point(hours, (line.intercept + line.slope * (hours - s.base - 0.5)) * scale)

    return at(s.first + 0.5), at(now_hours + ahead)


def sums(device_id: str, subject: str, base: int, rows: Sequence[MetricHour]) -> SeriesSums:
    """The least-squares sums of one series' hourly means, as the store's grouped query
    (`metric_history.series_sums`) gives them for the early warnings."""
    xs = [float(r.hour - base) for r in rows]
    ys = [r.mean for r in rows]
    return SeriesSums(
        device_id, subject, base, len(rows), sum(xs), sum(ys),
        sum(x * y for x, y in zip(xs, ys, strict=True)), sum(x * x for x in xs),
        sum(y * y for y in ys), min(r.hour for r in rows), max(r.hour for r in rows),
    )  # fmt: skip
