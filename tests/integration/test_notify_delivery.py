"""Delivery against real peers: an SMTP server that is down, then busy, then accepts; an
HTTP webhook that fails, then succeeds; two dispatchers racing on one database."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from monitord.clock import FakeClock
from monitord.config.delivery import Grouping
from monitord.config.notify import EmailChannel, NotifySettings, WebhookChannel
from monitord.notify.channels import DeliveryError
from monitord.notify.channels.bots import dingtalk_sign
from monitord.notify.channels.webhook import Webhook
from monitord.notify.dispatcher import Dispatcher
from monitord.store import Store
from monitord.store.records import OutboxMessage, OutboxRecord
from tests.peers.notify import Hook, Mailbox, free_port, http_server, smtp_server
from tests.support.ticket_records import CAM, NVR, SITES, SW, T0, draft, opened

PEOPLE = [f"eng{i}@example.com" for i in range(5)]
# Delivery itself, each row a message at once: grouping has its own tests (test_notify_storm).
ALONE = Grouping(enabled=False)


@pytest.fixture
def fleet(store: Store) -> Store:
    store.devices.sync(SITES, [SW, CAM, NVR], T0)
    return store


def mail_settings(port: int) -> NotifySettings:
    channel = EmailChannel(
        type="email", name="mail", host="127.0.0.1", port=port, security="none",
        sender="monitord@example.com", timeout=5,
    )  # fmt: skip
    return NotifySettings(channels=(channel,), grouping=ALONE)


def queue_mail(store: Store, people: list[str]) -> None:
    records = [OutboxRecord("mail", p, f"ticket for {p}", "body") for p in people]
    store.tickets.open(draft(), opened(), records)


def states(store: Store) -> dict[str, str]:
    return {m.recipient: m.state for m in store.outbox.messages()}


async def test_smtp_down_then_busy_then_up_delivers_each_message_once(fleet: Store) -> None:
    clock = FakeClock(T0)
    port = free_port()
    queue_mail(fleet, PEOPLE)
    dispatcher = Dispatcher(fleet, clock, mail_settings(port))
    # Nobody listens: connection refused is transient.
    assert await dispatcher.pass_once() == 5
    assert set(states(fleet).values()) == {"pending"}
    assert "SMTPConnectError" in fleet.outbox.messages()[0].last_error  # type: ignore[operator]
    assert await dispatcher.pass_once() == 0  # backing off
    mailbox = Mailbox(data_reply="451 4.3.0 try again later")
    with smtp_server(mailbox, port):
        await clock.advance(10)
        assert await dispatcher.pass_once() == 5
        assert mailbox.received == [] and set(states(fleet).values()) == {"pending"}
        assert "451" in fleet.outbox.messages()[0].last_error  # type: ignore[operator]
        await clock.advance(19)
        assert await dispatcher.pass_once() == 0  # the second back-off is 20 s
        mailbox.data_reply = "250 OK"
        await clock.advance(1)
        assert await dispatcher.pass_once() == 5
        await clock.advance(3600)
        assert await dispatcher.pass_once() == 0
    assert sorted(to for to, _, _ in mailbox.received) == PEOPLE
    assert len({mid for _, _, mid in mailbox.received}) == 5
    assert set(states(fleet).values()) == {"sent"}
    assert {m.attempts for m in fleet.outbox.messages()} == {3}
    assert dispatcher.counters.sent.labels("mail")._value.get() == 5


async def test_a_refused_recipient_is_a_permanent_failure(fleet: Store) -> None:
    clock = FakeClock(T0)
    port = free_port()
    queue_mail(fleet, ["gone@example.com", "ops@example.com"])
    mailbox = Mailbox(refuse={"gone@example.com"})
    with smtp_server(mailbox, port):
        dispatcher = Dispatcher(fleet, clock, mail_settings(port))
        assert await dispatcher.pass_once() == 2
        await clock.advance(86_400)
        assert await dispatcher.pass_once() == 0
    assert states(fleet) == {"gone@example.com": "failed", "ops@example.com": "sent"}
    [failed] = fleet.outbox.messages(states=["failed"])
    assert "550" in (failed.last_error or "")
    assert [to for to, _, _ in mailbox.received] == ["ops@example.com"]


async def test_transient_failures_give_up_after_the_retry_window(fleet: Store) -> None:
    clock = FakeClock(T0)
    queue_mail(fleet, ["ops@example.com"])
    settings = mail_settings(free_port()).model_copy(update={"retry_window": dt.timedelta(hours=1)})
    dispatcher = Dispatcher(fleet, clock, settings)
    attempts = 0
    while (await dispatcher.pass_once()) or not fleet.outbox.messages(states=["failed"]):
        attempts += 1
        await clock.advance(900)
    [failed] = fleet.outbox.messages()
    assert failed.state == "failed" and "gave up after" in (failed.last_error or "")
    assert 4 <= failed.attempts <= 8


async def test_two_dispatchers_on_one_database_never_send_a_row_twice(
    fleet: Store, database_url: str
) -> None:
    people = [f"p{i}@example.com" for i in range(40)]
    queue_mail(fleet, people)
    port = free_port()
    mailbox = Mailbox()
    other = Store.open(database_url)
    clock = FakeClock(T0)
    try:
        with smtp_server(mailbox, port):
            a = Dispatcher(fleet, clock, mail_settings(port), batch=7)
            b = Dispatcher(other, clock, mail_settings(port), batch=7)
            for _ in range(10):
                await asyncio.gather(a.pass_once(), b.pass_once())
    finally:
        other.close()
    assert sorted(to for to, _, _ in mailbox.received) == sorted(people)
    assert set(states(fleet).values()) == {"sent"}


def message(key: str = "1/1/hook/") -> OutboxMessage:
    return OutboxMessage(
        1, key, 1, "hook", "", "[A] ticket #1 opened", "NVR down", T0, T0, 1, "sending",
        None, None, None,
    )  # fmt: skip


def hook_channel(url: str, **extra: object) -> WebhookChannel:
    return WebhookChannel.model_validate(
        {"type": "webhook", "name": "hook", "url": url, "allow_addresses": ["127.0.0.1"]} | extra
    )


async def test_webhook_500_then_200_delivers_once(fleet: Store) -> None:
    hook = Hook(statuses=[500, 503, 200])
    with http_server(hook) as base:
        channel = hook_channel(f"{base}/alert")
        fleet.tickets.open(draft(), opened(), [OutboxRecord("hook", "", "s", "b")])
        clock = FakeClock(T0)
        dispatcher = Dispatcher(fleet, clock, NotifySettings(channels=(channel,), grouping=ALONE))
        for _ in range(6):
            await dispatcher.pass_once()
            await clock.advance(60)
    [(path, headers, body)] = hook.requests
    [row] = fleet.outbox.messages()
    assert path == "/alert" and row.state == "sent" and row.attempts == 3
    assert headers["Idempotency-Key"] == row.idempotency_key == body["key"]
    assert (body["subject"], body["body"], body["ticket"]) == ("s", "b", row.ticket_id)


@pytest.mark.parametrize(
    ("status", "permanent"), [(404, True), (400, True), (429, False), (502, False)]
)
async def test_webhook_status_classes(status: int, permanent: bool) -> None:
    with http_server(Hook(statuses=[status])) as base, pytest.raises(DeliveryError) as caught:
        await Webhook(hook_channel(f"{base}/x")).send(message())
    assert caught.value.permanent is permanent and str(status) in str(caught.value)


async def test_webhook_timeout_is_transient() -> None:
    with http_server(Hook(delay=1.0)) as base, pytest.raises(DeliveryError) as caught:
        await Webhook(hook_channel(f"{base}/x", timeout=0.2)).send(message())
    assert not caught.value.permanent and "Timeout" in str(caught.value)


async def test_loopback_is_refused_unless_allowed_and_the_url_stays_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HOOK_URL", "http://localhost:9/robot/send?access_token=s3cret")
    channel = WebhookChannel.model_validate(
        {"type": "webhook", "name": "hook", "url": {"env": "HOOK_URL"}}
    )
    with pytest.raises(DeliveryError) as caught:
        await Webhook(channel).send(message())
    assert caught.value.permanent and "s3cret" not in str(caught.value)
    for address in ["169.254.169.254", "100.100.100.200", "0.0.0.0", "::1"]:
        url = f"http://[{address}]/" if ":" in address else f"http://{address}/"
        with pytest.raises(DeliveryError, match="refused addresses"):
            await Webhook(hook_channel(url, allow_addresses=[])).send(message())


async def test_dingtalk_body_and_signature(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DING_SECRET", "SECabc")
    hook = Hook(reply={"errcode": 0, "errmsg": "ok"})
    with http_server(hook) as base:
        channel = hook_channel(
            f"{base}/robot/send?access_token=t", format="dingtalk", secret={"env": "DING_SECRET"}
        )
        await Webhook(channel).send(message())
    [(path, _, body)] = hook.requests
    assert body == {"msgtype": "text", "text": {"content": "NVR down"}}
    from urllib.parse import parse_qs, urlsplit

    query = parse_qs(urlsplit(path).query)
    assert query["access_token"] == ["t"]
    assert query["sign"] == [dingtalk_sign(query["timestamp"][0], "SECabc")]


async def test_a_bot_error_code_in_a_200_reply() -> None:
    hook = Hook(reply={"errcode": 93000, "errmsg": "invalid webhook url"})
    with http_server(hook) as base, pytest.raises(DeliveryError) as caught:
        await Webhook(hook_channel(f"{base}/cgi-bin/webhook/send", format="wecom")).send(message())
    assert caught.value.permanent
    hook.reply = {"errcode": 45009}
    with http_server(hook) as base, pytest.raises(DeliveryError) as caught:
        await Webhook(hook_channel(f"{base}/x", format="wecom")).send(message())
    assert not caught.value.permanent
    assert hook.requests[0][2] == {"msgtype": "text", "text": {"content": "NVR down"}}


def test_the_lease_outlasts_a_slow_batch(store: Store) -> None:
    slow = mail_settings(25).model_copy(update={"concurrency": 2})
    slow = slow.model_copy(
        update={"channels": (slow.channels[0].model_copy(update={"timeout": 120.0}),)}
    )
    assert Dispatcher(store, FakeClock(T0), slow, batch=10).lease == dt.timedelta(seconds=1200)
    assert Dispatcher(store, FakeClock(T0), mail_settings(25)).lease == dt.timedelta(minutes=5)


def test_a_contract_that_notifies_nobody_is_named(store: Store) -> None:
    from prometheus_client import CollectorRegistry, generate_latest

    from monitord.notify.metrics import OutboxCollector

    settings = NotifySettings.model_validate(
        {
            "channels": [{"type": "email", "name": "m", "host": "h", "sender": "s"}],
            "recipients": {"c1": [{"channel": "m", "to": "a@b"}]},
        }
    )
    dispatcher = Dispatcher(store, FakeClock(T0), settings, contracts=["c1", "c2"])
    assert dispatcher.unrouted == ["c2"]
    registry = CollectorRegistry()
    registry.register(OutboxCollector(dispatcher, lambda: T0))
    page = generate_latest(registry).decode()
    assert 'monitord_notify_contract_unrouted{contract="c2"} 1.0' in page
    assert 'monitord_outbox_messages{channel="m",state="pending"} 0.0' in page
    dispatcher.apply(settings.model_copy(update={"recipients": {"*": ()}}), ["c1"])
    assert dispatcher.unrouted == ["c1"]
