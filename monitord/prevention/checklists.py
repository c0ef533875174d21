"""Inspection checklists per device kind, in English and Chinese.

The seeds ask for scheduled upkeep of "the whole system" (seed 004 §2.2: 定期…对整个系统进行
保养) and preventive checks (seed 000 §2(1)) without listing the items, so these are the
built-in defaults: the usual upkeep of CCTV, recording and access-control equipment. A
contract replaces a kind's list with `prevention.checklists.<kind>` in its configuration.
"""

from __future__ import annotations

from monitord.config.contracts import Contract
from monitord.config.prevention import ChecklistItem


def _items(*rows: tuple[str, str, str]) -> tuple[ChecklistItem, ...]:
    return tuple(ChecklistItem(id=i, en=en, zh=zh) for i, en, zh in rows)


DEFAULTS: dict[str, tuple[ChecklistItem, ...]] = {
    "camera": _items(
        ("lens", "Clean the lens and housing", "清洁镜头和护罩"),
        ("focus", "Check focus, angle and image quality", "检查聚焦、角度和图像质量"),
        ("night_vision", "Check night vision (IR)", "检查夜视(红外)效果"),
        ("mount", "Check mount, cabling and waterproofing", "检查支架、线缆和防水"),
        ("clock", "Check the on-screen time", "核对画面时间"),
    ),
    "nvr": _items(
        ("disk_health", "Check disk health (SMART, array state)", "检查硬盘健康状态(SMART、阵列)"),
        ("retention", "Check recording retention days", "核查录像保存天数"),
        ("recording", "Check every channel is recording", "检查各通道录像正常"),
        ("playback", "Play back a recording", "录像回放测试"),
        ("ups", "Check the UPS (load, battery, self-test)", "检查UPS(负载、电池、自检)"),
        ("fans", "Check fans and remove dust", "检查风扇并除尘"),
    ),
    "access_controller": _items(
        ("door_release", "Test the door release", "测试开门"),
        ("card_reader", "Test the card reader", "测试读卡器"),
        ("lock", "Check the electric lock and door sensor", "检查电锁和门磁"),
        ("event_log", "Check the event log and clock", "检查事件记录和时间"),
        ("battery", "Check the backup battery", "检查备用电源"),
    ),
    "switch": _items(
        ("ports", "Check port states and error counters", "检查端口状态和错误计数"),
        ("poe", "Check the PoE power budget", "检查PoE供电余量"),
        ("cabinet", "Clean the cabinet, check cooling", "清洁机柜,检查散热"),
        ("ups", "Check the UPS", "检查UPS"),
        ("config_backup", "Back up the configuration", "备份配置"),
    ),
    "other": _items(("general", "Visual check and cleaning", "外观检查和清洁")),
}


def checklist(contract: Contract, kind: str) -> tuple[ChecklistItem, ...]:
    own = contract.prevention.checklists
    return next((items for k, items in own.items() if k == kind), DEFAULTS[kind])
