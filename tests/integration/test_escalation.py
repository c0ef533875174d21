"""Escalation on a real store (SQLite and PostgreSQL) against an injected clock.

Nobody acknowledges: each step fires on time, once. Someone acknowledges: no later step
fires, not after a restart, not when the acknowledgement lands while a step is being
written. Quiet hours hold C tickets' pages until morning.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any, cast

from prometheus_client import CollectorRegistry

from monitord.clock import FakeClock
from monitord.config import Config
from monitord.config.contracts import TicketClass
from monitord.inventory.archive import site_records
from monitord.notify.escalation import unreachable
from monitord.notify.escalator import Escalator
from monitord.notify.messages import Routing
from monitord.store import Store
from monitord.store.records import OutboxMessage, TicketRecord
from monitord.ticketing import tickets
from monitord.ticketing.lifecycle import EventKind
from tests.support.ticketlab import config_data

T0 = dt.datetime(2026, 6, 1, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai, a Monday
MINUTE = dt.timedelta(minutes=1)

PEOPLE = [
    {"id": "zhang", "name": "张伟", "phone": "+8613800000001", "chat": "zhangwei"},
    {"id": "li", "name": "李娜", "phone": "+8613800000002", "language": "en"},
    {"id": "wang", "name": "王强", "phone": "+8613800000003", "email": "wang@example.com"},
    {"id": "zhao", "name": "赵敏", "phone": "+8613800000004"},
]


def escalation_notify(hooks: dict[str, str] | None = None, **extra: Any) -> dict[str, Any]:
    """SMS through a generic JSON gateway, chat through a WeCom bot."""
    urls = hooks or {"sms": "http://127.0.0.1:1/sms", "chat": "http://127.0.0.1:1/chat"}
    loopback = ["127.0.0.1/32"]
    return {
        "channels": [
            {"type": "sms", "name": "sms", "url": urls["sms"], "timeout": 5,
             "allow_addresses": loopback},
            {"type": "webhook", "name": "chat", "url": urls["chat"], "format": "wecom",
             "timeout": 5, "allow_addresses": loopback},
        ],
        "oncall": {
            "people": PEOPLE,
            "roles": {"*": {"service_manager": "wang", "department_head": "zhao"}},
            "rotations": [{"id": "duty", "contracts": ["seed-000"], "handover": "daily",
                           "handover_at": "09:00", "start": "2026-06-01",
                           "people": ["zhang", "li"]}],
        },
        "escalation": [
            {"id": "class-a", "classes": ["A"], "steps": [
                {"after": "0s", "targets": ["oncall"], "channels": ["sms", "chat"]},
                {"after": "15m", "targets": ["role:service_manager"], "channels": ["sms"]},
                {"after": "45m", "targets": ["role:department_head"], "channels": ["sms"]},
            ]},
            {"id": "class-c", "classes": ["C"], "steps": [
                {"after": "0s", "targets": ["oncall"], "channels": ["sms"]},
                {"after": "2h", "targets": ["role:service_manager"], "channels": ["sms"]},
            ]},
        ],
        **extra,
    }  # fmt: skip


def make_config(**notify: Any) -> Config:
    data = config_data("sqlite://", "city") | {"devices": []}
    data["notify"] = escalation_notify(**notify)
    return Config.model_validate(data)


def single_policy(steps: list[dict[str, Any]]) -> Config:
    data = config_data("sqlite://", "city") | {"devices": []}
    data["notify"] = escalation_notify() | {
        "escalation": [{"id": "p", "classes": ["A"], "steps": steps}]
    }
    return Config.model_validate(data)


class Desk:
    """The store, the routing and an escalator that can be "restarted" (made anew)."""

    def __init__(self, store: Store, config: Config | None = None) -> None:
        self.store, self.config = store, config or make_config()
        store.devices.sync(site_records(self.config), [], T0)
        self.routing = Routing.from_config(self.config)
        self.registry = CollectorRegistry()
        self.escalator = self.restart()

    def restart(self) -> Escalator:
        self.registry = CollectorRegistry()
        self.escalator = Escalator(self.store, FakeClock(T0), lambda: self.routing, self.registry)
        return self.escalator

    def open(self, cls: TicketClass = TicketClass.A, at: dt.datetime = T0) -> TicketRecord:
        return tickets.open_hotline(
            self.store, self.config.contracts[0], "s1", "customer", "大门摄像头全黑", at,
            ticket_class=cls, messages=self.routing,
        )  # fmt: skip

    def ack(self, ticket: TicketRecord, at: dt.datetime) -> None:
        tickets.append(self.store, ticket.id, EventKind.ACKNOWLEDGED, "zhang", at, "on my way")

    def sent_to(self) -> list[tuple[str, str]]:
        """(channel, recipient) of every queued message, oldest first."""
        return [(m.channel, m.recipient) for m in reversed(self.store.outbox.messages())]

    def fired(self, policy: str, step: int) -> float | None:
        return self.registry.get_sample_value(
            "monitord_escalations_fired_total", {"policy": policy, "step": str(step)}
        )


def test_nobody_acknowledges_so_each_step_fires_on_time_and_once(store: Store) -> None:
    desk = Desk(store)
    ticket = desk.open()
    # Step 1 goes out with the opening itself: SMS and chat to the on-call engineer.
    assert desk.sent_to() == [("sms", "+8613800000001"), ("chat", "zhangwei")]
    e = desk.escalator
    assert e.tick(T0 + 15 * MINUTE - dt.timedelta(seconds=1)) == 0
    assert e.tick(T0 + 15 * MINUTE) == 1
    assert e.tick(T0 + 15 * MINUTE) == 0  # once
    assert desk.sent_to()[-1] == ("sms", "+8613800000003")  # the service manager
    assert e.tick(T0 + 44 * MINUTE) == 0
    assert e.tick(T0 + 45 * MINUTE) == 1
    assert desk.sent_to()[-1] == ("sms", "+8613800000004")  # the department head
    assert e.tick(T0 + dt.timedelta(days=1)) == 0  # no step 4
    events = store.tickets.events(ticket.id)
    escalated = [(ev.at, ev.data["step"]) for ev in events if ev.kind == "escalated"]
    assert escalated == [(T0 + 15 * MINUTE, 1), (T0 + 45 * MINUTE, 2)]
    assert (desk.fired("class-a", 2), desk.fired("class-a", 3)) == (1.0, 1.0)
    manager = _message(store, "+8613800000003")
    assert manager.subject == f"[A级] 工单 #{ticket.id} 未确认：升级第2级: 大门摄像头全黑"
    assert manager.idempotency_key == f"{ticket.id}/2/sms/+8613800000003"


def test_an_acknowledgement_stops_every_later_step_even_after_a_restart(store: Store) -> None:
    desk = Desk(store)
    ticket = desk.open()
    assert desk.escalator.tick(T0 + 16 * MINUTE) == 1  # the manager is paged
    desk.ack(ticket, T0 + 20 * MINUTE)
    assert desk.escalator.tick(T0 + 45 * MINUTE) == 0
    assert desk.restart().tick(T0 + 45 * MINUTE) == 0  # a restarted daemon: still nothing
    assert desk.escalator.tick(T0 + dt.timedelta(days=2)) == 0
    assert [to for _, to in desk.sent_to()] == ["+8613800000001", "zhangwei", "+8613800000003"]


def test_a_restart_neither_repeats_nor_skips_a_step(store: Store) -> None:
    desk = Desk(store)
    desk.open()
    assert desk.escalator.tick(T0 + 15 * MINUTE) == 1
    # Down from minute 16 to minute 50: the restarted daemon fires the missed step once.
    assert desk.restart().tick(T0 + 50 * MINUTE) == 1
    assert desk.escalator.tick(T0 + 51 * MINUTE) == 0
    assert desk.restart().tick(T0 + 52 * MINUTE) == 0
    assert len(desk.sent_to()) == 4


def test_a_daemon_down_through_two_steps_fires_both_once(store: Store) -> None:
    desk = Desk(store)
    desk.open()
    assert desk.escalator.tick(T0 + dt.timedelta(hours=1)) == 2
    assert [to for _, to in desk.sent_to()[2:]] == ["+8613800000003", "+8613800000004"]


class AckWhileReading:
    """The store, except that an acknowledgement lands right after the escalator reads."""

    def __init__(self, store: Store, desk: Desk, ticket: TicketRecord) -> None:
        self._store = store
        self.tickets = _AckedTickets(store, desk, ticket)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    @property
    def reads(self) -> int:
        return self.tickets.reads


class _AckedTickets:
    """`store.tickets`, except that reading a ticket the first time acknowledges it."""

    def __init__(self, store: Store, desk: Desk, ticket: TicketRecord) -> None:
        self._store, self._desk, self._ticket = store, desk, ticket
        self.reads = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store.tickets, name)

    def get(self, ticket_id: int) -> Any:
        found = self._store.tickets.get(ticket_id)
        self.reads += 1
        if self.reads == 1:
            self._desk.ack(self._ticket, T0 + 15 * MINUTE)
        return found


def test_an_acknowledgement_racing_the_step_wins(store: Store) -> None:
    desk = Desk(store)
    ticket = desk.open()
    racing = AckWhileReading(store, desk, ticket)
    escalator = Escalator(racing, FakeClock(T0), lambda: desk.routing)  # type: ignore[arg-type]
    assert escalator.tick(T0 + 15 * MINUTE) == 0
    assert racing.reads == 2  # the write met the new version, so the log was read again
    kinds = [e.kind for e in store.tickets.events(ticket.id)]
    assert kinds == ["opened", "acknowledged"]
    assert len(desk.sent_to()) == 2


def test_quiet_hours_hold_class_c_pages_until_morning(store: Store) -> None:
    quiet = [{"from": "22:00", "until": "07:00"}]
    desk = Desk(store, make_config(quiet_hours=quiet, recipients={"*": [{"channel": "chat"}]}))
    night = dt.datetime(2026, 6, 1, 15, 0, tzinfo=dt.UTC)  # 23:00 in Shanghai
    morning = dt.datetime(2026, 6, 1, 23, 0, tzinfo=dt.UTC)  # 07:00
    c_ticket = desk.open(TicketClass.C, night)
    [routed] = store.outbox.messages()
    assert (routed.channel, routed.not_before) == ("chat", morning)  # held, not dropped
    assert desk.escalator.tick(morning - MINUTE) == 0  # the on-call sleeps
    a_ticket = desk.open(TicketClass.A, night + MINUTE)
    a_pages = [
        m for m in store.outbox.messages() if m.ticket_id == a_ticket.id and m.channel == "sms"
    ]
    assert [m.not_before for m in a_pages] == [night + MINUTE]  # A goes out at once
    desk.ack(a_ticket, night + 2 * MINUTE)
    assert desk.escalator.tick(morning) == 2  # both of C's steps fall due at 07:00
    c_pages = [
        m for m in store.outbox.messages() if m.ticket_id == c_ticket.id and m.channel == "sms"
    ]
    # The night's on-call (zhang's shift runs until 09:00) and the manager, both at seven.
    assert sorted(m.recipient for m in c_pages) == ["+8613800000001", "+8613800000003"]
    assert {m.not_before for m in c_pages} == {morning}


def test_the_step_pages_whoever_is_on_call_when_it_fires(store: Store) -> None:
    oncall = {"targets": ["oncall"], "channels": ["sms"]}
    desk = Desk(store, single_policy([oncall, {**oncall, "after": "90m"}]))
    # 08:00 on the rotation's first day: li's shift (the one before zhang's first) ends at 9.
    opened = dt.datetime(2026, 6, 1, 0, 0, tzinfo=dt.UTC)
    desk.open(at=opened)
    assert desk.escalator.tick(opened + 90 * MINUTE) == 1  # 09:30: zhang has taken over
    assert [to for ch, to in desk.sent_to()] == ["+8613800000002", "+8613800000001"]


async def test_the_escalation_loop_fires_within_its_period_on_the_injected_clock(
    store: Store,
) -> None:
    desk = Desk(store)
    desk.open()
    clock = FakeClock(T0)
    escalator = Escalator(store, clock, lambda: desk.routing, every=5.0)
    running = asyncio.create_task(escalator.run())
    try:
        for _ in range(15 * 12 + 1):  # 15 minutes and 5 seconds in 5-second steps
            await clock.advance(5)
            await asyncio.sleep(0.005)  # let the pass's thread finish
        await _settle(lambda: len(desk.sent_to()) == 3)
    finally:
        running.cancel()
    [event] = [e for e in store.tickets.events(1) if e.kind == "escalated"]
    assert T0 + 15 * MINUTE <= event.at <= T0 + 15 * MINUTE + dt.timedelta(seconds=10)


async def _settle(condition: Any) -> None:
    for _ in range(400):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition never held")


def _message(store: Store, recipient: str) -> OutboxMessage:
    return next(m for m in store.outbox.messages() if m.recipient == recipient)


def test_a_raised_class_starts_that_class_policy_from_the_change(store: Store) -> None:
    desk = Desk(store)
    ticket = desk.open(TicketClass.C)  # class C: the on-call engineer only, by SMS
    assert desk.sent_to() == [("sms", "+8613800000001")]
    tickets.append(
        store, ticket.id, EventKind.RECLASSIFIED, "li", T0 + 10 * MINUTE, "more cameras dark",
        {"from": "C", "to": "A"}, desk.routing,
    )  # fmt: skip
    # A's first step goes out with the reclassification: SMS and chat to the on-call.
    assert desk.sent_to()[1:] == [("sms", "+8613800000001"), ("chat", "zhangwei")]
    assert desk.escalator.tick(T0 + 24 * MINUTE) == 0
    assert desk.escalator.tick(T0 + 25 * MINUTE) == 1  # A's 15 minutes, from the change
    assert desk.escalator.tick(T0 + dt.timedelta(hours=3)) == 1  # the head; C's 2 h is gone
    assert [to for _, to in desk.sent_to()[3:]] == ["+8613800000003", "+8613800000004"]


def test_an_escalation_event_shows_in_the_ticket_log_for_people(store: Store) -> None:
    desk = Desk(store)
    ticket = desk.open()
    desk.escalator.tick(T0 + 15 * MINUTE)
    [event] = [e for e in store.tickets.events(ticket.id) if e.kind == "escalated"]
    assert event.by == "monitord" and event.data == {"policy": "class-a", "step": 1, "anchor": 1}
    assert "step 2 of policy class-a" in event.text
    stored, _ = store.tickets.get(ticket.id) or (None, None)
    assert stored is not None and stored.status == "open"  # paging is not acknowledging


def test_a_class_raised_after_the_acknowledgement_pages_nobody_again(store: Store) -> None:
    desk = Desk(store)
    ticket = desk.open(TicketClass.C)
    desk.ack(ticket, T0 + MINUTE)
    tickets.append(
        store, ticket.id, EventKind.RECLASSIFIED, "li", T0 + 2 * MINUTE, "worse",
        {"from": "C", "to": "A"}, desk.routing,
    )  # fmt: skip
    assert desk.escalator.tick(T0 + dt.timedelta(hours=3)) == 0
    assert desk.sent_to() == [("sms", "+8613800000001")]  # only class C's first page


def test_targets_that_name_nobody_are_logged_and_counted(store: Store) -> None:
    data = config_data("sqlite://", "city") | {"devices": []}
    data["sites"] = [
        *cast(list[Any], data["sites"]),
        {"id": "s2", "name": "S2", "contract": "seed-000"},
    ]
    notify = escalation_notify()
    # The department head is named for another contract only; s2 is in no rotation.
    notify["oncall"]["roles"] = {"*": {"service_manager": "wang"}, "x": {"department_head": "zhao"}}
    notify["oncall"]["rotations"][0] |= {"contracts": [], "sites": ["s1"]}
    data["notify"] = notify
    desk = Desk(store, Config.model_validate(data))
    desk.escalator.tick(T0)
    problems = unreachable(desk.routing.paging)
    assert problems == [
        "policy class-a step 1 (oncall), contract seed-000: no rotation covers s2",
        "policy class-a step 3 (role:department_head), contract seed-000: nobody has the role",
        "policy class-c step 1 (oncall), contract seed-000: no rotation covers s2",
    ]
    gauge = desk.registry.get_sample_value("monitord_escalation_targets_unresolved")
    assert gauge == 3.0


def test_a_held_message_waits_from_the_end_of_the_quiet_hours(store: Store) -> None:
    quiet = [{"from": "22:00", "until": "07:00"}]
    desk = Desk(store, make_config(quiet_hours=quiet, recipients={"*": [{"channel": "chat"}]}))
    night = dt.datetime(2026, 6, 1, 15, 0, tzinfo=dt.UTC)  # 23:00 in Shanghai
    desk.open(TicketClass.D, night)
    # Not "9 hours pending" on the oldest-pending gauge at dawn: it is not late yet.
    assert store.outbox.summary()[1] == dt.datetime(2026, 6, 1, 23, 0, tzinfo=dt.UTC)
