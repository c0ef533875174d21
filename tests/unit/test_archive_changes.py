"""A reload's archive sync: only the devices whose archive fields changed, and the removed."""

from __future__ import annotations

from typing import Any

from monitord.config.models import Config
from monitord.inventory.archive import changed_records, device_record


def config(*devices: dict[str, Any]) -> Config:
    site = {"id": "s1", "name": "S", "timezone": "Asia/Shanghai"}
    return Config.model_validate({"sites": [site], "devices": list(devices)})


CAM1 = {"id": "cam1", "name": "A", "kind": "camera", "address": "10.0.0.1", "site": "s1"}
CAM2 = {"id": "cam2", "name": "B", "kind": "camera", "address": "10.0.0.2", "site": "s1"}


def test_changed_added_and_removed_devices_and_nothing_else() -> None:
    before = config(CAM1, CAM2)
    moved = {**CAM1, "location": "north gate"}
    new = {"id": "cam3", "name": "C", "kind": "camera", "address": "10.0.0.3", "site": "s1"}
    after = config(moved, new)
    changed, gone = changed_records(before, after)
    assert changed == [device_record(after.devices[0]), device_record(after.devices[1])]
    assert gone == {"cam2"}


def test_settings_outside_the_archive_are_no_change() -> None:
    faster = {**CAM2, "icmp": {"interval": 5}}
    assert changed_records(config(CAM1, CAM2), config(CAM1, faster)) == ([], set())
