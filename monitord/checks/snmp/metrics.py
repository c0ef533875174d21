"""SNMP metrics, read from the live findings at scrape time.

Series are bounded: per device one per watched port (64 at most), PoE port of a watched
port, disk volume and temperature sensor (32 each), labelled by device id, site and kind,
and a port/volume/sensor *index* (never a description, an address or a credential).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Final

from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

from monitord.checks.snmp.watch import SnmpWatch
from monitord.health.findings import Status
from monitord.metrics.exposition import gauge

_STATUS: Final = {Status.OK: 0, Status.WARNING: 1, Status.CRITICAL: 2, Status.UNKNOWN: 3}
_BASE: Final = ["device", "site", "kind"]


class SnmpCollector(Collector):
    def __init__(self, watch: SnmpWatch, drops: Callable[[], dict[str, int]]) -> None:
        self._watch, self._drops = watch, drops

    def collect(self) -> Iterator[Metric]:
        # Read once, now, on the scrape's thread; written from this copy a slice at a time
        # (metrics/exposition.py): a 48-port switch alone has ~100 series.
        watch = self._watch
        rows = [
            ([device_id, device.site, device.kind.value],
             list(watch.tracker.current(device_id).items()), watch.reboots.get(device_id, 0))
            for device_id, device in list(watch.devices.items())
        ]  # fmt: skip

        def values(kind: str, key: str) -> Iterator[tuple[list[str], float]]:
            for base, found, _ in rows:
                for check, f in found:
                    named, _, index = check.partition(":")
                    if named == kind and key in f.values:
                        yield [*base, index], float(f.values[key])

        yield gauge(
            "monitord_snmp_finding_status",
            "Latest result of each SNMP check: 0 ok, 1 warning, 2 critical, 3 unknown",
            [*_BASE, "check"],
            (([*base, check], _STATUS[f.status]) for base, found, _ in rows for check, f in found),
        )
        yield gauge(
            "monitord_snmp_port_oper_status",
            "IF-MIB ifOperStatus of a watched port (1 up, 2 down, 7 lowerLayerDown, ...)",
            [*_BASE, "port"],
            values("port", "oper"),
        )
        yield gauge(
            "monitord_snmp_poe_detection_status",
            "POWER-ETHERNET-MIB pethPsePortDetectionStatus (3 deliveringPower, 4 fault, ...)",
            [*_BASE, "port"],
            values("poe", "status"),
        )
        yield gauge(
            "monitord_snmp_storage_used_ratio",
            "HOST-RESOURCES-MIB disk volume used / size (0-1)",
            [*_BASE, "volume"],
            values("storage", "used_ratio"),
        )
        yield gauge(
            "monitord_snmp_temperature_celsius",
            "ENTITY-SENSOR-MIB temperature sensor reading",
            [*_BASE, "sensor"],
            values("temperature", "celsius"),
        )
        reboots = CounterMetricFamily(
            "monitord_snmp_reboots",
            "Reboots seen (sysUpTime went back) since monitord started",
            labels=_BASE,
        )
        for base, _, n in rows:
            reboots.add_metric(base, n)
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
