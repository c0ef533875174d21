"""Outbox methods of the store: messages written with their ticket events, claimed by workers.

A row goes pending -> sending (claimed, with a lease) -> sent | failed, or back to pending
with a later `not_before` after a transient failure. A claim is one conditional UPDATE, so
two dispatchers (threads, processes, daemons on one PostgreSQL) never hold the same row; a
lease that expires (the claimer crashed between claim and send, or between send and
`mark_sent`) makes the row claimable again, so a message is repeated at most once per crash
and never lost.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Sequence
from typing import Any

from sqlalchemy import Row, Table, and_, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from monitord.store.core import StoreCore, require_aware
from monitord.store.records import OutboxMessage, OutboxRecord, TicketRecord
from monitord.store.schema import Base, OutboxRow

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
STATES = (PENDING, SENDING, SENT, FAILED)
# Errors are kept short: they are shown by the CLI, and a peer's reply may be long.
_ERROR_CHARS = 500

_OUTBOX: Table = Base.metadata.tables[OutboxRow.__tablename__]

# Messages for an event: given outright, or made from the ticket as written (its id is
# only known inside the transaction that opens it). The callable must not touch the store.
Outbox = Sequence[OutboxRecord] | Callable[[TicketRecord], Sequence[OutboxRecord]]


def idempotency_key(ticket_id: int, seq: int, channel: str, recipient: str) -> str:
    return f"{ticket_id}/{seq}/{channel}/{recipient}"


class OutboxMethods(StoreCore):
    def _write_outbox(
        self,
        s: Session,
        ticket: TicketRecord | None,
        seq: int,
        at: dt.datetime,
        outbox: Outbox,
    ) -> None:
        """Insert the messages in the caller's transaction; a key seen before is skipped."""
        records = outbox(ticket) if callable(outbox) and ticket is not None else outbox
        assert not callable(records)
        rows: dict[str, dict[str, Any]] = {}
        for r in records:
            if r.key is not None:
                key = r.key
            elif ticket is not None:
                key = idempotency_key(ticket.id, seq, r.channel, r.recipient)
            else:
                raise ValueError("a message without a ticket needs its own key")
            rows.setdefault(key, _row(key, ticket.id if ticket else None, at, r))
        if rows:
            insert_ = (
                postgresql.insert if s.get_bind().dialect.name == "postgresql" else sqlite.insert
            )
            stmt = insert_(_OUTBOX).on_conflict_do_nothing(index_elements=["idempotency_key"])
            s.execute(stmt, list(rows.values()))

    def enqueue(self, records: Sequence[OutboxRecord], at: dt.datetime) -> None:
        """Messages caused by no ticket event (a test message, a digest): each needs a key."""
        require_aware(at)
        with self._session("queue messages", write=True) as s:
            self._write_outbox(s, None, 0, at, records)

    def claim_outbox(
        self, now: dt.datetime, limit: int, lease: dt.timedelta
    ) -> list[OutboxMessage]:
        """Claim up to `limit` due rows (pending and due, or sending with an expired lease)."""
        require_aware(now)
        o = _OUTBOX
        due = or_(
            and_(o.c.state == PENDING, o.c.not_before <= now),
            and_(o.c.state == SENDING, o.c.claimed_until <= now),
        )
        # SKIP LOCKED on PostgreSQL: a racer's rows are passed over, not waited for. SQLite
        # ignores it; there BEGIN IMMEDIATE makes the whole transaction one writer's.
        picked = (
            select(o.c.id)
            .where(due)
            .order_by(o.c.not_before, o.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        stmt = (
            update(o)
            # `due` again: PostgreSQL re-checks it on a row another claimer just changed.
            .where(o.c.id.in_(picked.scalar_subquery()), due)
            .values(state=SENDING, claimed_until=now + lease, attempts=o.c.attempts + 1)
            .returning(*o.c)
        )
        with self._session("claim outbox messages", write=True) as s:
            rows = s.execute(stmt).all()
        return sorted((_message(r) for r in rows), key=lambda m: (m.not_before, m.id))

    def mark_sent(self, message_id: int, at: dt.datetime) -> None:
        self._finish(message_id, "record a sent message", state=SENT, sent_at=at)

    def mark_retry(self, message_id: int, not_before: dt.datetime, error: str) -> None:
        self._finish(
            message_id,
            "reschedule a message",
            state=PENDING,
            not_before=not_before,
            last_error=error[:_ERROR_CHARS],
        )

    def mark_failed(self, message_id: int, error: str) -> None:
        self._finish(
            message_id, "record a failed message", state=FAILED, last_error=error[:_ERROR_CHARS]
        )

    def _finish(self, message_id: int, what: str, **values: Any) -> None:
        o = _OUTBOX
        # Only a claimed row: a row already finished by a worker whose lease outlived ours
        # keeps that worker's outcome.
        stmt = (
            update(o)
            .where(o.c.id == message_id, o.c.state == SENDING)
            .values(claimed_until=None, **values)
        )
        with self._session(what, write=True) as s:
            s.execute(stmt)

    def outbox(
        self, states: Collection[str] | None = None, limit: int = 100
    ) -> list[OutboxMessage]:
        """Messages newest first; `states` None means any state."""
        query = select(OutboxRow).order_by(OutboxRow.id.desc()).limit(limit)
        if states is not None:
            query = query.where(OutboxRow.state.in_(list(states)))
        with self._session("read the outbox") as s:
            return [_message(r) for r in s.scalars(query)]

    def outbox_summary(self) -> tuple[dict[tuple[str, str], int], dt.datetime | None]:
        """Counts by (channel, state), and when the oldest unsent message was written."""
        o = OutboxRow
        counts = select(o.channel, o.state, func.count()).group_by(o.channel, o.state)
        oldest = select(func.min(o.created_at)).where(o.state.in_([PENDING, SENDING]))
        with self._session("summarise the outbox") as s:
            by = {(c, st): int(n) for c, st, n in s.execute(counts)}
            first = s.scalar(oldest)
        return by, first


def _row(key: str, ticket_id: int | None, at: dt.datetime, r: OutboxRecord) -> dict[str, Any]:
    return {
        "idempotency_key": key, "ticket_id": ticket_id, "channel": r.channel,
        "recipient": r.recipient, "subject": r.subject, "body": r.body, "created_at": at,
        "not_before": r.not_before or at, "attempts": 0, "state": PENDING,
        "claimed_until": None, "last_error": None, "sent_at": None,
    }  # fmt: skip


def _message(r: OutboxRow | Row[Any]) -> OutboxMessage:
    return OutboxMessage(
        id=r.id, idempotency_key=r.idempotency_key, ticket_id=r.ticket_id, channel=r.channel,
        recipient=r.recipient, subject=r.subject, body=r.body, created_at=r.created_at,
        not_before=r.not_before, attempts=r.attempts, state=r.state,
        claimed_until=r.claimed_until, last_error=r.last_error, sent_at=r.sent_at,
    )  # fmt: skip
