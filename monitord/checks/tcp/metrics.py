"""TCP metrics, read from the watch's latest results at scrape time (series: device x port)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from monitord.checks.tcp.watch import PortWatch


class PortCollector(Collector):
    def __init__(self, watch: PortWatch) -> None:
        self._watch = watch

    def collect(self) -> Iterator[Metric]:
        labels = ["device", "site", "kind", "port"]
        up = GaugeMetricFamily(
            "monitord_tcp_port_open",
            "1 if the last connection to the port was accepted",
            labels=labels,
        )
        seconds = GaugeMetricFamily(
            "monitord_tcp_connect_seconds", "Time the last connection attempt took", labels=labels
        )
        for device_id, checks in list(self._watch.latest.items()):
            device = self._watch.devices.get(device_id)
            if device is None:
                continue
            for port, c in checks.items():
                values = [device_id, device.site, device.kind.value, str(port)]
                up.add_metric(values, 1.0 if c.open else 0.0)
                seconds.add_metric(values, c.seconds)
        yield from (up, seconds)
