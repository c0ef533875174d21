"""The words of the reports (from the catalogue, present/i18n.py) and how figures read."""

from __future__ import annotations

import datetime as dt

from monitord.present.i18n import REPORT, REPORT_EVENTS, REPORT_RECORD, REPORT_STATUS, word

_WORDS = {**REPORT, **REPORT_RECORD}


def w(key: str, lang: str) -> str:
    return word(_WORDS, key, lang)


def milestone(name: str, lang: str) -> str:
    return w(f"ms_{name}", lang) if f"ms_{name}" in _WORDS else name


def duration(value: dt.timedelta | None, lang: str) -> str:
    """A timedelta as hours with one decimal (minutes below an hour); '-' for None."""
    if value is None:
        return "-"
    seconds = value.total_seconds()
    if seconds < 3600:
        return f"{seconds / 60:.0f} {w('minutes', lang)}"
    return f"{seconds / 3600:.1f} {w('hours', lang)}"


def percent(value: float | None, lang: str, digits: int = 2) -> str:
    return w("no_data", lang) if value is None else f"{value * 100:.{digits}f} %"


def event(kind: str, lang: str) -> str:
    return word(REPORT_EVENTS, kind, lang)


def status(value: str, lang: str) -> str:
    """A ticket status or a site's zone in the reader's language."""
    return word(REPORT_STATUS, value, lang)
