"""Mail credentials (issue 13, item 7): a wrong password is refused once, not retried for
the whole window (which locks mail accounts); plain-text AUTH needs an explicit opt-in."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from monitord.clock import FakeClock
from monitord.config.delivery import Grouping
from monitord.config.notify import EmailChannel, NotifySettings
from monitord.notify.dispatcher import Dispatcher
from monitord.store import Store
from monitord.store.records import OutboxRecord
from tests.peers.notify import Accounts, Mailbox, free_port, smtp_server
from tests.support.ticket_records import CAM, NVR, SITES, SW, T0, draft, opened


def channel(port: int, **more: object) -> EmailChannel:
    return EmailChannel.model_validate(
        {"type": "email", "name": "mail", "host": "127.0.0.1", "port": port, "security": "none",
         "sender": "monitord@example.com", "timeout": 5, "username": "monitord",
         "password": {"env": "T_SMTP"}, "allow_plaintext_auth": True, **more}
    )  # fmt: skip


def test_a_password_over_plain_smtp_needs_the_opt_in() -> None:
    with pytest.raises(ValidationError, match="allow_plaintext_auth"):
        channel(25, allow_plaintext_auth=False)
    for security in ("starttls", "tls"):
        assert channel(25, security=security, allow_plaintext_auth=False).security == security
    assert channel(25).allow_plaintext_auth


async def test_a_rejected_password_fails_at_once_and_is_not_retried(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("T_SMTP", "wrong-password")
    store.devices.sync(SITES, [SW, CAM, NVR], T0)
    store.tickets.open(draft(), opened(), [OutboxRecord("mail", "ops@example.com", "s", "b")])
    clock, port = FakeClock(T0), free_port()
    accounts, mailbox = Accounts({"monitord": "right-password"}), Mailbox()
    settings = NotifySettings(channels=(channel(port),), grouping=Grouping(enabled=False))
    with smtp_server(mailbox, port, accounts):
        dispatcher = Dispatcher(store, clock, settings)
        assert await dispatcher.pass_once() == 1
        for _ in range(5):
            await clock.advance(3600)
            assert await dispatcher.pass_once() == 0
    [failed] = store.outbox.messages()
    assert failed.state == "failed" and failed.attempts == 1  # one try, not 24 h of them
    assert "535" in (failed.last_error or "")
    # aiosmtplib tries each mechanism the server offers (PLAIN, LOGIN) in that one try.
    assert set(accounts.logins) == {("monitord", "wrong-password")}
    assert len(accounts.logins) <= 2
    assert "wrong-password" not in (failed.last_error or "") and mailbox.received == []


async def test_the_right_password_is_accepted(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The peer really checks: the same setup with the right password delivers."""
    monkeypatch.setenv("T_SMTP", "right-password")
    store.devices.sync(SITES, [SW, CAM, NVR], T0)
    store.tickets.open(draft(), opened(), [OutboxRecord("mail", "ops@example.com", "s", "b")])
    port = free_port()
    accounts, mailbox = Accounts({"monitord": "right-password"}), Mailbox()
    settings = NotifySettings(channels=(channel(port),), grouping=Grouping(enabled=False))
    with smtp_server(mailbox, port, accounts):
        assert await Dispatcher(store, FakeClock(T0), settings).pass_once() == 1
    assert [to for to, _, _ in mailbox.received] == ["ops@example.com"]
    assert accounts.logins == [("monitord", "right-password")]
    assert store.outbox.messages()[0].state == "sent"
