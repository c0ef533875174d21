"""The equipment archive takes what an ONVIF device reports where the configuration says
nothing; the configuration always wins; what the archive holds survives a restart."""

from __future__ import annotations

from monitord.config.models import Device
from monitord.inventory.archive import device_record, last_reported


def cam(**fields: object) -> Device:
    base = {"id": "cam", "name": "Cam", "kind": "camera", "address": "192.0.2.5", "site": "s"}
    return Device.model_validate({**base, **fields})


def test_reported_fields_fill_only_what_the_configuration_leaves_empty() -> None:
    reported = {"vendor": "Hikvision", "model": "DS-2CD", "serial": "SN9", "firmware": "V5.7"}
    record = device_record(cam(vendor="HIK (contract name)", firmware=None), reported)
    assert (record.vendor, record.model, record.serial, record.firmware) == (
        "HIK (contract name)", "DS-2CD", "SN9", "V5.7",
    )  # fmt: skip
    assert device_record(cam()).firmware is None


def test_what_the_archive_holds_is_kept_for_onvif_devices_only() -> None:
    onvif = {"username": "u", "password": {"env": "X"}}
    held = [
        device_record(cam(firmware="V1", serial="S1")),
        device_record(cam(id="plain", firmware="V2")),
    ]
    devices = [cam(serial="S-config", onvif=onvif), cam(id="plain")]
    assert last_reported(devices, held) == {"cam": {"firmware": "V1"}}
