"""Stored text made safe to show: no terminal escapes, no spreadsheet formulas.

Comments, names and reasons come from customers, engineers and devices. An OSC or CSI
sequence in a comment would drive the reader's terminal; a cell starting with `=` runs as a
formula in the manager's spreadsheet. Every face passes stored text through here.
"""

from __future__ import annotations

import re
from typing import TextIO

REPLACEMENT = "\ufffd"
# C0 controls but tab and newline, a CR that does not end a line (CSV ends lines with CRLF),
# DEL, C1 controls (0x9b is CSI on many terminals) and lone surrogates (unencodable).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]|\r(?!\n)")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def clean(text: str) -> str:
    """`text` with every control character but newline and tab replaced by U+FFFD."""
    return _CONTROL.sub(REPLACEMENT, text)


def csv_cell(text: str) -> str:
    """A spreadsheet cell that shows `text` and never runs it (OWASP: a leading quote)."""
    text = text.replace("\r\n", "\n")
    quote = "'" if text.startswith(_FORMULA_START) else ""
    return quote + clean(text)


class CleanOutput:
    """A text stream that cleans what is written to it: the CLI's stdout, one place for all
    of its commands (click.echo writes here)."""

    def __init__(self, inner: TextIO) -> None:
        self._inner = inner

    def write(self, text: str) -> int:
        self._inner.write(clean(text))
        return len(text)

    def __getattr__(self, name: str) -> object:  # flush, isatty, encoding, buffer, ...
        return getattr(self._inner, name)
