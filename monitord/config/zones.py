"""IANA time zones as a validated config type (times are stored in UTC, shown in these)."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value!r} is not an IANA time zone (e.g. Asia/Shanghai)") from None
    return value


TimeZone = Annotated[str, AfterValidator(_timezone)]
