"""A device's hourly history as a small inline SVG line chart, with the forecast line.

Server-rendered, no chart library: a chart is a few hundred bytes of SVG that needs no
script, obeys the console's CSP (no inline style), scales to a 412 px phone (viewBox,
width 100 %) and carries its title for screen readers (role="img", <title>). Pure: points
in, markup out; the caller supplies the words (zh or en) and the forecaster's line.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape

W, H = 360, 170  # the viewBox; the page scales it
_LEFT, _RIGHT, _TOP, _BOTTOM = 44, 8, 22, 30  # room for the axis labels


@dataclass(frozen=True, slots=True)
class Point:
    at_hours: float  # hours since the epoch (the middle of its hour for an hourly mean)
    value: float


@dataclass(frozen=True, slots=True)
class Chart:
    key: str  # "icmp_loss_pct:" + subject, for the page's anchors and the tests
    title: str  # already in the reader's language
    unit: str
    points: tuple[Point, ...]
    forecast: tuple[Point, Point] | None  # the forecaster's line, from the first hour on
    limit: float | None


def _fmt(v: float) -> str:
    return f"{v:.3g}" if abs(v) < 1000 else f"{v:.0f}"


def _time(hours: float, tz: str) -> str:
    at = dt.datetime.fromtimestamp(hours * 3600, dt.UTC).astimezone(ZoneInfo(tz))
    return at.strftime("%m-%d %H:%M")


def svg(chart: Chart, tz: str, time_word: str) -> Markup:
    """The chart as inline SVG; axis labels: the unit (y) and `time_word` with the zone (x)."""
    shown = list(chart.points) + list(chart.forecast or ())
    xs = [p.at_hours for p in shown]
    ys = [p.value for p in shown] + ([chart.limit] if chart.limit is not None else [])
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(0.0, min(ys)), max(ys)
    if x1 - x0 < 1e-9:
        x0, x1 = x0 - 0.5, x1 + 0.5
    if y1 - y0 < 1e-9:
        y1 = y0 + 1.0
    y1 += (y1 - y0) * 0.05
    plot_w, plot_h = W - _LEFT - _RIGHT, H - _TOP - _BOTTOM

    def px(p: Point | tuple[float, float]) -> str:
        t, v = (p.at_hours, p.value) if isinstance(p, Point) else p
        x = _LEFT + (t - x0) / (x1 - x0) * plot_w
        y = _TOP + (1 - (v - y0) / (y1 - y0)) * plot_h
        return f"{x:.1f},{y:.1f}"

    ident = "c-" + "".join(c if c.isalnum() else "-" for c in chart.key)
    bottom, right = _TOP + plot_h, _LEFT + plot_w
    parts = [
        (
            f'<svg class="chart" viewBox="0 0 {W} {H}" role="img" aria-labelledby="{ident}" '
            f'data-chart="{escape(chart.key)}" xmlns="http://www.w3.org/2000/svg">'
        ),
        f'<title id="{ident}">{escape(chart.title)} ({escape(chart.unit)})</title>',
        f'<path class="axis" d="M{_LEFT},{_TOP}V{bottom}H{right}"/>',
        f'<text class="lbl" x="2" y="14">{escape(chart.unit)}</text>',
        f'<text class="lbl" x="{_LEFT - 4}" y="{_TOP + 4}" text-anchor="end">{_fmt(y1)}</text>',
        f'<text class="lbl" x="{_LEFT - 4}" y="{bottom}" text-anchor="end">{_fmt(y0)}</text>',
        f'<text class="lbl" x="{_LEFT}" y="{H - 16}">{_time(x0, tz)}</text>',
        f'<text class="lbl" x="{right}" y="{H - 16}" text-anchor="end">{_time(x1, tz)}</text>',
        (
            f'<text class="lbl" x="{_LEFT + plot_w / 2:.0f}" y="{H - 3}" text-anchor="middle">'
            f"{escape(time_word)} ({escape(tz)})</text>"
        ),
    ]
    if chart.limit is not None:
        y = px((x0, chart.limit)).split(",")[1]
        parts.append(f'<path class="limit" d="M{_LEFT},{y}H{right}"/>')
    if chart.points:
        line = " ".join(px(p) for p in chart.points)
        parts.append(f'<polyline class="series" points="{line}"/>')
        if len(chart.points) == 1:
            x, y = px(chart.points[0]).split(",")
            parts.append(f'<circle class="dot" cx="{x}" cy="{y}" r="2.5"/>')
    if chart.forecast is not None:
        a, b = chart.forecast
        parts.append(f'<polyline class="forecast" points="{px(a)} {px(b)}"/>')
    parts.append("</svg>")
    return Markup("".join(parts))


def points(hours: Sequence[tuple[int, float]]) -> tuple[Point, ...]:
    """Hourly means (hour index, mean) as points at the middle of their hour."""
    return tuple(Point(h + 0.5, v) for h, v in hours)
