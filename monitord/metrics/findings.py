"""What the SNMP and ONVIF collectors share: each device's latest findings, read once under
a scrape, and the family of their statuses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Final

from prometheus_client.core import Metric

from monitord.health.findings import FindingTracker, Latest, Status
from monitord.metrics.exposition import gauge

if TYPE_CHECKING:
    from monitord.config.models import Device

BASE: Final = ["device", "site", "kind"]
_STATUS: Final = {Status.OK: 0, Status.WARNING: 1, Status.CRITICAL: 2, Status.UNKNOWN: 3}

# (device, site, kind), and the device's latest finding of each check.
Row = tuple[list[str], list[tuple[str, Latest]]]


def finding_rows(devices: Mapping[str, Device], tracker: FindingTracker) -> list[Row]:
    """Read now, on the scrape's thread (the loop changes the findings meanwhile); the
    families are written from this copy, a slice at a time (metrics/exposition.py)."""
    return [
        ([device_id, device.site, device.kind.value], list(tracker.current(device_id).items()))
        for device_id, device in list(devices.items())
    ]


def status_family(name: str, documentation: str, rows: list[Row]) -> Metric:
    return gauge(
        name,
        documentation,
        [*BASE, "check"],
        (([*base, check], _STATUS[f.status]) for base, found in rows for check, f in found),
    )
