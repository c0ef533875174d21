"""The messages to a contract's customer contacts: the sign-off link when a ticket is
resolved, the survey link when it is signed off; by email and SMS, zh or en; a marker in
the stored text, swapped for a fresh one-time link at send time."""

from __future__ import annotations

import datetime as dt

from monitord.config.contracts import Contract
from monitord.notify import customer
from monitord.notify.links import fill, has_marks
from monitord.notify.messages import Routing
from monitord.store.records import TicketRecord
from monitord.ticketing.lifecycle import EventKind, TicketEvent

T0 = dt.datetime(2026, 6, 1, 8, tzinfo=dt.UTC)
RULES = [{"name": "any", "class": "C", "when": {}}]


def routing(console: bool = True, base: str | None = "https://noc.example") -> Routing:
    contract = Contract.model_validate({"id": "k1", "name": "K1", "rules": RULES,
        "customer_contacts": [
            {"id": "wang", "name": "Wang", "email": "wang@example.com", "phone": "13800000000"},
            {"id": "li", "name": "Li", "language": "en", "email": "li@example.com",
             "sites": ["s9"]}]})  # fmt: skip
    return Routing(channel_types={"mail": "email", "bot": "webhook", "text": "sms"},
                   contracts={"k1": contract}, base_url=base, console=console)  # fmt: skip


def ticket() -> TicketRecord:
    return TicketRecord(id=7, dedup_key="k", contract="k1", site_id="s1", root_device="nvr",
                        fault_kind="device_down", ticket_class="C", rule="any",
                        status="resolved", paused=False, recovered=False, title="NVR down",
                        impacted=(), opened_at=T0, updated_at=T0, version=1)  # fmt: skip


def event(kind: EventKind) -> TicketEvent:
    return TicketEvent(T0, kind, "eng")


def test_a_resolved_ticket_sends_its_contacts_a_signoff_link() -> None:
    out = customer.messages(ticket(), [event(EventKind.RESOLVED)], routing())
    assert sorted((m.channel, m.recipient) for m in out) == [("mail", "wang@example.com"),
                                                      ("text", "13800000000")]  # fmt: skip
    assert all("{contact:signoff:wang:7}" in m.body for m in out)
    mail = next(m for m in out if m.channel == "mail")
    assert "请验收" in mail.subject and "72" in mail.body  # Wang reads Chinese
    filled = fill(mail.body, None, lambda purpose, who, t: f"/console/{purpose}/TOKEN-{who}-{t}")
    assert "https://noc.example/console/signoff/TOKEN-wang-7" in filled and not has_marks(filled)


def test_a_verified_ticket_sends_the_survey_link_and_other_events_nothing() -> None:
    out = customer.messages(ticket(), [event(EventKind.VERIFIED)], routing())
    assert out and all("{contact:survey:wang:7}" in m.body for m in out)
    for kind in (EventKind.OPENED, EventKind.ACKNOWLEDGED, EventKind.REOPENED):
        assert customer.messages(ticket(), [event(kind)], routing()) == []


def test_without_a_console_or_a_base_url_no_link_is_sent() -> None:
    assert customer.messages(ticket(), [event(EventKind.RESOLVED)], routing(console=False)) == []
    assert customer.messages(ticket(), [event(EventKind.RESOLVED)], routing(base=None)) == []


def test_without_a_minter_the_marker_becomes_the_plain_ticket_page() -> None:
    assert fill("see https://x{contact:signoff:wang:7}", None) == "see https://x/console/tickets/7"
