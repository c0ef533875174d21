"""SNMP metrics, read from the live findings at scrape time.

Series are bounded: per device one per watched port (64 at most), PoE port of a watched
port, disk volume and temperature sensor (32 each), labelled by device id, site and kind,
and a port/volume/sensor *index* (never a description, an address or a credential).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Final

from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from monitord.checks.snmp.watch import SnmpWatch
from monitord.health.findings import Status

_STATUS: Final = {Status.OK: 0, Status.WARNING: 1, Status.CRITICAL: 2, Status.UNKNOWN: 3}
_BASE: Final = ["device", "site", "kind"]


class SnmpCollector(Collector):
    def __init__(self, watch: SnmpWatch, drops: Callable[[], dict[str, int]]) -> None:
        self._watch, self._drops = watch, drops

    def collect(self) -> Iterator[Metric]:
        status = GaugeMetricFamily(
            "monitord_snmp_finding_status",
            "Latest result of each SNMP check: 0 ok, 1 warning, 2 critical, 3 unknown",
            labels=[*_BASE, "check"],
        )
        oper = GaugeMetricFamily(
            "monitord_snmp_port_oper_status",
            "IF-MIB ifOperStatus of a watched port (1 up, 2 down, 7 lowerLayerDown, ...)",
            labels=[*_BASE, "port"],
        )
        poe = GaugeMetricFamily(
            "monitord_snmp_poe_detection_status",
            "POWER-ETHERNET-MIB pethPsePortDetectionStatus (3 deliveringPower, 4 fault, ...)",
            labels=[*_BASE, "port"],
        )
        storage = GaugeMetricFamily(
            "monitord_snmp_storage_used_ratio",
            "HOST-RESOURCES-MIB disk volume used / size (0-1)",
            labels=[*_BASE, "volume"],
        )
        temperature = GaugeMetricFamily(
            "monitord_snmp_temperature_celsius",
            "ENTITY-SENSOR-MIB temperature sensor reading",
            labels=[*_BASE, "sensor"],
        )
        reboots = CounterMetricFamily(
            "monitord_snmp_reboots",
            "Reboots seen (sysUpTime went back) since monitord started",
            labels=_BASE,
        )
        watch = self._watch
        for device_id, device in list(watch.devices.items()):
            base = [device_id, device.site, device.kind.value]
            for check, f in watch.tracker.current(device_id).items():
                status.add_metric([*base, check], _STATUS[f.status])
                kind, _, index = check.partition(":")
                if kind == "port" and "oper" in f.values:
                    oper.add_metric([*base, index], float(f.values["oper"]))
                elif kind == "poe" and "status" in f.values:
                    poe.add_metric([*base, index], float(f.values["status"]))
                elif kind == "storage" and "used_ratio" in f.values:
                    storage.add_metric([*base, index], float(f.values["used_ratio"]))
                elif kind == "temperature" and "celsius" in f.values:
                    temperature.add_metric([*base, index], float(f.values["celsius"]))
            reboots.add_metric(base, watch.reboots.get(device_id, 0))
        dropped = CounterMetricFamily(
            "monitord_snmp_traps_dropped",
            "Notifications on the trap port that were not accepted, by reason",
            labels=["reason"],
        )
        for reason, n in self._drops().items():
            dropped.add_metric([reason], n)
        yield from (status, oper, poe, storage, temperature, reboots, dropped)


def trap_counter(registry: CollectorRegistry) -> Counter:
    """Traps and informs accepted from known devices, by type (a closed set of names)."""
    return Counter(
        "monitord_snmp_traps_received_total",
        "Traps and informs accepted from known devices, by type",
        ["type"],
        registry=registry,
    )
