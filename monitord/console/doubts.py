"""Does an approval's comment read like a rejection? (GLPI #24519: a requester approved a
solution while writing "partially resolved".) The console then asks again before recording
the approval; the phrases, Chinese and English, are in present/i18n.py (SIGNOFF_DOUBTS).

A short phrase list, not a classifier: asking once more costs the customer one tap, so a
false alarm ("仍然很好") is cheap, and every phrase is one a reader can check.
"""

from __future__ import annotations

import re

from monitord.present.i18n import SIGNOFF_DOUBTS

_SPACES = re.compile(r"\s+")


def doubt(comment: str) -> str | None:
    """The first phrase of `comment` that reads like a rejection, as written; or None."""
    shown = _SPACES.sub(" ", comment.replace("\u2019", "'"))
    text = shown.lower()
    found = [(text.find(p), p) for p in SIGNOFF_DOUBTS if p in text]
    if not found:
        return None
    at, phrase = min(found)
    # lower() keeps the length of nearly every text; where not, the phrase as listed.
    return shown[at : at + len(phrase)] if len(text) == len(shown) else phrase
