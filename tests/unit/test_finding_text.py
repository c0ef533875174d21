from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from monitord.health.finding_text import describe
from monitord.present.devices import device_text
from monitord.store.records import DeviceRecord, OperationEvent


@pytest.mark.parametrize(
    ("check", "values", "zh"),
    [
        ("port:3", {"oper": 2, "admin": 1}, "端口3断开"),
        ("port:3", {"oper": 2, "admin": 2}, "端口3已被管理员关闭"),
        ("poe:1.2", {"status": 4}, "PoE端口1.2: 供电故障"),
        ("storage:32", {"used_ratio": 0.99, "name": "/data/hdd2"}, "磁盘卷/data/hdd2: 已用99.0%"),
        ("disk:1553", {"status": 3, "name": "HDD2"}, "硬盘HDD2: 告警"),
        ("disk:405", {"status": 2, "name": "HDD5", "read_only": 1}, "硬盘HDD5: 只读(无法写入录像)"),
        ("temperature:7", {"celsius": 65.5}, "传感器7: 65.5 °C"),
        ("tcp:4370", {"open": 0, "connect_s": 3.0}, "TCP端口4370无法连接"),
    ],
)
def test_chinese_from_values(check: str, values: dict[str, Any], zh: str) -> None:
    assert describe(check, values, "english summary", "zh") == zh
    assert describe(check, values, "english summary", "en") == "english summary"


@pytest.mark.parametrize(
    ("check", "values"),
    [
        ("snmp", {"uptime_s": 5}),  # no Chinese form: the summary stays
        ("port:3", {"oper": 99}),  # a value this version does not know
        ("poe:1", {}),
        ("storage:1", {"used_ratio": "full"}),  # garbage from an older record
        ("weird", {"x": 1}),
    ],
)
def test_unknown_keeps_the_summary(check: str, values: dict[str, Any]) -> None:
    assert describe(check, values, "as written", "zh") == "as written"


def test_the_device_view_shows_findings_in_the_readers_language() -> None:
    at = dt.datetime(2026, 3, 1, 2, 0, tzinfo=dt.UTC)
    event = OperationEvent(
        "sw",
        at,
        "finding",
        "ok",
        "critical",
        "port:3: port 3 down",
        {"check": "port:3", "oper": 2, "admin": 1},
    )
    device = DeviceRecord("sw", "s1", "Core", "switch", "10.0.0.1")
    zh = device_text(device, None, [event], "Asia/Shanghai", "zh")
    en = device_text(device, None, [event], "Asia/Shanghai", "en")
    assert "port:3: 端口3断开" in zh and "port:3: port 3 down" in en
    assert "2026-03-01 10:00" in zh  # the site's time, not UTC
