"""Ticket event + routing -> the messages to send (pure: no I/O, no clock, no store).

Called inside the ticket write, so the messages are stored in the same transaction as the
event that causes them. Short texts for SMS, a richer body (impact, deadline, link) for
email and chat; Chinese or English per recipient.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from monitord.config.contracts import Contract
from monitord.config.models import Config
from monitord.config.notify import NotifyEvent, Recipient
from monitord.notify import customer
from monitord.notify.escalation import ANCHORS, Paging, pages, told_at, with_anchor
from monitord.notify.links import link_for
from monitord.notify.oncall import address
from monitord.present import i18n
from monitord.present.i18n import MESSAGE_HEADS, MESSAGE_LABELS, MESSAGE_TAGS
from monitord.store.records import OutboxRecord, TicketRecord
from monitord.ticketing.lifecycle import EventKind, Status, TicketEvent, derive
from monitord.ticketing.sla import deadlines

_SHORT_CHANNELS = frozenset({"sms"})


@dataclass(frozen=True, slots=True)
class Routing:
    """Who hears about which contract's tickets, over which channel (name -> type)."""

    recipients: Mapping[str, tuple[Recipient, ...]] = field(default_factory=dict)
    channel_types: Mapping[str, str] = field(default_factory=dict)
    contracts: Mapping[str, Contract] = field(default_factory=dict)
    zones: Mapping[str, str] = field(default_factory=dict)  # site -> city/county
    timezones: Mapping[str, str] = field(default_factory=dict)  # site -> IANA zone
    base_url: str | None = None
    paging: Paging = field(default_factory=Paging)  # on-call, escalation, quiet hours
    console: bool = False  # links go to the web console's ticket page, not the API

    @classmethod
    def from_config(cls, config: Config) -> Routing:
        return cls(
            recipients=config.notify.recipients,
            channel_types={c.name: c.type for c in config.notify.channels},
            contracts={c.id: c for c in config.contracts},
            zones={s.id: s.zone.value for s in config.sites},
            timezones={s.id: s.timezone for s in config.sites},
            base_url=config.api.base_url,
            paging=Paging.from_config(config),
            console=config.console.enabled,
        )

    def render(self, ticket: TicketRecord, log: Sequence[TicketEvent]) -> list[OutboxRecord]:
        """ticketing's MessageRenderer (ticketing/ports.py): app.py and the faces inject it."""
        return messages_for(ticket, log, self)


def messages_for(
    ticket: TicketRecord, events: Sequence[TicketEvent], routing: Routing
) -> list[OutboxRecord]:
    """The messages for the last event of `events` (the ticket's whole log, as written):
    the staff's, and the customer contacts' sign-off and survey links (notify/customer.py)."""
    return _for_staff(ticket, events, routing) + customer.messages(ticket, events, routing)


def _for_staff(
    ticket: TicketRecord, events: Sequence[TicketEvent], routing: Routing
) -> list[OutboxRecord]:
    event = events[-1]
    if event.kind == EventKind.ASSIGNED:
        return _assigned(ticket, events, routing)
    try:
        wanted = NotifyEvent(event.kind.value)
    except ValueError:
        # Comments, documents, acknowledgements page nobody; an escalation its step's people.
        return _paged(ticket, events, routing)
    kind = "hotline" if event.data.get("hotline") else event.kind.value
    cls = ticket.ticket_class or "hotline"
    # Quiet hours hold C and D messages (written now, sent when the quiet period ends).
    told = told_at(event)
    held = routing.paging.release(ticket, told)
    not_before = held if held > told else None
    out = []
    for r in (*routing.recipients.get(ticket.contract, ()), *routing.recipients.get("*", ())):
        if wanted not in r.events or (r.classes and cls not in r.classes):
            continue
        short = routing.channel_types.get(r.channel) in _SHORT_CHANNELS
        subject, body = render(ticket, events, routing, kind, r.language, short, r.console_user)
        out.append(OutboxRecord(r.channel, r.to, subject, body, not_before))
    return out + _paged(ticket, events, routing)


def _assigned(
    ticket: TicketRecord, events: Sequence[TicketEvent], routing: Routing
) -> list[OutboxRecord]:
    """An assignment tells the engineer assigned (the on-call person whose `console_user` it
    names), on every channel they have an address of their own on (no group bot)."""
    user = str(events[-1].data.get("engineer", ""))
    out = []
    for person in routing.paging.directory.people.values():
        if person.console_user != user:
            continue
        for channel, kind in routing.channel_types.items():
            to = address(person, channel, kind)
            if not to:
                continue
            short = kind in _SHORT_CHANNELS
            subject, body = render(ticket, events, routing, "assigned", person.language, short,
                                   user)  # fmt: skip
            out.append(OutboxRecord(channel, to, subject, body))
    return out


def _paged(
    ticket: TicketRecord, events: Sequence[TicketEvent], routing: Routing
) -> list[OutboxRecord]:
    """Escalation pages: the steps due at once with an anchor event, or an escalated step."""
    event = events[-1]
    if event.kind == EventKind.ESCALATED:
        steps, kind = [int(event.data["step"])], "escalated"
    elif event.kind in ANCHORS and derive(events).status == Status.OPEN:
        # Not when an acknowledged ticket changes class: someone has it already.
        steps = with_anchor(routing.paging, ticket, told_at(event))
        kind = "hotline" if event.data.get("hotline") else event.kind.value
    else:
        return []
    out = []
    for step in steps:
        for page in pages(routing.paging, ticket, step, told_at(event))[0]:
            short = routing.channel_types.get(page.channel) in _SHORT_CHANNELS
            subject, body = render(
                ticket, events, routing, kind, page.language, short, page.console_user
            )
            out.append(OutboxRecord(page.channel, page.address, subject, body))
    return out


def render(
    ticket: TicketRecord,
    events: Sequence[TicketEvent],
    routing: Routing,
    kind: str,
    language: str,
    short: bool,
    console_user: str | None = None,
) -> tuple[str, str]:
    event = events[-1]
    tz = ZoneInfo(routing.timezones.get(ticket.site_id, "Asia/Shanghai"))

    def word(key: str, table: Mapping[str, tuple[str, str]] = MESSAGE_LABELS) -> str:
        return i18n.word(table, key, language)

    def when(iso: str | dt.datetime) -> str:
        at = dt.datetime.fromisoformat(iso) if isinstance(iso, str) else iso
        return at.astimezone(tz).strftime("%Y-%m-%d %H:%M")

    fraction = float(event.data.get("fraction", 0))
    head = word(kind, MESSAGE_HEADS).format(
        from_=event.data.get("from", "?"),
        to=event.data.get("to", "?"),
        milestone=event.data.get("milestone", ""),
        pct=f"{fraction:.0%}",
        step=int(event.data.get("step", 0)) + 1,
    )
    cls = ticket.ticket_class
    # A hotline ticket not yet classified has no class.
    tag = word("unclassified" if cls is None else "class", MESSAGE_TAGS).format(cls=cls)
    late = event.data.get("delayed")
    if isinstance(late, Mapping):  # a fault replayed from a site's gap (sites/gap.py)
        tag = f"{tag}{word('delayed', MESSAGE_TAGS)}"
    subject = f"{tag} {word('ticket')} #{ticket.id} {head}: {ticket.title}"
    link = None
    if routing.base_url and routing.console:
        link = link_for(routing.base_url, ticket.id, console_user)
    if short:
        if link is None:
            return subject, subject[:140]  # one SMS; the rest is in the ticket
        return subject, f"{subject[:90]} {link}"  # the link fits: the token is 43 characters
    lines = [subject, "", f"{word('site')}: {ticket.site_id}"]
    if ticket.root_device:
        lines.append(f"{word('device')}: {ticket.root_device}")
    if ticket.impacted:
        lines.append(f"{word('impact')}: {len(ticket.impacted)}")
    if "due" in event.data:
        lines.append(f"{word('due')}: {when(str(event.data['due']))} ({tz.key})")
    elif kind in ("opened", "hotline", "reopened", "reclassified", "escalated"):
        nearest = _nearest_due(ticket, events, routing)
        if nearest is not None:
            milestone, due = nearest
            lines.append(f"{word('next')}: {milestone} {when(due)} ({tz.key})")
    if isinstance(late, Mapping):
        lines.append(
            word("delayed").format(
                site=late.get("site", ticket.site_id),
                from_=when(str(late.get("from", event.at.isoformat()))),
                until=when(str(late.get("until", event.at.isoformat())))[-5:],  # hh:mm
                at=when(event.at),
            )
        )
    seen = event.data.get("witness")
    if seen in ("line_down", "poller_down"):  # a silent poller's ticket (sites/witness.py)
        lines.append(word(f"witness_{seen}").format(address=event.data.get("witness_address")))
    if event.text:
        lines.append(event.text)
    if link is not None:
        lines.append(f"{word('link')}: {link}")
    elif routing.base_url:
        lines.append(f"{word('link')}: {routing.base_url.rstrip('/')}/api/v1/tickets/{ticket.id}")
    return subject, "\n".join(lines)


def _nearest_due(
    ticket: TicketRecord, events: Sequence[TicketEvent], routing: Routing
) -> tuple[str, dt.datetime] | None:
    contract = routing.contracts.get(ticket.contract)
    if contract is None or not events or events[0].kind != EventKind.OPENED:
        return None
    zone = routing.zones.get(ticket.site_id, "city")
    now = events[-1].at
    open_ = [d for d in deadlines(events, contract, zone, now) if d.met_at is None and d.due]
    if not open_:
        return None
    first = min(open_, key=lambda d: d.due or now)
    assert first.due is not None
    return first.milestone, first.due
