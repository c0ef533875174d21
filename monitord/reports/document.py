"""A report as a neutral document: sections of paragraphs, tables and charts.

Built once per report and language; `html` and `markdown` render any document, so every
report (monthly, ticket record, logs) reads the same in both formats.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from monitord.reports.svg import Bar


@dataclass(frozen=True, slots=True)
class Paragraph:
    text: str
    note: bool = False  # smaller print: how a figure was counted


@dataclass(frozen=True, slots=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: frozenset[int] = frozenset()  # columns aligned right
    # Relative column widths (any unit, scaled to the page); empty: the browser decides,
    # within the page width (cells wrap anywhere rather than push the table past the edge).
    widths: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Chart:
    title: str
    bars: tuple[Bar, ...]
    scale_max: float
    scale_min: float = 0.0


@dataclass(frozen=True, slots=True)
class Text:
    """Preformatted text (a document's own words, kept as written)."""

    text: str


@dataclass(frozen=True, slots=True)
class Image:
    """A PNG kept in the record (a customer's drawn signature): inline in HTML and PDF,
    named by its label and digest in Markdown."""

    png_base64: str
    label: str
    sha256: str
    width: int
    height: int


Block = Paragraph | Table | Chart | Text | Image


@dataclass(frozen=True, slots=True)
class Section:
    title: str
    blocks: tuple[Block, ...]


@dataclass(frozen=True, slots=True)
class Document:
    title: str
    lang: str
    meta: tuple[tuple[str, str], ...]  # label, value: shown under the title
    sections: tuple[Section, ...] = field(default_factory=tuple)
