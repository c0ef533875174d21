"""Prometheus metrics: live fleet state read at scrape time, plus the daemon's own counters.

Per device there are at most 10 series (up, 6 states, RTT, loss, last check), labelled by
device id, site and kind only: never an address, a name or a credential.
"""

from __future__ import annotations

import platform
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from monitord import __version__
from monitord.health.states import State
from monitord.health.tracker import DeviceHealth
from monitord.metrics.exposition import gauge

_UP_STATES = frozenset({State.UP, State.DEGRADED})


@dataclass(frozen=True, slots=True)
class DeviceLabels:
    device: str
    site: str
    kind: str


class FleetView(Protocol):
    def device_rows(self) -> Iterable[tuple[DeviceLabels, DeviceHealth]]: ...

    def remote_sites(self) -> frozenset[str]: ...


class FleetCollector(Collector):
    def __init__(self, fleet: FleetView, overdue: Callable[[], int]) -> None:
        self._fleet, self._overdue = fleet, overdue

    def collect(self) -> Iterator[Metric]:
        # Read once, now, on the scrape's thread (the loop changes the live states meanwhile);
        # the families are written from this copy, a slice at a time (metrics/exposition.py).
        rows = [
            ([r.device, r.site, r.kind], h.state, h.last_check, h.last)
            for r, h in list(self._fleet.device_rows())
        ]
        remote = self._fleet.remote_sites()
        # UNKNOWN (a silent site poller) is a series only for the devices a poller watches:
        # the others keep their number of series.
        local_states = [s for s in State if s != State.UNKNOWN]
        labels = ["device", "site", "kind"]

        def states() -> Iterator[tuple[list[str], float]]:
            for base, now, _, _ in rows:
                for s in State if base[1] in remote else local_states:
                    yield [*base, s.value], 1.0 if now == s else 0.0

        yield gauge(
            "monitord_device_up",
            "1 if the device answers (up or degraded), 0 if it does not; absent before the "
            "first check",
            labels,
            (
                (b, 1.0 if now in _UP_STATES else 0.0)
                for b, now, _, _ in rows
                if now != State.PENDING
            ),
        )
        yield gauge(
            "monitord_device_state",
            "Current state of the device (1 for the current one)",
            [*labels, "state"],
            states(),
        )
        yield gauge(
            "monitord_device_rtt_seconds",
            "Average ICMP round trip of the last check",
            labels,
            (
                (b, last.rtt_avg_ms / 1000)
                for b, _, _, last in rows
                if last is not None and last.rtt_avg_ms is not None
            ),
        )
        yield gauge(
            "monitord_device_loss_ratio",
            "ICMP loss of the last check (0-1)",
            labels,
            ((b, last.loss_pct / 100) for b, _, _, last in rows if last is not None),
        )
        yield gauge(
            "monitord_device_last_check_timestamp_seconds",
            "When the device was last checked",
            labels,
            ((b, at.timestamp()) for b, _, at, _ in rows if at),
        )
        counts = dict.fromkeys(State, 0)
        for _, now, _, _ in rows:
            counts[now] += 1
        devices = GaugeMetricFamily(
            "monitord_devices", "Devices by current state", labels=["state"]
        )
        for s, n in counts.items():
            devices.add_metric([s.value], n)
        overdue = GaugeMetricFamily(
            "monitord_checks_overdue", "Checks due more than 1 s ago that have not started"
        )
        overdue.add_metric([], self._overdue())
        yield from (devices, overdue)


class DaemonMetrics:
    """The daemon's own instruments, on an injected registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.probe_duration = Histogram(
            "monitord_probe_duration_seconds",
            "Duration of one probe run",
            ["probe"],
            buckets=(0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 1.5, 2, 3, 5, 10),
            registry=registry,
        )
        self.scheduler_lag = Histogram(
            "monitord_scheduler_lag_seconds",
            "How late a check started after it was due",
            buckets=(0.001, 0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30),
            registry=registry,
        )
        self.state_changes = Counter(
            "monitord_state_changes_total",
            "HARD state changes, by new state",
            ["state"],
            registry=registry,
        )
        self.check_errors = Counter(
            "monitord_check_errors_total",
            "Checks that failed inside monitord (not the device)",
            ["probe"],
            registry=registry,
        )
        self.ticket_response = Histogram(
            "monitord_ticket_response_seconds",
            "Time from a ticket's opening to its acknowledgement or the engineer on site",
            ["milestone"],
            buckets=(60, 300, 900, 1800, 3600, 7200, 14400, 43200, 86400, 172800, 259200),
            registry=registry,
        )
        self.reloads = Counter(
            "monitord_config_reloads_total",
            "Configuration reloads by result",
            ["result"],
            registry=registry,
        )
        self.last_reload_ok = Gauge(
            "monitord_config_last_reload_successful",
            "1 if the last configuration load succeeded",
            registry=registry,
        )
        self.icmp_mode = Gauge(
            "monitord_icmp_mode_info",
            "ICMP socket type in use",
            ["mode"],
            registry=registry,
        )
        build = Gauge(
            "monitord_build_info",
            "Version of monitord and Python",
            ["version", "python"],
            registry=registry,
        )
        build.labels(__version__, platform.python_version()).set(1)
