"""The planner's decisions and the grouped message's text, without a database."""

from __future__ import annotations

import datetime as dt

from monitord.config.delivery import Grouping
from monitord.notify.grouping import About, Planner, compose, is_chinese
from monitord.store.outbox import Candidate, History
from monitord.store.records import OutboxMessage

T0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
EMPTY = History({}, {})


def row(i: int, cls: str | None = "A", site: str | None = "s1", **kw: object) -> Candidate:
    values: dict[str, object] = {
        "id": i, "idempotency_key": f"{i}/1/sms/+86", "channel": "sms", "recipient": "+86",
        "site_id": site, "ticket_class": cls, "created_at": T0, "attempts": 0, "group_key": None,
    }  # fmt: skip
    return Candidate(**(values | kw))  # type: ignore[arg-type]


def message(i: int, subject: str) -> OutboxMessage:
    return OutboxMessage(
        i, f"{i}/1/sms/+86", i, "sms", "+86", subject, subject, T0, T0, 1, "sending",
        None, None, None,
    )  # fmt: skip


def test_the_most_urgent_class_sets_the_wait() -> None:
    plan = Planner(Grouping(), 50)
    rows = [row(1, "D"), row(2, "A")]
    assert plan(rows, EMPTY, T0 + dt.timedelta(seconds=2)) == []
    assert plan(rows, EMPTY, T0 + dt.timedelta(seconds=3)) == [("1/1/sms/+86+1", [1, 2])]
    assert plan.about["1/1/sms/+86+1"] == About("s1", "A")
    assert plan([row(1, "D")], EMPTY, T0 + dt.timedelta(seconds=60)) == []


def test_no_ticket_or_grouping_off_goes_alone_at_once() -> None:
    rows = [row(1, site=None), row(2, site=None)]
    assert Planner(Grouping(), 50)(rows, EMPTY, T0) == [("1/1/sms/+86", [1]), ("2/1/sms/+86", [2])]
    off = Planner(Grouping(enabled=False), 50)
    assert off([row(1), row(2)], EMPTY, T0) == [("1/1/sms/+86", [1]), ("2/1/sms/+86", [2])]


def test_interval_retry_and_interrupted_groups() -> None:
    plan = Planner(Grouping(), 50)
    later = T0 + dt.timedelta(seconds=5)
    scope = ("sms", "+86", "s1")
    assert plan([row(1)], History({scope: T0}, {}), later) == []  # interval: 10 s
    assert plan([row(1)], History({}, {scope: later}), later) == []  # a retry is coming
    assert plan([row(1, attempts=1)], EMPTY, T0) == [("1/1/sms/+86", [1])]
    again = [row(1, group_key="g"), row(2, group_key="g"), row(3)]
    assert plan(again, EMPTY, later) == [("g", [1, 2])]  # row 3 waits for the interval
    assert Planner(Grouping(), 1)([row(1), row(2, site="s2")], EMPTY, later) == [
        ("1/1/sms/+86", [1])
    ]


def test_a_grouped_sms_is_short_and_in_the_recipients_language() -> None:
    rows = [message(i, f"[A级] 工单 #{i} 新工单: 摄像机 {i} 离线") for i in range(1, 40)]
    sms = compose("k", rows, About("s1", "A"), short=True, listed=5)
    assert sms.subject == "[A级] 站点 s1: 39 条消息" and len(sms.body) <= 140
    assert sms.body.startswith("[A级] 站点 s1: 39 条消息: [A级] 工单 #1")
    english = [message(i, f"[class B] Ticket #{i} opened: x") for i in range(1, 8)]
    mail = compose("k", english, About("s2", "B"), short=False, listed=5)
    assert mail.subject == "[class B] site s2: 7 messages"
    assert mail.body.endswith("… and 2 more (monitord outbox / tickets)")
    assert mail.idempotency_key == "k" and mail.attempts == 1
    assert compose("k", rows[:1], None, short=True, listed=5).body == rows[0].body
    assert is_chinese("[未定级] 工单 #3") and not is_chinese("[class A] 北门 camera")
