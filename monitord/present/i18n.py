"""Words the CLI shows, in English and Simplified Chinese."""

from __future__ import annotations

import os

_WORDS: dict[str, tuple[str, str]] = {
    "id": ("ID", "编号"),
    "name": ("NAME", "名称"),
    "kind": ("KIND", "类型"),
    "site": ("SITE", "站点"),
    "address": ("ADDRESS", "地址"),
    "state": ("STATE", "状态"),
    "since": ("SINCE", "起始时间"),
    "reason": ("REASON", "原因"),
    "at": ("TIME", "时间"),
    "change": ("CHANGE", "变化"),
    "pending": ("pending", "待检测"),
    "up": ("up", "正常"),
    "degraded": ("degraded", "性能下降"),
    "down": ("down", "故障"),
    "unreachable": ("unreachable", "不可达"),
    "flapping": ("flapping", "频繁抖动"),
    "camera": ("camera", "摄像机"),
    "nvr": ("NVR", "硬盘录像机"),
    "access_controller": ("access controller", "门禁控制器"),
    "switch": ("switch", "交换机"),
    "other": ("other", "其他"),
    "archive": ("Equipment archive", "设备档案"),
    "reported": ("As the device reports it", "设备自报信息"),
    "record": ("Operation record", "设备运行情况记录"),
    "no_device": ("no such device", "没有该设备"),
    "config_ok": ("configuration OK", "配置正确"),
    "devices": ("devices", "台设备"),
    "sites": ("sites", "个站点"),
    "never_checked": ("never checked", "尚未检测"),
    "removed": ("removed from configuration", "已从配置中移除"),
    "errors": ("error(s)", "处错误"),
    "written": ("written", "已写入"),
    "ok": ("ok", "正常"),
    "warning": ("warning", "警告"),
    "critical": ("critical", "严重"),
    "unknown": ("unknown", "未知"),
    "unavailable": ("unavailable", "不可用"),
    "not_configured": ("not configured", "未配置"),
    "sys_name": ("System name", "系统名称"),
    "sys_descr": ("Description", "系统描述"),
    "sys_object_id": ("Object ID", "对象标识"),
    "uptime": ("Uptime", "运行时长"),
    "reachable": ("Device reachable", "设备可达"),
    "not_reachable": ("Device NOT reachable", "设备不可达"),
}

ARCHIVE_FIELDS: dict[str, tuple[str, str]] = {
    "site_id": ("site", "站点"),
    "kind": ("kind", "类型"),
    "address": ("address", "地址"),
    "parents": ("parents", "上级设备"),
    "criticality": ("criticality", "重要性"),
    "vendor": ("vendor", "厂商"),
    "model": ("model", "型号"),
    "serial": ("serial", "序列号"),
    "firmware": ("firmware", "固件版本"),
    "install_date": ("install date", "安装日期"),
    "warranty_end": ("warranty end", "保修截止"),
    "location": ("location", "安装位置"),
    "sys_descr": ("system description", "系统描述"),
    "sys_object_id": ("system object ID", "系统对象标识"),
}


def detect(explicit: str | None = None) -> str:
    """'zh' or 'en': an explicit choice, else MONITORD_LANG, else the locale."""
    choice = explicit or os.environ.get("MONITORD_LANG") or os.environ.get("LANG", "")
    return "zh" if choice.lower().startswith("zh") else "en"


def t(key: str, lang: str) -> str:
    en, zh = _WORDS.get(key, (key, key))
    return zh if lang == "zh" else en


def field(key: str, lang: str) -> str:
    en, zh = ARCHIVE_FIELDS.get(key, (key, key))
    return zh if lang == "zh" else en
