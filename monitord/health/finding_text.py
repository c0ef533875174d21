"""Finding summaries in the reader's language, rebuilt from a finding's check and values.

Probes write one English summary (logs, the operation record); a Chinese reader gets the
same facts from the stored values. A check this module does not know keeps its summary.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from monitord.present.i18n import (
    FINDING_ADDRESSES,
    FINDING_DISK_ZH,
    FINDING_POE_ZH,
    FINDING_PORT_ZH,
    word,
)


def describe(check: str, values: Mapping[str, Any], summary: str, lang: str) -> str:
    if lang != "zh":
        return summary
    kind, _, index = check.partition(":")
    render = _ZH.get(kind)
    if render is None:
        return summary
    try:
        return render(index, values) or summary
    except (KeyError, TypeError, ValueError):
        return summary  # values from an older version, or partial: the summary still holds


def _port(index: str, v: Mapping[str, Any]) -> str | None:
    if v.get("admin") == 2:
        return f"端口{index}已被管理员关闭"
    oper = v.get("oper")
    return f"端口{index}{FINDING_PORT_ZH[oper]}" if oper in FINDING_PORT_ZH else None


def _poe(index: str, v: Mapping[str, Any]) -> str | None:
    return (
        f"PoE端口{index}: {FINDING_POE_ZH[v['status']]}"
        if v.get("status") in FINDING_POE_ZH
        else None
    )


def _storage(index: str, v: Mapping[str, Any]) -> str | None:
    if "used_ratio" not in v:
        return None
    return f"磁盘卷{v.get('name', index)}: 已用{float(v['used_ratio']) * 100:.1f}%"


def _disk(index: str, v: Mapping[str, Any]) -> str | None:
    name = v.get("name", index)
    if v.get("read_only"):
        return f"硬盘{name}: 只读(无法写入录像)"
    return (
        f"硬盘{name}: {FINDING_DISK_ZH[v['status']]}"
        if v.get("status") in FINDING_DISK_ZH
        else None
    )


def _temperature(index: str, v: Mapping[str, Any]) -> str | None:
    return f"传感器{index}: {float(v['celsius']):.1f} °C" if "celsius" in v else None


def _tcp(index: str, v: Mapping[str, Any]) -> str | None:
    if "open" not in v:
        return None
    return f"TCP端口{index}{'可连接' if v['open'] else '无法连接'}"


def addresses(v: Mapping[str, Any], lang: str) -> str:
    """The "addresses" finding of an ONVIF device (also its English summary)."""
    hosts = str(v.get("hosts", ""))
    return word(FINDING_ADDRESSES, "refused" if hosts else "ok", lang).format(hosts=hosts)


_ZH: Final[dict[str, Callable[[str, Mapping[str, Any]], str | None]]] = {
    "addresses": lambda _i, v: addresses(v, "zh"),
    "port": _port,
    "poe": _poe,
    "storage": _storage,
    "disk": _disk,
    "temperature": _temperature,
    "tcp": _tcp,
}
