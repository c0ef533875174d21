"""What an early warning says, in English and Chinese (titles, forecasts, clearing)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from monitord.present.i18n import WARNING_HEADS, WARNING_SUBJECTS
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
    now_en = f"{what_en.format(s=subject)}: {value} now, {slope} a day"
    now_zh = f"{what_zh.format(s=subject)}：当前 {value}，每天变化 {slope}"
    if f.hours_left is None or f.hours_left > _FAR_HOURS:
        return f"{now_en}; not heading for {lim}", f"{now_zh}；不会达到 {lim}"
    at = now + dt.timedelta(hours=f.hours_left)
    when = at.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")
    days = f.hours_left / 24
    return (
        f"{now_en}; reaches {lim} in about {days:.1f} days ({when} {zone})",
        f"{now_zh}；预计约 {days:.1f} 天后（{when} {zone}）达到 {lim}",
    )


def reboot_lines(count: int, hours: int, limit: int) -> tuple[str, str]:
    return (
        f"{count} reboots in the last {hours} h (warning at {limit})",
        f"最近 {hours} 小时内重启 {count} 次（预警阈值 {limit} 次）",
    )
