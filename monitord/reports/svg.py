"""Bar charts as inline SVG, generated here: no JavaScript, no fonts or files from anywhere.

Each chart is a self-contained <svg> element with a <title> for screen readers; values are
written beside the bars, so the chart reads the same printed in black and white.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from monitord.present.devices import width as text_width

_FONT = "'Noto Sans CJK SC','Noto Sans SC','Microsoft YaHei',sans-serif"
_ROW, _BAR, _GAP = 26, 16, 8
_PLOT = 360  # bar area width in px
_CHAR = 7.2  # px per column of 12 px text (a CJK character takes two)


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: float
    text: str  # the value as shown beside the bar
    color: str = "#2f6db5"


def bars(
    title: str,
    items: Sequence[Bar],
    scale_max: float,
    scale_min: float = 0.0,
) -> str:
    """Horizontal bars from `scale_min` to `scale_max`, labelled left, valued right."""
    label_w = int(max([text_width(b.label) for b in items] or [4]) * _CHAR) + 12
    value_w = int(max([text_width(b.text) for b in items] or [4]) * _CHAR) + 12
    total_w = label_w + _PLOT + value_w
    height = _GAP * 2 + _ROW * max(len(items), 1) + 20
    span = (scale_max - scale_min) or 1.0
    out = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
            f'width="{total_w}" height="{height}" viewBox="0 0 {total_w} {height}" '
            f'font-family="{_FONT}" font-size="12">'
        ),
        f"<title>{escape(title)}</title>",
        f'<text x="0" y="14" font-weight="bold">{escape(title)}</text>',
    ]
    top = 20 + _GAP
    out.append(
        f'<line x1="{label_w}" y1="{top - 4}" x2="{label_w}" '
        f'y2="{top + _ROW * len(items)}" stroke="#444" stroke-width="1"/>'
    )
    for i, bar in enumerate(items):
        y = top + i * _ROW
        share = min(max((bar.value - scale_min) / span, 0.0), 1.0)
        length = round(share * _PLOT, 1)
        out += [
            f'<text x="{label_w - 6}" y="{y + 12}" text-anchor="end">{escape(bar.label)}</text>',
            (
                f'<rect x="{label_w}" y="{y}" width="{length}" height="{_BAR}" fill="{bar.color}">'
                f"<title>{escape(bar.label)}: {escape(bar.text)}</title></rect>"
            ),
            f'<text x="{label_w + length + 4}" y="{y + 12}">{escape(bar.text)}</text>',
        ]
    out.append("</svg>")
    return "\n".join(out)


def availability_color(share: float | None) -> str:
    """Green at 99.5 % or better, amber from 98 %, red below."""
    if share is None:
        return "#9e9e9e"
    if share >= 0.995:
        return "#2e7d32"
    return "#ef8f00" if share >= 0.98 else "#c62828"


CLASS_COLORS = {"A": "#c62828", "B": "#ef8f00", "C": "#f2c200", "D": "#2f6db5", "-": "#7e57c2"}
