"""`monitord devices --json` at fleet size: one device a line, and still one JSON document."""

from __future__ import annotations

import datetime as dt
import json

from monitord.present.devices import devices_json
from monitord.store.records import DeviceRecord, SavedState


def test_one_device_a_line_and_valid_json() -> None:
    since = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    records = [DeviceRecord(f"cam{i}", "s1", "摄像机", "camera", f"10.0.0.{i}") for i in (1, 2)]
    states = {"cam1": SavedState("cam1", "down", since, None, "no echo")}
    text = devices_json(records, states)
    assert len(text.splitlines()) == 4  # [, two devices, ]
    assert "摄像机" in text  # not \\u-escaped
    assert json.loads(text) == [
        {"id": "cam1", "name": "摄像机", "kind": "camera", "site": "s1", "address": "10.0.0.1",
         "state": "down", "since": since.isoformat(), "last_check": None, "reason": "no echo"},
        {"id": "cam2", "name": "摄像机", "kind": "camera", "site": "s1", "address": "10.0.0.2",
         "state": "pending", "since": None, "last_check": None, "reason": None},
    ]  # fmt: skip
    assert json.loads(devices_json([], {})) == []
