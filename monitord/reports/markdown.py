"""A document as Markdown: tables as pipe tables, charts as text bars in a code block."""

from __future__ import annotations

from monitord.present.devices import width
from monitord.present.text import clean
from monitord.reports.document import Block, Chart, Document, Image, Paragraph, Table, Text

_BAR_CELLS = 30


def render(doc: Document) -> str:
    lines = [f"# {doc.title}", ""]
    lines += [f"- **{k}**: {_cell(v)}" for k, v in doc.meta]
    for section in doc.sections:
        lines += ["", f"## {section.title}"]
        for block in section.blocks:
            lines += ["", *_block(block)]
    return clean("\n".join(lines).rstrip() + "\n")


def _block(block: Block) -> list[str]:
    if isinstance(block, Paragraph):
        return [f"*{_cell(block.text)}*" if block.note else _cell(block.text)]
    if isinstance(block, Text):
        fence = "~~~~" if "```" in block.text else "```"
        return [fence + "text", *block.text.splitlines(), fence]
    if isinstance(block, Chart):
        return _chart(block)
    if isinstance(block, Image):
        return [f"*{_cell(block.label)} ({block.width}x{block.height} PNG, sha256 {block.sha256})*"]
    return _table(block)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _table(table: Table) -> list[str]:
    header = [h or " " for h in table.header]
    rule = ["---:" if i in table.numeric else "---" for i in range(len(header))]
    return [
        "| " + " | ".join(_cell(h) for h in header) + " |",
        "| " + " | ".join(rule) + " |",
        *("| " + " | ".join(_cell(c) for c in row) + " |" for row in table.rows),
    ]


def _chart(chart: Chart) -> list[str]:
    """Eighth-block bars, so a chart survives where Markdown shows no images."""
    label_w = max([width(b.label) for b in chart.bars] or [0])
    span = (chart.scale_max - chart.scale_min) or 1.0
    lines = [f"{chart.title}", ""]
    for bar in chart.bars:
        share = min(max((bar.value - chart.scale_min) / span, 0.0), 1.0)
        eighths = round(share * _BAR_CELLS * 8)
        full, part = divmod(eighths, 8)
        drawn = "█" * full + ("▏▎▍▌▋▊▉"[part - 1] if part else "")
        pad = " " * (label_w - width(bar.label))
        lines.append(f"{bar.label}{pad} │{drawn} {bar.text}")
    return ["```text", *lines, "```"]
