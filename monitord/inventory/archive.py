"""The equipment archive as the store keeps it, made from the configuration.

Vendor, model, serial and firmware the configuration leaves empty are filled with what the
device reports about itself (ONVIF GetDeviceInformation); the configuration always wins.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final

from monitord.config.models import Config, Device
from monitord.inventory.topology import Topology
from monitord.store.records import DeviceRecord, SiteRecord


def site_records(config: Config) -> list[SiteRecord]:
    return [SiteRecord(s.id, s.name, s.timezone, s.zone.value, s.contract) for s in config.sites]


REPORTED: Final = ("vendor", "model", "serial", "firmware")


def device_record(device: Device, reported: Mapping[str, str] | None = None) -> DeviceRecord:
    got = reported or {}
    return DeviceRecord(
        id=device.id,
        site_id=device.site,
        name=device.name,
        kind=device.kind.value,
        address=device.address,
        parents=device.parents,
        criticality=device.criticality.value,
        vendor=device.vendor or got.get("vendor"),
        model=device.model or got.get("model"),
        serial=device.serial or got.get("serial"),
        firmware=device.firmware or got.get("firmware"),
        install_date=device.install_date,
        warranty_end=device.warranty_end,
        location=device.location,
    )


def topology(config: Config) -> Topology:
    return Topology({d.id: d.parents for d in config.devices})


def last_reported(
    devices: Iterable[Device], rows: Iterable[DeviceRecord]
) -> dict[str, dict[str, str]]:
    """What the archive already holds, for ONVIF devices, in the fields their configuration
    leaves empty: kept across a restart until the device is read again (no churn)."""
    held = {r.id: r for r in rows}
    out: dict[str, dict[str, str]] = {}
    for d in devices:
        row = held.get(d.id)
        if d.onvif is None or row is None:
            continue
        kept = {f: v for f in REPORTED if not getattr(d, f) and (v := getattr(row, f))}
        if kept:
            out[d.id] = kept
    return out
