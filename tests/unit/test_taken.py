"""When an action was taken: the phone's claim is believed only where it is plausible."""

from __future__ import annotations

import datetime as dt

from monitord.ticketing.taken import OLDEST, SKEW, parse_claim, when_taken

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
OPENED = NOW - dt.timedelta(hours=2)
LAST = NOW - dt.timedelta(hours=1)


def test_a_claim_between_the_last_event_and_now_is_the_events_time() -> None:
    claimed = NOW - dt.timedelta(minutes=20)
    taken = when_taken(claimed, NOW, OPENED, LAST)
    assert (taken.at, taken.source) == (claimed, "client")
    assert taken.record(claimed, NOW) == {"taken_at": claimed.isoformat(),
                                          "received_at": NOW.isoformat(),
                                          "time_from": "client"}  # fmt: skip


def test_a_phone_a_little_ahead_is_read_as_now_further_ahead_is_not_believed() -> None:
    assert when_taken(NOW + SKEW / 2, NOW, OPENED, LAST).at == NOW
    far = when_taken(NOW + SKEW + dt.timedelta(seconds=1), NOW, OPENED, LAST)
    assert (far.at, far.source) == (NOW, "server")


def test_too_old_or_before_the_ticket_opened_falls_back_to_the_server() -> None:
    old = when_taken(NOW - OLDEST - dt.timedelta(seconds=1), NOW, None, None)
    assert (old.at, old.source) == (NOW, "server")
    before = when_taken(OPENED - SKEW - dt.timedelta(seconds=1), NOW, OPENED, LAST)
    assert (before.at, before.source) == (NOW, "server")
    assert when_taken(None, NOW, OPENED, LAST).source == "server"


def test_a_claim_before_the_last_event_keeps_the_log_in_order() -> None:
    taken = when_taken(LAST - dt.timedelta(minutes=5), NOW, OPENED, LAST)
    assert (taken.at, taken.source) == (LAST, "previous")
    within = when_taken(OPENED - SKEW / 2, NOW, OPENED, OPENED)  # skew around the opening
    assert (within.at, within.source) == (OPENED, "previous")


def test_only_an_iso_time_with_an_offset_is_a_claim() -> None:
    assert parse_claim("2026-06-01T11:40:00.000Z") == NOW - dt.timedelta(minutes=20)
    assert parse_claim("2026-06-01T11:40:00") is None  # no offset: whose time?
    assert parse_claim("yesterday") is None and parse_claim("") is None
    assert parse_claim("2026-06-01T11:40:00Z" + " " * 40) is None
