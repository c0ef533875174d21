"""Durations written the way contracts speak: "2h", "30m", "1h30m", "7d", or seconds."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer

_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([dhms])")
_UNIT = {"d": 86_400, "h": 3_600, "m": 60, "s": 1}
# No setting or window is longer; beyond it `now + duration` could leave datetime's range
# (`for: 99999999999d` was a 500). A century, so no real value is refused.
MAX = dt.timedelta(days=36_600)


def parse_duration(value: Any) -> dt.timedelta:
    if isinstance(value, dt.timedelta):
        return _bounded(value.total_seconds(), value)
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return _bounded(value, value)
    text = str(value).strip().lower().replace(" ", "")
    if text and _PART.sub("", text) == "":
        return _bounded(sum(float(n) * _UNIT[u] for n, u in _PART.findall(text)), value)
    raise ValueError(f"{value!r} is not a duration (e.g. 2h, 30m, 1h30m, 7d)")


def _bounded(seconds: float, written: Any) -> dt.timedelta:
    # A float compare first: timedelta() itself overflows (an OverflowError, not a 422).
    if not seconds <= MAX.total_seconds():  # also NaN and inf
        raise ValueError(f"{written!r} is longer than {MAX.days} days")
    return dt.timedelta(seconds=seconds)


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
