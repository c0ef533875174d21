"""A discovery change's evidence in the reader's language, for the console's change set and
the terminal's alike (the proposer keeps an English `detail` beside a word key and its values).
"""

from __future__ import annotations

from monitord.discovery.propose import Item
from monitord.present import i18n


def evidence(item: Item, lang: str) -> str:
    if not item.why:
        return item.detail
    args = dict(item.args)
    if item.why == "ev_facts":  # the archive's own names of the fields to fill
        args["fields"] = ", ".join(i18n.field(k, lang) for k in item.record)
    try:
        return i18n.word(i18n.CONSOLE, item.why, lang).format(**args)
    except (KeyError, IndexError, ValueError):
        return item.detail  # a word whose values changed: the English detail still says it
