"""SNMP metrics, read from the live findings at scrape time.

Series are bounded: per device one per watched port (64 at most), PoE port of a watched
port, disk volume and temperature sensor (32 each), labelled by device id, site and kind,
and a port/volume/sensor *index* (never a description, an address or a credential).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

from monitord.checks.snmp.watch import SnmpWatch
from monitord.metrics.exposition import gauge
from monitord.metrics.findings import BASE, finding_rows, status_family


class SnmpCollector(Collector):
    def __init__(self, watch: SnmpWatch, drops: Callable[[], dict[str, int]]) -> None:
        self._watch, self._drops = watch, drops

    def collect(self) -> Iterator[Metric]:
        # A 48-port switch alone has ~100 series.
        watch = self._watch
        rows = finding_rows(watch.devices, watch.tracker)

        def values(kind: str, key: str) -> Iterator[tuple[list[str], float]]:
            for base, found in rows:
                for check, f in found:
                    named, _, index = check.partition(":")
                    if named == kind and key in f.values:
                        yield [*base, index], float(f.values[key])

        yield status_family(
            "monitord_snmp_finding_status",
            "Latest result of each SNMP check: 0 ok, 1 warning, 2 critical, 3 unknown",
            rows,
        )
        yield gauge(
            "monitord_snmp_port_oper_status",
            "IF-MIB ifOperStatus of a watched port (1 up, 2 down, 7 lowerLayerDown, ...)",
            [*BASE, "port"],
            values("port", "oper"),
        )
        yield gauge(
            "monitord_snmp_poe_detection_status",
            "POWER-ETHERNET-MIB pethPsePortDetectionStatus (3 deliveringPower, 4 fault, ...)",
            [*BASE, "port"],
            values("poe", "status"),
        )
        yield gauge(
            "monitord_snmp_storage_used_ratio",
            "HOST-RESOURCES-MIB disk volume used / size (0-1)",
            [*BASE, "volume"],
            values("storage", "used_ratio"),
        )
        yield gauge(
            "monitord_snmp_temperature_celsius",
            "ENTITY-SENSOR-MIB temperature sensor reading",
            [*BASE, "sensor"],
            values("temperature", "celsius"),
        )
        reboots = CounterMetricFamily(
            "monitord_snmp_reboots",
            "Reboots seen (sysUpTime went back) since monitord started",
            labels=BASE,
        )
        for base, _ in rows:
            reboots.add_metric(base, watch.reboots.get(base[0], 0))
        dropped = CounterMetricFamily(
            "monitord_snmp_traps_dropped",
            "Notifications on the trap port that were not accepted, by reason",
            labels=["reason"],
        )
        for reason, n in self._drops().items():
            dropped.add_metric([reason], n)
        yield from (reboots, dropped)


def trap_counter(registry: CollectorRegistry) -> Counter:
    """Traps and informs accepted from known devices, by type (a closed set of names)."""
    return Counter(
        "monitord_snmp_traps_received_total",
        "Traps and informs accepted from known devices, by type",
        ["type"],
        registry=registry,
    )
