"""Ticket events put their messages into the outbox, in the same transaction (desk + store)."""

from __future__ import annotations

import datetime as dt

import pytest

from monitord.config import Config
from monitord.health.states import State
from monitord.notify.messages import Routing
from monitord.store import Store
from monitord.ticketing.desk import TicketDesk
from tests.support.ticketlab import T0, Lab, config_data

NOTIFY = {
    "channels": [
        {"type": "email", "name": "mail", "host": "127.0.0.1", "sender": "m@example.com"},
        {"type": "webhook", "name": "chat", "url": "http://127.0.0.1:1/hook"},
    ],
    "recipients": {
        "seed-000": [
            {"channel": "mail", "to": "ops@example.com", "language": "en"},
            {"channel": "chat", "language": "zh", "classes": ["A"], "events": ["opened"]},
        ]
    },
}


@pytest.fixture
def lab(store: Store) -> Lab:
    lab = Lab(store)
    data = config_data("sqlite://", "city") | {"notify": NOTIFY}
    data["api"] = {"base_url": "https://noc.example.com"}
    lab.config = Config.model_validate(data)
    lab.desk = TicketDesk(store, lab.clock, lab.config, messages=Routing.from_config)
    return lab


async def test_an_nvr_down_pages_mail_and_chat_once(lab: Lab) -> None:
    lab.tracker.devices["nvr"].state = State.UP
    await lab.set("nvr", State.DOWN)
    await lab.set("nvr", State.DOWN)  # the same fault again: no second message
    [ticket] = lab.store.tickets.recent()
    messages = sorted(lab.store.outbox.messages(), key=lambda m: m.channel)
    assert [(m.channel, m.recipient, m.idempotency_key) for m in messages] == [
        ("chat", "", f"{ticket.id}/1/chat/"),
        ("mail", "ops@example.com", f"{ticket.id}/1/mail/ops@example.com"),
    ]
    chat, mail = messages
    assert mail.subject == f"[class A] Ticket #{ticket.id} opened: {ticket.title}"
    assert f"https://noc.example.com/api/v1/tickets/{ticket.id}" in mail.body
    assert "Nearest deadline" in mail.body and "Asia/Shanghai" in mail.body
    assert chat.subject.startswith(f"[A级] 工单 #{ticket.id} 新工单")
    assert "最近时限" in chat.body


async def test_recovery_and_sla_events_reach_only_who_asked(lab: Lab) -> None:
    lab.tracker.devices["nvr"].state = State.UP
    await lab.set("nvr", State.DOWN)
    await lab.set("nvr", State.UP, 5)
    lab.desk.tick(T0 + dt.timedelta(days=3))  # every clock breached
    [ticket] = lab.store.tickets.recent()
    mail = [m for m in lab.store.outbox.messages() if m.channel == "mail"]
    subjects = " | ".join(m.subject for m in mail)
    assert "device answers again" in subjects and "deadline passed" in subjects
    assert len([m for m in lab.store.outbox.messages() if m.channel == "chat"]) == 1
    kinds = {e.seq: e.kind for e in lab.store.tickets.events(ticket.id)}
    # Each message names the event that caused it.
    for m in mail:
        seq = int(m.idempotency_key.split("/")[1])
        assert kinds[seq] in {"opened", "recovered", "sla_breach", "sla_warning"}


async def test_without_a_notify_section_nothing_is_queued(store: Store) -> None:
    lab = Lab(store)
    await lab.set("nvr", State.DOWN)
    assert lab.store.tickets.recent() and lab.store.outbox.messages() == []
