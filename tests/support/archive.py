"""An equipment archive (sites and devices with their records) for the store's tests."""

from __future__ import annotations

import datetime as dt

from monitord.store.records import DeviceRecord, SiteRecord

T0 = dt.datetime(2025, 3, 1, 8, 0, tzinfo=dt.UTC)
SITES = [
    SiteRecord("s1", "North depot", "Asia/Shanghai", "city", "C-2025-01"),
    SiteRecord("s2", "Hill station", "Asia/Shanghai", "county", None),
]
CAM = DeviceRecord(
    "cam1", "s1", "Gate camera", "camera", "10.0.0.11", parents=("sw1",), vendor="Hikvision",
    model="DS-2CD", serial="SN1", firmware="V5.7.1", install_date=dt.date(2023, 5, 4),
    warranty_end=dt.date(2026, 5, 3), location="Gate, pole 2",
)  # fmt: skip
SW = DeviceRecord("sw1", "s1", "Core switch", "switch", "10.0.0.2", criticality="high")
