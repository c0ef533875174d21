"""How urgent a ticket class is, for whoever must choose what goes first (the outbox claim).

Lower ranks go first. A message without a ticket, or of a ticket not yet classified (a
hotline call), counts as the most urgent: nobody has said it can wait. A leaf module with
no imports, so the store can render the table as SQL without depending on the rest of
ticketing.
"""

from __future__ import annotations

from typing import Final

MOST_URGENT: Final = 0
# By ticket class; a class missing here (None, or a new one) ranks MOST_URGENT.
RANKS: Final[dict[str, int]] = {"A": MOST_URGENT, "B": 1, "C": 2, "D": 3}


def rank(ticket_class: str | None) -> int:
    return RANKS.get(ticket_class or "", MOST_URGENT)
