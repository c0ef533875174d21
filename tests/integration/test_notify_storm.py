"""Storm grouping against a real SMTP server: a storm at one site is one message per
recipient, grouped from the outbox rows at claim time, durable across failures and crashes."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from alembic import command
from prometheus_client import CollectorRegistry

from monitord.clock import FakeClock
from monitord.config.delivery import Grouping
from monitord.config.notify import EmailChannel, NotifySettings
from monitord.notify.dispatcher import Dispatcher
from monitord.notify.grouping import Planner
from monitord.store import Store
from monitord.store.migrate import alembic_config
from monitord.store.records import DeviceRecord, OutboxRecord
from tests.peers.notify import Mailbox, free_port, message_id, smtp_server
from tests.support.ticket_records import NVR, SITES, SW, T0, draft, opened

CAMERAS = [
    DeviceRecord(f"cam{i}", "s1", f"Camera {i}", "camera", f"10.0.2.{i % 250}", parents=("sw1",))
    for i in range(500)
]
OPS = "ops@example.com"


@pytest.fixture
def fleet(store: Store) -> Store:
    store.devices.sync(SITES, [SW, NVR, *CAMERAS], T0)
    return store


@pytest.fixture
def port() -> Iterator[int]:
    yield free_port()


def settings(port: int, **grouping: object) -> NotifySettings:
    channel = EmailChannel(
        type="email", name="mail", host="127.0.0.1", port=port, security="none",
        sender="monitord@example.com", timeout=5,
    )  # fmt: skip
    return NotifySettings(channels=(channel,), grouping=Grouping.model_validate(grouping))


def fault(
    store: Store, device: str, at: dt.datetime, cls: str = "A", to: tuple[str, ...] = (OPS,)
) -> None:
    site = "s2" if device == "nvr1" else "s1"
    ticket = draft(
        f"C-1/{device}/down", at=at, root_device=device, site_id=site, ticket_class=cls,
        title=f"{device} down", impacted=(device,),
    )  # fmt: skip
    subject = f"[class {cls}] Ticket {device} opened: {device} down"
    records = [OutboxRecord("mail", person, subject, f"{device} down") for person in to]
    store.tickets.open(ticket, opened(at), records)


def seconds(n: float) -> dt.timedelta:
    return dt.timedelta(seconds=n)


async def test_500_camera_faults_behind_one_switch_are_one_message(fleet: Store, port: int) -> None:
    for i in range(500):
        fault(fleet, f"cam{i}", T0 + seconds(i * 0.004))
    clock = FakeClock(T0 + seconds(2))
    registry = CollectorRegistry()
    mailbox = Mailbox()
    with smtp_server(mailbox, port):
        dispatcher = Dispatcher(fleet, clock, settings(port), registry=registry)
        assert await dispatcher.pass_once() == 0  # class A waits 3 s for the rest
        await clock.advance(1)
        assert await dispatcher.pass_once() == 500
        assert await dispatcher.pass_once() == 0
    [(to, subject, _)] = mailbox.received
    assert to == OPS and subject == "[class A] site s1: 500 messages"
    [body] = mailbox.bodies
    assert body.count("- [class A] Ticket cam") == 5 and "and 495 more" in body
    rows = fleet.outbox.messages(limit=1000)
    assert {m.state for m in rows} == {"sent"} and len(rows) == 500
    assert {m.group_key for m in rows} == {f"{min(rows, key=lambda m: m.id).idempotency_key}+499"}
    count = registry.get_sample_value(
        "monitord_notification_delivery_seconds_count", {"channel": "mail"}
    )
    assert count == 500
    assert registry.get_sample_value("monitord_notifications_sent_total", {"channel": "mail"}) == 1


async def test_each_site_and_recipient_is_one_message(fleet: Store, port: int) -> None:
    people = (OPS, "boss@example.com")
    fault(fleet, "sw1", T0, to=people)
    fault(fleet, "cam7", T0 + seconds(0.5), cls="C", to=people)
    fault(fleet, "nvr1", T0 + seconds(1), to=people)
    clock = FakeClock(T0 + seconds(5))
    mailbox = Mailbox()
    with smtp_server(mailbox, port):
        assert await Dispatcher(fleet, clock, settings(port)).pass_once() == 6
    got = sorted((to, subject) for to, subject, _ in mailbox.received)
    assert got == sorted(
        [(p, "[class A] site s1: 2 messages") for p in people]
        + [(p, "[class A] Ticket nvr1 opened: nvr1 down") for p in people]
    )


async def test_after_a_group_the_next_waits_for_the_interval(fleet: Store, port: int) -> None:
    fault(fleet, "cam1", T0)
    clock = FakeClock(T0 + seconds(3))
    mailbox = Mailbox()
    with smtp_server(mailbox, port):
        dispatcher = Dispatcher(fleet, clock, settings(port, interval={"A": "30s"}))
        assert await dispatcher.pass_once() == 1
        fault(fleet, "cam2", T0 + seconds(4))
        fault(fleet, "cam3", T0 + seconds(20))
        await clock.advance(29)  # T0 + 32 s: 1 s short of the interval after T0 + 3 s
        assert await dispatcher.pass_once() == 0
        await clock.advance(1)
        assert await dispatcher.pass_once() == 2
    assert [s for _, s, _ in mailbox.received] == [
        "[class A] Ticket cam1 opened: cam1 down",
        "[class A] site s1: 2 messages",
    ]


async def test_c_and_d_wait_longer(fleet: Store, port: int) -> None:
    fault(fleet, "cam1", T0, cls="D")
    clock = FakeClock(T0 + seconds(119))
    with smtp_server(Mailbox(), port):
        dispatcher = Dispatcher(fleet, clock, settings(port))
        assert await dispatcher.pass_once() == 0
        await clock.advance(1)
        assert await dispatcher.pass_once() == 1


async def test_rows_arriving_while_a_group_waits_for_its_retry_go_with_it(
    fleet: Store, port: int
) -> None:
    for i in range(3):
        fault(fleet, f"cam{i}", T0)
    clock = FakeClock(T0 + seconds(3))
    dispatcher = Dispatcher(fleet, clock, settings(port))
    assert await dispatcher.pass_once() == 3  # nobody listens: back off 10 s
    for i in range(3, 10):
        fault(fleet, f"cam{i}", T0 + seconds(5))
    await clock.advance(7)  # the newcomers' wait is over, but the retry is not due yet
    assert await dispatcher.pass_once() == 0
    mailbox = Mailbox()
    with smtp_server(mailbox, port):
        await clock.advance(3)
        assert await dispatcher.pass_once() == 10
    assert [s for _, s, _ in mailbox.received] == ["[class A] site s1: 10 messages"]
    assert {m.state for m in fleet.outbox.messages()} == {"sent"}


async def test_a_group_claimed_before_a_crash_goes_again_under_its_key(
    fleet: Store, port: int
) -> None:
    for i in range(4):
        fault(fleet, f"cam{i}", T0)
    now = T0 + seconds(3)
    lease = dt.timedelta(minutes=5)
    planner = Planner(Grouping(), 50)
    # A dispatcher claims the group, then dies before sending or recording.
    [(key, rows)] = fleet.outbox.claim_groups(now, lease, 100, planner, planner.horizon)
    assert len(rows) == 4
    fault(fleet, "cam9", now)  # arrives meanwhile: not part of the interrupted group
    mailbox = Mailbox()
    clock = FakeClock(now + lease)
    with smtp_server(mailbox, port):
        dispatcher = Dispatcher(fleet, clock, settings(port))
        assert await dispatcher.pass_once() == 4  # the interrupted group, alone
        await clock.advance(30)
        assert await dispatcher.pass_once() == 1
    first, second = mailbox.received
    assert first[1] == "[class A] site s1: 4 messages"
    assert second[1] == "[class A] Ticket cam9 opened: cam9 down"
    assert {m.group_key for m in fleet.outbox.messages() if "cam9" not in m.subject} == {key}


async def test_delivered_rows_are_pruned_after_the_retention(fleet: Store, port: int) -> None:
    fault(fleet, "cam1", T0)
    fault(fleet, "nvr1", T0)
    fleet.outbox.enqueue([OutboxRecord("gone", OPS, "s", "b", key="k1")], T0)
    clock = FakeClock(T0 + seconds(3))
    with smtp_server(Mailbox(), port):
        dispatcher = Dispatcher(fleet, clock, settings(port))
        assert await dispatcher.pass_once() == 3
    assert sorted(m.state for m in fleet.outbox.messages()) == ["pending", "sent", "sent"]
    await clock.advance(29 * 86_400)
    await dispatcher.prune()
    assert len(fleet.outbox.messages()) == 3
    await clock.advance(86_401)  # the retention (30 days) after they went out
    await dispatcher.prune()
    assert [m.state for m in fleet.outbox.messages()] == ["pending"]  # "gone": no such channel yet


def test_a_database_made_by_0003_upgrades_with_its_outbox(store: Store, database_url: str) -> None:
    store.devices.sync(SITES, [SW, NVR], T0)
    fault(store, "sw1", T0)
    engine = sa.create_engine(database_url)
    try:
        with engine.begin() as connection:
            command.downgrade(alembic_config(connection), "0003")
        columns = {c["name"] for c in sa.inspect(engine).get_columns("outbox")}
        assert "group_key" not in columns
    finally:
        engine.dispose()
    store.upgrade()
    [row] = store.outbox.messages()
    assert (row.state, row.group_key, row.subject) == (
        "pending",
        None,
        "[class A] Ticket sw1 opened: sw1 down",
    )


async def test_two_dispatchers_racing_send_each_row_in_one_mail(
    fleet: Store, database_url: str, port: int
) -> None:
    for i in range(60):
        fault(fleet, f"cam{i}", T0, to=(OPS, "boss@example.com", "night@example.com"))
    other = Store.open(database_url)
    mailbox = Mailbox()
    clock = FakeClock(T0 + seconds(3))
    try:
        with smtp_server(mailbox, port):
            a = Dispatcher(fleet, clock, settings(port), batch=2, candidates=90)
            b = Dispatcher(other, clock, settings(port), batch=2, candidates=90)
            for _ in range(6):
                await asyncio.gather(a.pass_once(), b.pass_once())
                await clock.advance(10)
    finally:
        other.close()
    rows = fleet.outbox.messages(limit=1000)
    assert len(rows) == 180 and {m.state for m in rows} == {"sent"}
    ids = Counter(mid for _, _, mid in mailbox.received)
    assert all(n == 1 for n in ids.values())
    # Every row went out in exactly one mail: its group's, named by the group key.
    assert {message_id(m.group_key or "") for m in rows} == set(ids)


async def test_a_class_a_message_is_not_hidden_behind_a_waiting_d_storm(
    fleet: Store, port: int
) -> None:
    for i in range(20):
        fault(fleet, f"cam{i}", T0, cls="D")
    fault(fleet, "nvr1", T0 + seconds(1))
    mailbox = Mailbox()
    with smtp_server(mailbox, port):
        dispatcher = Dispatcher(fleet, FakeClock(T0 + seconds(4)), settings(port), candidates=5)
        assert await dispatcher.pass_once() == 1
    assert [s for _, s, _ in mailbox.received] == ["[class A] Ticket nvr1 opened: nvr1 down"]
