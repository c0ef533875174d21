"""Early-warning metrics, read at scrape time from the last pass (no DB per scrape):
predicted time until each disk volume is full, and how many devices each rule fires for.

The time to full is in seconds, Prometheus's base unit (promtool rejects "days"); a
dashboard shows days as `monitord_storage_time_to_full_seconds / 86400`.

Series are bounded: one per watched disk volume (32 per device at most, see snmp_eval),
labelled by device id, site, kind and the volume's *index*, like monitord_snmp_storage_*.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from monitord.prevention.warnings import FORECAST_METRICS, EarlyWarningDesk


class WarningCollector(Collector):
    def __init__(self, warnings: EarlyWarningDesk) -> None:
        self._warnings = warnings

    def collect(self) -> Iterator[Metric]:
        w = self._warnings
        days = GaugeMetricFamily(
            "monitord_storage_time_to_full_seconds",
            "Time until a disk volume is full by a linear fit of its hourly usage "
            "(+Inf while it is not clearly filling), as of the last early-warning pass",
            labels=["device", "site", "kind", "volume"],
        )
        for (device_id, volume), value in sorted(w.days_to_full.items()):
            device = w.devices.get(device_id)
            if device is not None:
                labels = [device_id, device.site, device.kind.value, volume]
                days.add_metric(labels, value * 86_400)
        yield days
        firing = GaugeMetricFamily(
            "monitord_early_warnings_firing",
            "Devices for which an early-warning rule fires, as of the last pass",
            labels=["rule"],
        )
        for rule in [*FORECAST_METRICS, "reboots"]:
            firing.add_metric([rule], w.firing.get(rule, 0))
        yield firing
