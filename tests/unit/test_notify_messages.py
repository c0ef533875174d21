"""Messages from ticket events (pure) and the notify configuration."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from monitord.config.notify import NotifySettings, Recipient
from monitord.notify.messages import Routing, messages_for
from monitord.store.records import TicketRecord
from monitord.ticketing.lifecycle import EventKind, TicketEvent

T0 = dt.datetime(2026, 6, 1, 2, 0, tzinfo=dt.UTC)


def ticket(cls: str | None = "B") -> TicketRecord:
    return TicketRecord(
        7, "c/sw/down", "c", "s1", "sw", "down", cls, "switch-down", "open", False, False,
        "Gate switch (sw): down", ("sw", "cam-1", "cam-2"), T0, T0, 1,
    )  # fmt: skip


def routing(*recipients: Recipient) -> Routing:
    return Routing(
        recipients={"c": recipients},
        channel_types={"sms": "sms", "mail": "email"},
        timezones={"s1": "Asia/Shanghai"},
        base_url="https://noc.example.com/",
    )


OPENED = TicketEvent(T0, EventKind.OPENED, "monitord", "switch-down -> B", {"class": "B"})


def test_short_for_sms_rich_for_mail() -> None:
    r = routing(Recipient(channel="sms", to="+8613800000000"), Recipient(channel="mail", to="a@b"))
    sms, mail = messages_for(ticket(), [OPENED], r)
    assert sms.body == sms.subject == "[B级] 工单 #7 新工单: Gate switch (sw): down"
    assert len(sms.body) <= 140
    assert "受影响设备: 3" in mail.body
    assert "详情: https://noc.example.com/api/v1/tickets/7" in mail.body


def test_sla_breach_in_english_with_local_time() -> None:
    breach = TicketEvent(
        T0, EventKind.SLA_BREACH, "monitord", "on_site deadline passed",
        {"milestone": "on_site", "due": "2026-06-01T04:00:00+00:00"},
    )  # fmt: skip
    [m] = messages_for(
        ticket(), [OPENED, breach], routing(Recipient(channel="mail", to="a@b", language="en"))
    )
    assert m.subject == "[class B] Ticket #7 on_site deadline passed: Gate switch (sw): down"
    assert "Due: 2026-06-01 12:00 (Asia/Shanghai)" in m.body


def test_filters_by_event_and_class() -> None:
    only_a = Recipient(channel="mail", to="boss@b", classes=("A",))
    opened_only = Recipient(channel="mail", to="desk@b", events=("opened",))
    r = routing(only_a, opened_only)
    assert [m.recipient for m in messages_for(ticket(), [OPENED], r)] == ["desk@b"]
    assert [m.recipient for m in messages_for(ticket("A"), [OPENED], r)] == ["boss@b", "desk@b"]
    comment = TicketEvent(T0, EventKind.COMMENT, "eng", "on my way")
    assert messages_for(ticket("A"), [OPENED, comment], r) == []


def test_an_unclassified_hotline_ticket() -> None:
    call = TicketEvent(T0, EventKind.OPENED, "wang", "camera dark", {"hotline": True})
    [m] = messages_for(ticket(None), [call], routing(Recipient(channel="sms", to="1")))
    assert m.subject.startswith("[未定级] 工单 #7 热线报修")


def test_settings_are_checked() -> None:
    with pytest.raises(ValidationError, match="no channel named 'mail'"):
        NotifySettings.model_validate({"recipients": {"c": [{"channel": "mail"}]}})
    with pytest.raises(ValidationError, match="username and password"):
        NotifySettings.model_validate(
            {"channels": [{"type": "email", "name": "m", "host": "h", "sender": "s",
                           "username": "u"}]}
        )  # fmt: skip
    with pytest.raises(ValidationError):
        NotifySettings.model_validate(
            {"channels": [{"type": "webhook", "name": "w", "url": "http://x", "extra": 1}]}
        )
    assert NotifySettings.model_validate({"retry_window": "2h"}).retry_window == dt.timedelta(
        hours=2
    )
