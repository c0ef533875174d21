"""What an early warning says, in English and Chinese (titles, forecasts, clearing)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from monitord.present.i18n import WARNING_HEADS, WARNING_LINES, WARNING_SUBJECTS
from monitord.prevention.trends import Forecast

_FAR_HOURS = 24 * 3650  # beyond ten years a date means nothing


def title(rule: str, device_name: str, device_id: str) -> str:
    en, zh = WARNING_HEADS[rule]
    return f"{device_name} ({device_id}): {en} / {zh}"


def forecast_lines(
    rule: str, f: Forecast, limit: float, now: dt.datetime, zone: str
) -> tuple[str, str]:
    what_en, what_zh, fmt = WARNING_SUBJECTS[rule]
    subject = f.subject or ""
    value, slope, lim = fmt.format(f.value_now), fmt.format(f.slope_per_day), fmt.format(limit)
    now_en, now_zh = (
        WARNING_LINES["now"][i].format(what=what.format(s=subject), value=value, slope=slope)
        for i, what in enumerate((what_en, what_zh))
    )
    if f.hours_left is None or f.hours_left > _FAR_HOURS:
        en, zh = WARNING_LINES["never"]
        return en.format(now=now_en, limit=lim), zh.format(now=now_zh, limit=lim)
    at = now + dt.timedelta(hours=f.hours_left)
    when = at.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")
    reach = {"limit": lim, "days": f.hours_left / 24, "when": when, "zone": zone}
    en, zh = WARNING_LINES["reaches"]
    return en.format(now=now_en, **reach), zh.format(now=now_zh, **reach)


def reboot_lines(count: int, hours: int, limit: int) -> tuple[str, str]:
    en, zh = WARNING_LINES["reboots"]
    return en.format(count=count, hours=hours, limit=limit), zh.format(
        count=count, hours=hours, limit=limit
    )
