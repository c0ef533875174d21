"""Durations written the way contracts speak: "2h", "30m", "1h30m", "7d", or seconds."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer

_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([dhms])")
_UNIT = {"d": 86_400, "h": 3_600, "m": 60, "s": 1}


def parse_duration(value: Any) -> dt.timedelta:
    if isinstance(value, dt.timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return dt.timedelta(seconds=value)
    text = str(value).strip().lower().replace(" ", "")
    if text and _PART.sub("", text) == "":
        return dt.timedelta(seconds=sum(float(n) * _UNIT[u] for n, u in _PART.findall(text)))
    raise ValueError(f"{value!r} is not a duration (e.g. 2h, 30m, 1h30m, 7d)")


def format_duration(value: dt.timedelta) -> str:
    seconds = int(value.total_seconds())
    out = ""
    for unit, size in _UNIT.items():
        if seconds >= size:
            out += f"{seconds // size}{unit}"
            seconds %= size
    return out or "0s"


Duration = Annotated[
    dt.timedelta, BeforeValidator(parse_duration), PlainSerializer(format_duration)
]
