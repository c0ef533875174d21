"""The equipment archive as the store keeps it, made from the configuration (what devices
report about themselves is kept beside it: `Store.facts.learn`, `Store.devices.archive`)."""

from __future__ import annotations

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


def topology(config: Config) -> Topology:
    return Topology({d.id: d.parents for d in config.devices})
