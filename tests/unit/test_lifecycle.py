"""The ticket lifecycle, derived from the event log (T5)."""

from __future__ import annotations

import datetime as dt

import pytest

from monitord.ticketing.lifecycle import (
    EventKind,
    InvalidTransition,
    Status,
    TicketEvent,
    check,
    derive,
)

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
E = EventKind


def log(*kinds: EventKind) -> list[TicketEvent]:
    return [
        TicketEvent(T0 + dt.timedelta(minutes=i), k, "eng")
        for i, k in enumerate((E.OPENED, *kinds))
    ]


class TestLifecycle:
    def test_the_full_path_from_opened_to_closed(self) -> None:
        path = [
            E.ACKNOWLEDGED,
            E.ON_SITE,
            E.DIAGNOSIS,
            E.PLAN,
            E.STAGE,
            E.STAGE,
            E.RESOLVED,
            E.VERIFIED,
            E.CLOSED,
        ]
        seen = [derive(log(*path[: i + 1])).status for i in range(len(path))]
        assert seen == [
            Status.ACKNOWLEDGED,
            Status.ON_SITE,
            Status.DIAGNOSED,
            Status.PLANNED,
            Status.IN_PROGRESS,
            Status.IN_PROGRESS,
            Status.RESOLVED,
            Status.VERIFIED,
            Status.CLOSED,
        ]

    def test_closing_needs_the_customers_verification(self) -> None:
        with pytest.raises(
            InvalidTransition, match="'closed' is not possible when the ticket is resolved"
        ):
            check(log(E.RESOLVED), E.CLOSED)

    def test_verification_needs_a_resolved_ticket(self) -> None:
        with pytest.raises(InvalidTransition, match="possible when resolved"):
            check(log(E.ACKNOWLEDGED), E.VERIFIED)

    def test_emergency_repair_first_documents_after_are_late(self) -> None:
        events = log(E.ON_SITE, E.RESOLVED)
        assert check(events, E.DIAGNOSIS) is True
        assert check(events, E.PLAN) is True
        assert check(log(E.ON_SITE), E.DIAGNOSIS) is False
        assert derive(log(E.ON_SITE, E.RESOLVED, E.DIAGNOSIS)).status == Status.RESOLVED

    def test_a_closed_ticket_only_reopens(self) -> None:
        closed = log(E.RESOLVED, E.VERIFIED, E.CLOSED)
        with pytest.raises(InvalidTransition, match="closed"):
            check(closed, E.PAUSED)
        assert check(closed, E.COMMENT) is False
        assert derive([*closed, TicketEvent(T0, E.REOPENED, "x")]).status == Status.OPEN

    def test_pause_and_resume_pair_up(self) -> None:
        assert derive(log(E.PAUSED)).paused
        assert not derive(log(E.PAUSED, E.RESUMED)).paused
        with pytest.raises(InvalidTransition, match="already paused"):
            check(log(E.PAUSED), E.PAUSED)
        with pytest.raises(InvalidTransition, match="not paused"):
            check(log(), E.RESUMED)

    def test_recovery_is_noted_and_does_not_close(self) -> None:
        derived = derive(log(E.ACKNOWLEDGED, E.RECOVERED))
        assert derived.recovered and derived.status == Status.ACKNOWLEDGED

    def test_log_must_start_with_opened(self) -> None:
        with pytest.raises(InvalidTransition, match="starts with 'opened'"):
            derive([TicketEvent(T0, E.COMMENT, "x")])
        with pytest.raises(InvalidTransition, match="already open"):
            check(log(), E.OPENED)
