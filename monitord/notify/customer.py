"""The messages to a contract's customer contacts (config `customer_contacts`): a one-time
sign-off link when a ticket of theirs is resolved, a follow-up survey link once it is
signed off. Pure, like messages.py: the stored text carries a marker (notify/links.py) and
the dispatcher mints the token at send time; without a console and a base URL there is no
link to send, so nothing is sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from monitord.notify.links import contact_link
from monitord.present.i18n import CONSOLE, word
from monitord.store.records import OutboxRecord, TicketRecord
from monitord.ticketing.lifecycle import EventKind, TicketEvent

if TYPE_CHECKING:
    from monitord.notify.messages import Routing

PURPOSES = {EventKind.RESOLVED: "signoff", EventKind.VERIFIED: "survey"}
_ADDRESS = {"email": "email", "sms": "phone"}  # channel type -> the contact's field


def messages(
    ticket: TicketRecord, events: Sequence[TicketEvent], routing: Routing
) -> list[OutboxRecord]:
    purpose = PURPOSES.get(events[-1].kind) if events else None
    contract = routing.contracts.get(ticket.contract)
    if purpose is None or contract is None or not (routing.base_url and routing.console):
        return []
    # The first channel of each kind: a contact hears once per address, not once per bot.
    channels: dict[str, str] = {}
    for name, kind in routing.channel_types.items():
        if kind in _ADDRESS:
            channels.setdefault(kind, name)
    out = []
    for person in contract.customer_contacts:
        if person.sites and ticket.site_id not in person.sites:
            continue
        link = contact_link(routing.base_url, purpose, person.id, ticket.id)
        subject = word(CONSOLE, f"msg_{purpose}_subject", person.language).format(id=ticket.id)
        for kind, channel in channels.items():
            to = getattr(person, _ADDRESS[kind])
            if not to:
                continue
            if kind == "sms":
                body = f"{subject} {link}"
            else:
                text = word(CONSOLE, f"msg_{purpose}_body", person.language)
                body = f"{subject}\n\n{text.format(title=ticket.title)}\n{link}"
            out.append(OutboxRecord(channel, to, subject, body))
    return out
