"""Which escalation step is due, from the ticket's log alone (pure functions)."""

from __future__ import annotations

import datetime as dt

import pytest

from monitord.config.oncall import Policy, QuietHours
from monitord.notify.escalation import Paging, due_steps, with_anchor
from monitord.store.records import TicketRecord
from monitord.ticketing.lifecycle import EventKind, InvalidTransition, TicketEvent, check

T0 = dt.datetime(2026, 6, 1, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai
MIN = dt.timedelta(minutes=1)
POLICY = Policy.model_validate(
    {
        "id": "a",
        "classes": ["A", "C"],
        "steps": [
            {"targets": ["oncall"], "channels": ["sms"]},
            {"after": "15m", "targets": ["role:manager"], "channels": ["sms"]},
            {"after": "45m", "targets": ["role:head"], "channels": ["sms"]},
        ],
    }
)
PAGING = Paging(policies=(POLICY,), timezones={"s1": "Asia/Shanghai"})


def ticket(cls: str = "A") -> TicketRecord:
    return TicketRecord(
        1, "k", "c1", "s1", "nvr", "down", cls, "r", "open", False, False, "t", (), T0, T0, 1
    )


def ev(kind: EventKind, minutes: float, **data: object) -> TicketEvent:
    return TicketEvent(T0 + minutes * MIN, kind, "x", "", data)


def steps(events: list[TicketEvent], minutes: float, cls: str = "A") -> list[int]:
    due, _ = due_steps(PAGING, ticket(cls), events, T0 + minutes * MIN)
    return [d.step for d in due]


def test_steps_fall_due_at_their_delay_and_count_once() -> None:
    log = [ev(EventKind.OPENED, 0)]
    assert with_anchor(PAGING, ticket(), T0) == [0]  # with the opening itself
    assert steps(log, 14.9) == []
    assert steps(log, 15) == [1]
    assert steps(log, 50) == [1, 2]
    log.append(ev(EventKind.ESCALATED, 15, step=1, anchor=1))
    assert steps(log, 44) == []
    _, upcoming = due_steps(PAGING, ticket(), log, T0 + 44 * MIN)
    assert upcoming == T0 + 45 * MIN
    assert steps(log, 45) == [2]


@pytest.mark.parametrize("stop", [EventKind.ACKNOWLEDGED, EventKind.ON_SITE, EventKind.RESOLVED])
def test_any_response_stops_the_policy(stop: EventKind) -> None:
    log = [ev(EventKind.OPENED, 0), ev(stop, 5)]
    assert steps(log, 120) == []
    with pytest.raises(InvalidTransition):
        check(log, EventKind.ESCALATED)  # the store would refuse to write it, too


def test_a_reopened_ticket_starts_over_and_old_steps_do_not_count() -> None:
    log = [
        ev(EventKind.OPENED, 0),
        ev(EventKind.ESCALATED, 15, step=1, anchor=1),
        ev(EventKind.ACKNOWLEDGED, 20),
        ev(EventKind.RESOLVED, 30),
        ev(EventKind.REOPENED, 100),
    ]
    assert steps(log, 114) == []
    assert steps(log, 115) == [1]  # 15 min after the reopening, although step 1 fired before


def test_quiet_hours_move_a_c_step_to_the_morning() -> None:
    night = Paging(
        policies=(POLICY,),
        timezones={"s1": "Asia/Shanghai"},
        quiet=(QuietHours.model_validate({"from": "09:00", "until": "11:00"}),),
    )
    log = [ev(EventKind.OPENED, 0)]  # 10:00, inside the quiet period
    assert with_anchor(night, ticket("C"), T0) == []  # not even the first page now
    due, upcoming = due_steps(night, ticket("C"), log, T0 + 59 * MIN)
    assert due == [] and upcoming == T0 + 60 * MIN
    assert [d.step for d in due_steps(night, ticket("C"), log, T0 + 60 * MIN)[0]] == [0, 1, 2]
    assert with_anchor(night, ticket("A"), T0) == [0]  # A ignores quiet hours


def test_no_policy_for_the_class_no_steps() -> None:
    assert steps([ev(EventKind.OPENED, 0)], 999, cls="B") == []
