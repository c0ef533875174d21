"""The daily digest of open C/D tickets: at the set local hour, once per day even when the
daemon restarts, in the recipient's language, delivered through a real SMTP server."""

from __future__ import annotations

import datetime as dt

import pytest

from monitord.clock import FakeClock
from monitord.config.contracts import Contract
from monitord.config.delivery import Digest, Grouping
from monitord.config.notify import EmailChannel, NotifyEvent, NotifySettings, Recipient
from monitord.notify.digest import DigestTask
from monitord.notify.dispatcher import Dispatcher
from monitord.notify.messages import Routing
from monitord.store import Store
from monitord.store.records import DeviceRecord
from tests.peers.notify import Mailbox, free_port, smtp_server
from tests.support.ticket_records import CAM, NVR, SITES, SW, draft, event, opened

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
# 07:59 in Shanghai on 1 March: one minute before the digest hour.
BEFORE = dt.datetime(2025, 3, 1, 7, 59, tzinfo=SHANGHAI).astimezone(dt.UTC)
CONTRACT = Contract.model_validate(
    {"id": "C-1", "name": "北区维保", "rules": [{"name": "any", "class": "C"}]}
)
EXTRA = [DeviceRecord(f"cam-{i}", "s1", f"Camera {i}", "camera", f"10.0.3.{i}") for i in range(4)]


def routing() -> Routing:
    digest_only = (NotifyEvent.DIGEST,)
    return Routing(
        recipients={
            "C-1": (
                Recipient(channel="mail", to="zh@example.com", events=digest_only),
                Recipient(channel="mail", to="en@example.com", language="en", classes=("D",)),
                Recipient(channel="mail", to="pager@example.com", events=(NotifyEvent.OPENED,)),
            )
        },
        channel_types={"mail": "email"},
        contracts={"C-1": CONTRACT},
        timezones={"s1": "Asia/Shanghai", "s2": "Asia/Shanghai"},
    )


@pytest.fixture
def fleet(store: Store) -> Store:
    store.devices.sync(SITES, [SW, CAM, NVR, *EXTRA], BEFORE)
    at = BEFORE - dt.timedelta(days=1)
    for i, cls in enumerate(["A", "C", "D", "C"]):
        ticket, _ = store.tickets.open(
            draft(
                f"C-1/cam-{i}/down", at=at, root_device=f"cam-{i}", ticket_class=cls,
                title=f"摄像机 {i} 离线", impacted=(f"cam-{i}",),
            ),
            opened(at),
        )  # fmt: skip
        if i == 3:  # closed: not in the digest
            for n, kind in enumerate(["resolved", "verified", "closed"]):
                later = at + dt.timedelta(hours=n + 1)
                store.tickets.append_event(
                    ticket.id, ticket.version + n, event(kind, later), {"status": kind}
                )
    return store


def task(store: Store, clock: FakeClock) -> DigestTask:
    return DigestTask(store, clock, routing, lambda: Digest(hour=8))


async def test_digest_at_the_local_hour_once_per_day_across_restarts(fleet: Store) -> None:
    clock = FakeClock(BEFORE)
    assert await task(fleet, clock).pass_once() == 0
    await clock.advance(60)
    assert await task(fleet, clock).pass_once() == 2  # the zh and the en recipient
    await clock.advance(3600)
    assert await task(fleet, clock).pass_once() == 2  # a restart offers them again…
    rows = fleet.outbox.messages()
    assert len(rows) == 2  # …and the outbox keeps one of each
    by = {m.recipient: m for m in rows}
    zh, en = by["zh@example.com"], by["en@example.com"]
    assert zh.idempotency_key == "digest/C-1/2025-03-01/mail/zh@example.com"
    assert zh.subject == "[日报] 北区维保: 未关闭 C/D 级工单 2 张 (2025-03-01)"
    assert "摄像机 1 离线 (待响应, 02-28 07:59)" in zh.body and "摄像机 3" not in zh.body
    assert en.subject == "[digest] 北区维保: 1 open class D tickets (2025-03-01)"
    assert "摄像机 2 离线 (open" in en.body and "摄像机 1" not in en.body
    await clock.advance(86_400)
    assert await task(fleet, clock).pass_once() == 2
    assert len(fleet.outbox.messages()) == 4

    port = free_port()
    mailbox = Mailbox()
    channel = EmailChannel(
        type="email", name="mail", host="127.0.0.1", port=port, security="none",
        sender="monitord@example.com",
    )  # fmt: skip
    settings = NotifySettings(channels=(channel,), grouping=Grouping())
    with smtp_server(mailbox, port):
        assert await Dispatcher(fleet, clock, settings).pass_once() == 4
    assert min(s for _, s, _ in mailbox.received).startswith("[digest]")
    assert len(mailbox.received) == 4  # digests are never folded into one another


async def test_no_digest_when_disabled_or_nothing_is_open(store: Store) -> None:
    clock = FakeClock(BEFORE + dt.timedelta(hours=2))
    off = DigestTask(store, clock, routing, lambda: Digest(enabled=False))
    assert await off.pass_once() == 0
    assert await task(store, clock).pass_once() == 0
    assert store.outbox.messages() == []
