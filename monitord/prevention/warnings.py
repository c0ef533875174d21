"""Early warnings (P2): trends in the metric history open class C tickets, and close them.

Every pass (hourly by default) reads the regression sums of each metric's series, judges
each device and rule with the thresholds of the device's contract, and then per device and
rule: a firing trend opens (or reuses, or reopens) its one ticket saying what was seen and
the forecast; a trend that went away resolves it. Devices under a maintenance window are
left alone. Also keeps the predicted days-to-full of every disk volume for /metrics.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass
from functools import partial
from typing import Protocol

from monitord import log
from monitord.clock import Clock
from monitord.config.contracts import Contract, FaultKind, TicketClass
from monitord.config.early import EarlyWarnings, ForecastRule
from monitord.config.models import Config, Device
from monitord.present.i18n import WARNING_CLEARED
from monitord.prevention import history as H
from monitord.prevention.trends import Forecast, Verdict, combine, forecast
from monitord.prevention.wording import forecast_lines, reboot_lines, title
from monitord.store import Store, StoreError
from monitord.store.records import SeriesSums
from monitord.supervise import repeat
from monitord.ticketing import tickets
from monitord.ticketing.lifecycle import Status
from monitord.ticketing.ports import RendererFor

_log = log.get("monitord.warnings")
FORECAST_METRICS = {
    "disk_full": H.DISK,
    "loss": H.LOSS,
    "rtt": H.RTT,
    "interface_errors": H.IF_ERRORS,
    "temperature": H.TEMPERATURE,
    "clock_drift": H.CLOCK_DRIFT,
}
_ACTIVE = [s.value for s in Status if s != Status.CLOSED]
_DEFAULT = EarlyWarnings()


class Windows(Protocol):
    def covers(self, device_id: str, at: dt.datetime) -> bool: ...


@dataclass(frozen=True, slots=True)
class News:
    """One device's verdict on one rule, with what it is based on (en, zh lines)."""

    device_id: str
    rule: str
    verdict: Verdict
    lines: tuple[tuple[str, str], ...]
    data: dict[str, object]


class EarlyWarningDesk:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        config: Config,
        windows: Windows | None = None,
        *,
        messages: RendererFor,
    ) -> None:
        self._store, self._clock, self._windows = store, clock, windows
        self._messages_for = messages
        self.days_to_full: dict[tuple[str, str], float] = {}  # (device, volume) -> days
        self.firing: dict[str, int] = {}  # rule -> devices
        self.apply(config)

    def apply(self, config: Config) -> None:
        self.devices = config.by_id()
        contracts = {c.id: c for c in config.contracts}
        self._contract_of_site: dict[str, Contract] = {
            s.id: contracts[s.contract] for s in config.sites if s.contract in contracts
        }
        self._zone_of_site = {s.id: s.timezone for s in config.sites}
        self._messages = self._messages_for(config)

    def _settings(self, device: Device) -> EarlyWarnings:
        contract = self._contract_of_site.get(device.site)
        return contract.early_warnings if contract else _DEFAULT

    def evaluate(self, now: dt.datetime) -> list[News]:
        """Judge every device and rule from the stored history (reads the store)."""
        now_hours = now.timestamp() / 3600
        now_hour = int(now_hours)
        found: dict[tuple[str, str], list[tuple[Forecast, float]]] = {}
        days: dict[tuple[str, str], float] = {}
        for rule, metric in FORECAST_METRICS.items():
            # One query per distinct window among the contracts, indexed by device.
            series: dict[int, dict[str, list[SeriesSums]]] = {}
            for device in self.devices.values():
                settings = self._settings(device)
                r = _forecast_rule(settings, rule)
                limit = _limit(rule, r, device)
                if limit is None:
                    continue
                hours = int(r.window.total_seconds() // 3600)
                if hours not in series:
                    series[hours] = _index(
                        self._store.metric_history.series_sums(metric, now_hour - hours)
                    )
                for s in series[hours].get(device.id, ()):
                    f = forecast(s, now_hours, limit, r)
                    if f is None:
                        continue
                    if rule == "disk_full":
                        days[(device.id, f.subject)] = _days_left(f, r)
                    if r.enabled and settings.enabled:
                        found.setdefault((device.id, rule), []).append((f, limit))
        self.days_to_full = days
        news = [self._forecast_news(d, rule, fs, now) for (d, rule), fs in found.items()]
        news += self._reboot_news(now_hour)
        return [n for n in news if n is not None]

    def _forecast_news(
        self, device_id: str, rule: str, forecasts: list[tuple[Forecast, float]], now: dt.datetime
    ) -> News | None:
        verdict = combine([f.verdict for f, _ in forecasts])
        if verdict is None:
            return None
        device = self.devices.get(device_id)
        zone = self._zone_of_site.get(device.site if device else "", "UTC")
        shown = [(f, lim) for f, lim in forecasts if f.verdict == Verdict.FIRE] or forecasts
        lines = tuple(forecast_lines(rule, f, lim, now, zone) for f, lim in shown)
        data: dict[str, object] = {
            "early_warning": rule,
            "forecast": [
                {
                    "subject": f.subject,
                    "value": round(f.value_now, 6),
                    "per_day": round(f.slope_per_day, 6),
                    "limit": lim,
                    "hours_left": None if f.hours_left is None else round(f.hours_left, 1),
                }
                for f, lim in shown
            ],
        }
        return News(device_id, rule, verdict, lines, data)

    def _reboot_news(self, now_hour: int) -> list[News]:
        out: list[News] = []
        by_hours: dict[int, dict[tuple[str, str], float]] = {}
        for device in self.devices.values():
            settings = self._settings(device)
            r = settings.reboots
            if not (r.enabled and settings.enabled):
                continue
            hours = max(1, int(r.within.total_seconds() // 3600))
            if hours not in by_hours:
                by_hours[hours] = self._store.metric_history.totals(H.REBOOTS, now_hour - hours + 1)
            count = int(by_hours[hours].get((device.id, ""), 0))
            verdict = Verdict.FIRE if count >= r.count else Verdict.CLEAR
            lines = (reboot_lines(count, hours, r.count),)
            out.append(
                News(
                    device.id,
                    "reboots",
                    verdict,
                    lines,
                    {"early_warning": "reboots", "reboots": count, "hours": hours},
                )
            )
        return out

    def act(self, news: list[News], now: dt.datetime) -> tuple[int, int]:
        """Open tickets for firing trends, resolve those whose trend went away."""
        active = {
            t.dedup_key: t
            for t in self._store.tickets.recent(_ACTIVE, None, 10_000)
            if t.fault_kind == FaultKind.WARNING.value
        }
        opened = resolved = 0
        firing: dict[str, int] = {}
        for n in news:
            device = self.devices.get(n.device_id)  # a reload may have removed it meanwhile
            if device is None:
                continue
            contract = self._contract_of_site.get(device.site)
            if n.verdict == Verdict.FIRE:
                firing[n.rule] = firing.get(n.rule, 0) + 1
            if contract is None or (self._windows and self._windows.covers(device.id, now)):
                continue
            key = tickets.warning_key(contract.id, device.id, n.rule)
            ticket = active.get(key)
            repaired = ticket is not None and ticket.status in (Status.RESOLVED, Status.VERIFIED)
            if n.verdict == Verdict.FIRE and (ticket is None or repaired):
                opened += self._open(contract, device, n, now)
            elif n.verdict == Verdict.CLEAR and ticket is not None and not repaired:
                text = "\n".join(WARNING_CLEARED)
                if tickets.resolve_warning(
                    self._store, contract.id, device.id, n.rule, now, text, self._messages
                ):
                    resolved += 1
                    _log.info("early warning cleared", device=device.id, rule=n.rule)
        self.firing = firing
        return opened, resolved

    def _open(self, contract: Contract, device: Device, n: News, now: dt.datetime) -> int:
        settings = contract.early_warnings
        text = "\n".join([*(en for en, _ in n.lines), *(zh for _, zh in n.lines)])
        ticket, created = tickets.open_warning(
            self._store,
            contract,
            device.site,
            device.id,
            n.rule,
            TicketClass(settings.ticket_class),
            title(n.rule, device.name, device.id),
            text,
            n.data,
            now,
            self._messages,
        )
        if created:
            _log.warning(
                "early warning", ticket=ticket.id, device=device.id, rule=n.rule, seen=n.lines[0][0]
            )
        return int(created)

    def run_once(self, now: dt.datetime) -> tuple[int, int]:
        return self.act(self.evaluate(now), now)

    async def run(self, every: float, first_after: float = 60.0) -> None:
        # The first pass soon after the start: the forecasts (and /metrics) need not wait
        # an hour after every restart.
        await repeat(partial(self.step, every), self._clock, min(every, first_after))

    async def step(self, every: float) -> float:
        """Judge the trends once; returns the seconds until the next pass."""
        try:
            await asyncio.to_thread(self.run_once, self._clock.now())
        except StoreError as exc:
            _log.error("cannot judge the trends", error=str(exc))
        return every


def rule_of(
    contract: Contract | None, rule: str, device: Device
) -> tuple[ForecastRule, float | None]:
    """A forecast rule's settings for a device and its limit (None: nothing to reach), as
    the early warnings judge it; the console's charts draw the same line."""
    settings = contract.early_warnings if contract else _DEFAULT
    r = _forecast_rule(settings, rule)
    return r, _limit(rule, r, device)


def _forecast_rule(settings: EarlyWarnings, rule: str) -> ForecastRule:
    r = getattr(settings, rule)
    assert isinstance(r, ForecastRule)
    return r


def _limit(rule: str, r: ForecastRule, device: Device) -> float | None:
    if r.limit is not None:
        return r.limit
    if rule == "temperature" and device.snmp is not None:
        return device.snmp.temperature_critical_c
    return None


def _index(series: list[SeriesSums]) -> dict[str, list[SeriesSums]]:
    out: dict[str, list[SeriesSums]] = {}
    for s in series:
        out.setdefault(s.device_id, []).append(s)
    return out


def _days_left(f: Forecast, r: ForecastRule) -> float:
    """Days until the volume is full; +inf while it is not clearly filling."""
    if f.hours_left is None or f.t < r.min_t:
        return float("inf")
    return f.hours_left / 24
