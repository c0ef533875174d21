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
    FINDING_TEXT,
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


def _zh(key: str, **values: Any) -> str:
    return word(FINDING_TEXT, key, "zh").format(**values)


def _port(index: str, v: Mapping[str, Any]) -> str | None:
    if v.get("admin") == 2:
        return _zh("port_admin_down", index=index)
    oper = v.get("oper")
    return (
        _zh("port", index=index, state=FINDING_PORT_ZH[oper]) if oper in FINDING_PORT_ZH else None
    )


def _poe(index: str, v: Mapping[str, Any]) -> str | None:
    status = v.get("status")
    return (
        _zh("poe", index=index, state=FINDING_POE_ZH[status]) if status in FINDING_POE_ZH else None
    )


def _storage(index: str, v: Mapping[str, Any]) -> str | None:
    if "used_ratio" not in v:
        return None
    return _zh("storage", name=v.get("name", index), used=float(v["used_ratio"]) * 100)


def _disk(index: str, v: Mapping[str, Any]) -> str | None:
    name = v.get("name", index)
    if v.get("read_only"):
        return _zh("disk_read_only", name=name)
    status = v.get("status")
    return (
        _zh("disk", name=name, state=FINDING_DISK_ZH[status]) if status in FINDING_DISK_ZH else None
    )


def _temperature(index: str, v: Mapping[str, Any]) -> str | None:
    return _zh("temperature", index=index, celsius=float(v["celsius"])) if "celsius" in v else None


def _tcp(index: str, v: Mapping[str, Any]) -> str | None:
    if "open" not in v:
        return None
    return _zh("tcp", index=index, state=_zh("tcp_open" if v["open"] else "tcp_closed"))


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
