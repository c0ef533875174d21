"""What an early warning says, in English and Chinese (titles, forecasts, clearing)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from monitord.prevention.trends import Forecast

HEADS: dict[str, tuple[str, str]] = {
    "disk_full": ("disk filling up", "磁盘将满"),
    "loss": ("packet loss rising", "丢包率上升"),
    "rtt": ("latency rising", "时延上升"),
    "interface_errors": ("interface errors growing", "端口错误增长"),
    "temperature": ("temperature rising", "温度上升"),
    "clock_drift": ("clock drift growing", "时钟偏差增大"),
    "reboots": ("repeated reboots", "频繁重启"),
}
# (English, Chinese, format of a value) per forecast rule.
_WHAT: dict[str, tuple[str, str, str]] = {
    "disk_full": ("disk {s} used", "磁盘 {s} 已用", "{:.1%}"),
    "loss": ("packet loss", "丢包率", "{:.1f}%"),
    "rtt": ("round-trip time", "往返时延", "{:.0f} ms"),
    "interface_errors": ("port {s} errors", "端口 {s} 错误", "{:.3f}/s"),
    "temperature": ("sensor {s}", "传感器 {s}", "{:.1f} °C"),
    "clock_drift": ("clock drift", "时钟偏差", "{:.1f} s"),
}
_FAR_HOURS = 24 * 3650  # beyond ten years a date means nothing
CLEARED = ("The trend is gone: early warning cleared.", "趋势已消失：预警解除。")


def title(rule: str, device_name: str, device_id: str) -> str:
    en, zh = HEADS[rule]
    return f"{device_name} ({device_id}): {en} / {zh}"


def forecast_lines(
    rule: str, f: Forecast, limit: float, now: dt.datetime, zone: str
) -> tuple[str, str]:
    what_en, what_zh, fmt = _WHAT[rule]
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
