"""A document as one printable HTML page: inline CSS and SVG, no scripts, nothing fetched.

Printed, nothing may cross the page edge and no heading may stand alone at a page foot:
tables wrap their cells anywhere (so their least width is never the page's), tables with
widths are laid out fixed, long tables break between rows and repeat their header, and each
section's heading is kept with its first block.
"""

from __future__ import annotations

from html import escape

from monitord.reports import svg
from monitord.reports.document import Block, Chart, Document, Image, Paragraph, Table, Text

_CSS = """
@page { size: A4; margin: 15mm 12mm; }
body { font-family: 'Noto Sans CJK SC', 'Noto Sans SC', 'Microsoft YaHei', sans-serif;
       color: #222; margin: 2em auto; max-width: 60em; font-size: 11pt; line-height: 1.4; }
h1 { font-size: 18pt; border-bottom: 2px solid #2f6db5; padding-bottom: .2em; }
h2 { font-size: 13pt; margin-top: 1.6em; color: #2f6db5; }
dl.meta { display: grid; grid-template-columns: max-content auto; gap: .1em 1em; }
dl.meta dt { color: #555; } dl.meta dd { margin: 0; overflow-wrap: anywhere; }
table { border-collapse: collapse; margin: .6em 0; width: 100%; max-width: 100%; }
table.fixed { table-layout: fixed; }
th, td { border: 1px solid #bbb; padding: .25em .5em; text-align: left; vertical-align: top;
         overflow-wrap: anywhere; }
th { background: #eef3fa; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
p { overflow-wrap: anywhere; }
p.note { color: #555; font-size: 9pt; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; font-family: inherit;
      background: #f7f7f7; padding: .5em; border-left: 3px solid #bbb; }
svg.chart { display: block; margin: .6em 0; max-width: 100%; height: auto; }
img.signature { display: block; max-width: 60%; height: auto; border-bottom: 1px solid #888; }
section { break-inside: auto; }
@media print {
  body { margin: 0; max-width: none; font-size: 10pt; }
  h2 { break-after: avoid; }
  div.lead { break-inside: avoid; break-after: avoid; }
  thead { display: table-header-group; }
  tr, svg.chart, pre, p { break-inside: avoid; }
  th { background: #eef3fa !important; -webkit-print-color-adjust: exact;
       print-color-adjust: exact; }
  svg.chart { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""


def render(doc: Document) -> str:
    html_lang = "zh-CN" if doc.lang == "zh" else "en"
    meta = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in doc.meta)
    body = [f"<h1>{escape(doc.title)}</h1>", f'<dl class="meta">{meta}</dl>']
    for section in doc.sections:
        body.append("<section>")
        body += _section(section.title, section.blocks)
        body.append("</section>")
    return "\n".join(
        [
            "<!DOCTYPE html>",
            f'<html lang="{html_lang}">',
            '<head><meta charset="utf-8">',
            # Nothing may be loaded from anywhere: the report is read offline and printed.
            (
                '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
                "style-src 'unsafe-inline'; img-src data:\">"
            ),
            f"<title>{escape(doc.title)}</title>",
            f"<style>{_CSS}</style></head>",
            "<body>",
            *body,
            "</body></html>",
            "",
        ]
    )


def _section(title: str, blocks: tuple[Block, ...]) -> list[str]:
    """The heading, its notes (they say what follows) and the first unbreakable block (a
    chart, a paragraph) in one group, then the rest. `break-after: avoid` alone does not
    hold when the next block may not break and does not fit in what is left of the page:
    Chromium then leaves the heading behind; a group that fits always holds. A table may
    break between rows, so the group's `break-after: avoid` keeps its first rows with it."""
    notes = 0
    while notes < len(blocks) and _is_note(blocks[notes]):
        notes += 1
    taken = notes + (notes < len(blocks) and not isinstance(blocks[notes], Table))
    group = "".join(_block(b) for b in blocks[:taken])
    lead = f'<div class="lead"><h2>{escape(title)}</h2>{group}</div>'
    return [lead, *(_block(b) for b in blocks[taken:])]


def _is_note(block: Block) -> bool:
    return isinstance(block, Paragraph) and block.note


def _block(block: Block) -> str:
    if isinstance(block, Paragraph):
        cls = ' class="note"' if block.note else ""
        return f"<p{cls}>{escape(block.text)}</p>"
    if isinstance(block, Text):
        return f"<pre>{escape(block.text)}</pre>"
    if isinstance(block, Chart):
        return svg.bars(block.title, block.bars, block.scale_max, block.scale_min)
    if isinstance(block, Image):
        # Base64 holds no markup, and the page's policy allows data: images only.
        return (f'<img class="signature" alt="{escape(block.label)}" width="{block.width}" '
                f'height="{block.height}" src="data:image/png;base64,{block.png_base64}">')  # fmt: skip
    return _table(block)


def _table(table: Table) -> str:
    def cell(tag: str, i: int, text: str) -> str:
        cls = ' class="num"' if i in table.numeric else ""
        return f"<{tag}{cls}>{escape(text)}</{tag}>"

    head = "".join(cell("th", i, h) for i, h in enumerate(table.header))
    rows = "".join(
        "<tr>" + "".join(cell("td", i, c) for i, c in enumerate(row)) + "</tr>"
        for row in table.rows
    )
    thead = f"<thead><tr>{head}</tr></thead>" if any(table.header) else ""
    if not table.widths:
        return f"<table>{thead}<tbody>{rows}</tbody></table>"
    total = sum(table.widths)
    cols = "".join(f'<col style="width:{100 * x / total:.1f}%">' for x in table.widths)
    return f'<table class="fixed"><colgroup>{cols}</colgroup>{thead}<tbody>{rows}</tbody></table>'
