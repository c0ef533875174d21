"""Sites, devices and ticket records for the store's ticket tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from monitord.store.records import DeviceRecord, SiteRecord, TicketEventRecord, TicketRecord

T0 = dt.datetime(2025, 3, 1, 8, 0, tzinfo=dt.UTC)
SITES = [
    SiteRecord("s1", "North depot", "Asia/Shanghai", "city", "C-1"),
    SiteRecord("s2", "Hill station", "Asia/Shanghai", "county", "C-2"),
]
SW = DeviceRecord("sw1", "s1", "Core switch", "switch", "10.0.0.2")
CAM = DeviceRecord("cam1", "s1", "Gate camera", "camera", "10.0.0.11", parents=("sw1",))
NVR = DeviceRecord("nvr1", "s2", "Recorder", "nvr", "10.0.1.5")
KEY = "C-1/sw1/down"


def draft(key: str = KEY, at: dt.datetime = T0, **overrides: Any) -> TicketRecord:
    values: dict[str, Any] = {
        "id": 0, "dedup_key": key, "contract": "C-1", "site_id": "s1", "root_device": "sw1",
        "fault_kind": "down", "ticket_class": "B", "rule": "switch-down", "status": "open",
        "paused": False, "recovered": False, "title": "Core switch down",
        "impacted": ("sw1", "cam1"), "opened_at": at, "updated_at": at, "version": 0,
    }  # fmt: skip
    return TicketRecord(**(values | overrides))


def opened(at: dt.datetime = T0, **data: Any) -> TicketEventRecord:
    return TicketEventRecord(0, 0, at, "opened", "monitord", "switch-down -> B", data)


def event(kind: str, at: dt.datetime, text: str = "", **data: Any) -> TicketEventRecord:
    return TicketEventRecord(0, 0, at, kind, "operator", text, data)
