"""The equipment archive as the store keeps it, made from the configuration (what devices
report about themselves is kept beside it: `Store.facts.learn`, `Store.devices.archive`)."""

from __future__ import annotations

from dataclasses import fields
from operator import attrgetter

from monitord.config.models import Config, Device
from monitord.inventory.topology import Topology
from monitord.store.records import DeviceRecord, SiteRecord


def site_records(config: Config) -> list[SiteRecord]:
    return [SiteRecord(s.id, s.name, s.timezone, s.zone.value, s.contract) for s in config.sites]


def device_record(device: Device) -> DeviceRecord:
    return DeviceRecord(
        id=device.id,
        site_id=device.site,
        name=device.name,
        kind=device.kind.value,
        address=device.address,
        parents=device.parents,
        criticality=device.criticality.value,
        vendor=device.vendor,
        model=device.model,
        serial=device.serial,
        firmware=device.firmware,
        install_date=device.install_date,
        warranty_end=device.warranty_end,
        location=device.location,
    )


# The device's fields that its record holds, read in one call: comparing these instead of
# records built for both configurations (20 000 of them, 0.2 s of a 10 000-device reload).
_archived = attrgetter(
    *({"site_id": "site"}.get(f.name, f.name) for f in fields(DeviceRecord) if f.name != "id")
)


def changed_records(before: Config, after: Config) -> tuple[list[DeviceRecord], set[str]]:
    """What `Store.devices.sync(..., among=...)` needs to bring an archive synced with
    `before` to `after`: the records that differ (new ones too), and the devices `after`
    no longer has."""
    gone = {d.id: _archived(d) for d in before.devices}
    changed = [device_record(d) for d in after.devices if gone.pop(d.id, None) != _archived(d)]
    return changed, set(gone)


def topology(config: Config) -> Topology:
    return Topology({d.id: d.parents for d in config.devices})
