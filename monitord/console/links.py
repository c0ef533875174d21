"""One-time links to a ticket: sign-in links in an engineer's pages, and sign-off and survey
links to a customer contact who has no account (notify/links.py puts them in at send time).

A link is bound to one person and one ticket, valid `console.link_ttl` (24 h by default),
used once; only its SHA-256 is stored. Opening it (GET) only shows the ticket: mail and chat
apps fetch links to preview them, so a GET neither uses the link nor acts. The one POST from
that page (with its CSRF token) uses the link, signs the person in, and acts if asked.

A customer contact's link has a purpose (`signoff`, `survey`), names the contact, is valid
`console.customer_link_ttl` (72 h) and signs nobody in: its one POST records the sign-off or
the survey, with the name typed there. One table and one redeem for both kinds; a sign-in
link is never read as a customer's, nor the other way round.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable

from monitord.config.models import ConsoleSettings
from monitord.console.accounts import digest
from monitord.store import Store
from monitord.store.records import ContactLinkRecord, LinkRecord, UserRecord

PATH = "/console/t/"
# A customer contact's link: purpose -> its page.
CONTACT_PATHS = {"signoff": "/console/signoff/", "survey": "/console/survey/"}


class Links:
    def __init__(
        self, store: Store, settings: ConsoleSettings, now: Callable[[], dt.datetime]
    ) -> None:
        self.store, self.settings, self.now = store, settings, now

    def mint(self, user_name: str, ticket_id: int) -> str | None:
        """A fresh link's path for `user_name` about `ticket_id`; None if they cannot sign in."""
        user = self.store.accounts.user(user_name)
        if user is None or user.disabled or self.store.tickets.get(ticket_id) is None:
            return None
        token, now = secrets.token_urlsafe(32), self.now()
        self.store.accounts.add_link(digest(token), user.id, ticket_id, now,
                                     now + self.settings.link_ttl)  # fmt: skip
        return PATH + token

    def peek(self, token: str, now: dt.datetime) -> LinkRecord | None:
        """The link, if it could still be used: unused, unexpired, its user enabled."""
        if not token or len(token) > 100:
            return None
        found = self.store.accounts.link(digest(token))
        if found is None or found.used_at is not None or now >= found.expires_at:
            return None
        return None if found.user.disabled else found

    def redeem(self, token: str, now: dt.datetime) -> tuple[UserRecord, int] | None:
        """Use the link (once: a second or concurrent use gets None); its user and ticket."""
        found = self.peek(token, now)
        if found is None or not self.store.accounts.use_link(digest(token), now):
            return None
        return found.user, found.ticket_id

    def mint_for_contact(self, purpose: str, contact: str, ticket_id: int) -> str | None:
        """A fresh `purpose` link's path for a customer contact about `ticket_id`."""
        if purpose not in CONTACT_PATHS or self.store.tickets.get(ticket_id) is None:
            return None
        token, now = secrets.token_urlsafe(32), self.now()
        self.store.accounts.add_link(digest(token), None, ticket_id, now,
                                     now + self.settings.customer_link_ttl, purpose,
                                     contact[:200])  # fmt: skip
        return CONTACT_PATHS[purpose] + token

    def peek_contact(self, token: str, purpose: str, now: dt.datetime) -> ContactLinkRecord | None:
        """The contact's link, if it could still be used: unused and unexpired."""
        if not token or len(token) > 100:
            return None
        found = self.store.accounts.contact_link(digest(token), purpose)
        if found is None or found.used_at is not None or now >= found.expires_at:
            return None
        return found

    def redeem_contact(
        self, token: str, purpose: str, now: dt.datetime
    ) -> ContactLinkRecord | None:
        """Use the contact's link (once: a second or concurrent use gets None)."""
        found = self.peek_contact(token, purpose, now)
        if found is None or not self.store.accounts.use_link(digest(token), now):
            return None
        return found
