"""The console link in a message, and the one-time sign-in token put into it when sent.

A message is rendered inside the ticket write (pure, stored in the outbox), but a sign-in
token must never sit in the database in clear. So the stored text carries a marker,
`{signin:USER:TICKET}`, and the dispatcher swaps it for `/console/t/<token>` just before
sending, minting the token then (its hash alone is stored, console/links.py). Without a
minter, or for a user who cannot sign in, the marker becomes the ticket's plain page.

A customer contact's sign-off or survey link is marked the same way,
`{contact:PURPOSE:CONTACT:TICKET}` (notify/customer.py), and minted by the contact minter.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_MARK = re.compile(r"\{signin:([A-Za-z0-9][\w.\-]{0,63}):(\d{1,18})\}")
# (console user, ticket id) -> the path of a fresh one-time link, or None (cannot sign in).
Minter = Callable[[str, int], str | None]
_CONTACT = re.compile(r"\{contact:(signoff|survey):([A-Za-z0-9][\w.\-]{0,63}):(\d{1,18})\}")
# (purpose, contact id, ticket id) -> the path of a fresh customer link, or None.
ContactMinter = Callable[[str, str, int], str | None]


def link_for(base_url: str, ticket_id: int, console_user: str | None) -> str:
    base = base_url.rstrip("/")
    if console_user is None:
        return f"{base}/console/tickets/{ticket_id}"
    return f"{base}{{signin:{console_user}:{ticket_id}}}"


def contact_link(base_url: str, purpose: str, contact: str, ticket_id: int) -> str:
    return f"{base_url.rstrip('/')}{{contact:{purpose}:{contact}:{ticket_id}}}"


def has_marks(text: str) -> bool:
    return _MARK.search(text) is not None or _CONTACT.search(text) is not None


def fill(text: str, mint: Minter | None, contact: ContactMinter | None = None) -> str:
    """`text` with every marker replaced by a fresh link's path (or the plain ticket page)."""

    def one(m: re.Match[str]) -> str:
        ticket = int(m.group(2))
        made = mint(m.group(1), ticket) if mint is not None else None
        return made or f"/console/tickets/{ticket}"

    def customer(m: re.Match[str]) -> str:
        ticket = int(m.group(3))
        made = contact(m.group(1), m.group(2), ticket) if contact is not None else None
        return made or f"/console/tickets/{ticket}"

    return _CONTACT.sub(customer, _MARK.sub(one, text))
