"""The outbox repository (`store.outbox`): messages written with their ticket events, claimed by workers.

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
from dataclasses import dataclass
from typing import Any

from sqlalchemy import CursorResult, Row, Table, and_, case, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from monitord.store.core import Repository, require_aware
from monitord.store.records import OutboxMessage, OutboxRecord, TicketRecord
from monitord.store.schema import Base, OutboxRow, Ticket
from monitord.ticketing.urgency import MOST_URGENT, RANKS

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
STATES = (PENDING, SENDING, SENT, FAILED)
# Errors are kept short: they are shown by the CLI, and a peer's reply may be long.
_ERROR_CHARS = 500

_OUTBOX: Table = Base.metadata.tables[OutboxRow.__tablename__]
_TICKETS: Table = Base.metadata.tables[Ticket.__tablename__]

# Ticketing's urgency table as SQL: only the ranks that differ from the default are spelt
# out, so the statement is the same CASE as when it was written by hand.
_URGENCY = case(
    *((_TICKETS.c.ticket_class == cls, r) for cls, r in RANKS.items() if r != MOST_URGENT),
    else_=MOST_URGENT,
)

# Messages to one recipient over one channel about one site: what a group gathers.
Scope = tuple[str, str, str]


@dataclass(frozen=True, slots=True)
class Candidate:
    """A due row as a planner sees it; site and class from its ticket (None: no ticket)."""

    id: int
    idempotency_key: str
    channel: str
    recipient: str
    site_id: str | None
    ticket_class: str | None
    created_at: dt.datetime
    attempts: int
    group_key: str | None  # set: claimed before (a crash), to go out again as that group


@dataclass(frozen=True, slots=True)
class History:
    last_sent: dict[Scope, dt.datetime]
    retry_at: dict[Scope, dt.datetime]  # a failed group waits until then for its retry


Groups = list[tuple[str, list[int]]]  # (the group's idempotency key, its rows' ids)
Planner = Callable[[Sequence[Candidate], History, dt.datetime], Groups]

# Messages for an event: given outright, or made from the ticket as written (its id is
# only known inside the transaction that opens it). The callable must not touch the store.
Outbox = Sequence[OutboxRecord] | Callable[[TicketRecord], Sequence[OutboxRecord]]


def idempotency_key(ticket_id: int, seq: int, channel: str, recipient: str) -> str:
    return f"{ticket_id}/{seq}/{channel}/{recipient}"


def write_outbox(
    s: Session, ticket: TicketRecord | None, seq: int, at: dt.datetime, outbox: Outbox
) -> None:
    """Insert the messages in the caller's transaction; a key seen before is skipped."""
    insert_rows(s, outbox_rows(ticket, seq, at, outbox))


def insert_rows(s: Session, rows: list[dict[str, Any]]) -> None:
    """Insert rows made by `outbox_rows` (any number of events' messages) in one statement."""
    if rows:
        insert_ = postgresql.insert if s.get_bind().dialect.name == "postgresql" else sqlite.insert
        stmt = insert_(_OUTBOX).on_conflict_do_nothing(index_elements=["idempotency_key"])
        s.execute(stmt, rows)


def outbox_rows(
    ticket: TicketRecord | None, seq: int, at: dt.datetime, outbox: Outbox
) -> list[dict[str, Any]]:
    """The rows of one event's messages, one per idempotency key."""
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
    return list(rows.values())


class OutboxQueue(Repository):
    def enqueue(self, records: Sequence[OutboxRecord], at: dt.datetime) -> None:
        """Messages caused by no ticket event (a test message, a digest): each needs a key."""
        require_aware(at)
        with self._session("queue messages", write=True) as s:
            write_outbox(s, None, 0, at, records)

    def claim(self, now: dt.datetime, limit: int, lease: dt.timedelta) -> list[OutboxMessage]:
        """Claim up to `limit` due rows (pending and due, or sending with an expired lease),
        each a message of its own."""
        groups = self.claim_groups(now, lease, limit, _one_each)
        return sorted((m for _, ms in groups for m in ms), key=lambda m: (m.not_before, m.id))

    def claim_groups(
        self,
        now: dt.datetime,
        lease: dt.timedelta,
        limit: int,
        plan: Planner,
        horizon: dt.timedelta = dt.timedelta(0),
    ) -> list[tuple[str, list[OutboxMessage]]]:
        """Claim due rows as `plan` groups them: [(group key, its rows)], in one transaction.

        `plan` sees up to `limit` due rows and what was recently sent to (or is waiting for a
        retry to) each scope, and returns the groups to send now; rows it leaves out stay as
        they are; `horizon`: how far back to look for the last message sent to each scope.
        Each claimed row records its group's key, so a group reclaimed after a
        crash goes out again under the same key.
        """
        require_aware(now)
        o, t = _OUTBOX, _TICKETS
        due = _due(now)
        picked = (
            select(*o.c, t.c.site_id, t.c.ticket_class)
            .select_from(o.outerjoin(t, o.c.ticket_id == t.c.id))
            .where(due)
            # The most urgent class first: a big C/D storm waiting for its group must not
            # hide a class A message behind the limit.
            .order_by(_URGENCY, o.c.not_before, o.c.id)
            .limit(limit)
            # SKIP LOCKED on PostgreSQL: a racer's rows are passed over, not waited for.
            # SQLite ignores it; there BEGIN IMMEDIATE makes the transaction one writer's.
            .with_for_update(of=o, skip_locked=True)
        )
        claimed: list[tuple[str, list[OutboxMessage]]] = []
        with self._session("claim outbox messages", write=True) as s:
            candidates = [_candidate(r) for r in s.execute(picked)]
            if not candidates:
                return []
            history = _history(s, now, horizon)
            for key, ids in plan(candidates, history, now):
                stmt = (
                    update(o)
                    # `due` again: PostgreSQL re-checks it on a row another claimer changed.
                    .where(o.c.id.in_(list(ids)), due)
                    .values(
                        state=SENDING,
                        claimed_until=now + lease,
                        attempts=o.c.attempts + 1,
                        group_key=key,
                    )
                    .returning(*o.c)
                )
                rows = sorted((_message(r) for r in s.execute(stmt)), key=lambda m: m.id)
                if rows:
                    claimed.append((key, rows))
        return claimed

    def mark_sent(self, ids: int | Sequence[int], at: dt.datetime) -> None:
        self._finish(ids, "record a sent message", state=SENT, sent_at=at)

    def mark_retry(self, ids: int | Sequence[int], not_before: dt.datetime, error: str) -> None:
        # The group is formed again at the next attempt, with whatever joined it meanwhile.
        self._finish(
            ids,
            "reschedule a message",
            state=PENDING,
            not_before=not_before,
            last_error=error[:_ERROR_CHARS],
            group_key=None,
        )

    def mark_failed(self, ids: int | Sequence[int], error: str) -> None:
        self._finish(ids, "record a failed message", state=FAILED, last_error=error[:_ERROR_CHARS])

    def _finish(self, ids: int | Sequence[int], what: str, **values: Any) -> None:
        o = _OUTBOX
        # Only claimed rows: a row already finished by a worker whose lease outlived ours
        # keeps that worker's outcome.
        wanted = [ids] if isinstance(ids, int) else list(ids)
        stmt = (
            update(o)
            .where(o.c.id.in_(wanted), o.c.state == SENDING)
            .values(claimed_until=None, **values)
        )
        with self._session(what, write=True) as s:
            s.execute(stmt)

    def prune(self, before: dt.datetime) -> int:
        """Delete delivered rows sent before `before`; failed and waiting rows stay."""
        require_aware(before)
        o = _OUTBOX
        stmt = delete(o).where(o.c.state == SENT, o.c.sent_at < before)
        with self._session("prune the outbox", write=True) as s:
            result: CursorResult[Any] = s.execute(stmt)  # type: ignore[assignment]
            return int(result.rowcount or 0)

    def messages(
        self, states: Collection[str] | None = None, limit: int = 100
    ) -> list[OutboxMessage]:
        """Messages newest first; `states` None means any state."""
        query = select(OutboxRow).order_by(OutboxRow.id.desc()).limit(limit)
        if states is not None:
            query = query.where(OutboxRow.state.in_(list(states)))
        with self._session("read the outbox") as s:
            return [_message(r) for r in s.scalars(query)]

    def summary(self) -> tuple[dict[tuple[str, str], int], dt.datetime | None]:
        """Counts by (channel, state), and when the oldest unsent message was written."""
        o = OutboxRow
        counts = select(o.channel, o.state, func.count()).group_by(o.channel, o.state)
        # A message held until later (quiet hours) waits from then, not from when written.
        waiting = case(
            (and_(o.attempts == 0, o.not_before > o.created_at), o.not_before),
            else_=o.created_at,
        )
        oldest = select(func.min(waiting)).where(o.state.in_([PENDING, SENDING]))
        with self._session("summarise the outbox") as s:
            by = {(c, st): int(n) for c, st, n in s.execute(counts)}
            first = s.scalar(oldest)
        return by, first


def _due(now: dt.datetime) -> Any:
    o = _OUTBOX
    return or_(
        and_(o.c.state == PENDING, o.c.not_before <= now),
        and_(o.c.state == SENDING, o.c.claimed_until <= now),
    )


def _history(s: Session, now: dt.datetime, horizon: dt.timedelta) -> History:
    """When each scope (channel, recipient, site) was last sent to, and until when a scope's
    failed messages wait for their retry."""
    o, t = _OUTBOX, _TICKETS
    scope = (o.c.channel, o.c.recipient, t.c.site_id)
    joined = o.join(t, o.c.ticket_id == t.c.id)
    sent = (
        select(*scope, func.max(o.c.sent_at))
        .select_from(joined)
        .where(o.c.state == SENT, o.c.sent_at >= now - horizon)
        .group_by(*scope)
    )
    held = (
        select(*scope, func.min(o.c.not_before))
        .select_from(joined)
        .where(o.c.state == PENDING, o.c.attempts > 0, o.c.not_before > now)
        .group_by(*scope)
    )
    return History(
        last_sent={(c, r, site): at for c, r, site, at in s.execute(sent)},
        retry_at={(c, r, site): at for c, r, site, at in s.execute(held)},
    )


def _one_each(candidates: Sequence[Candidate], history: History, now: dt.datetime) -> Groups:
    return [(c.group_key or c.idempotency_key, [c.id]) for c in candidates]


def _row(key: str, ticket_id: int | None, at: dt.datetime, r: OutboxRecord) -> dict[str, Any]:
    return {
        "idempotency_key": key, "ticket_id": ticket_id, "channel": r.channel,
        "recipient": r.recipient, "subject": r.subject, "body": r.body, "created_at": at,
        "not_before": r.not_before or at, "attempts": 0, "state": PENDING,
        "claimed_until": None, "last_error": None, "sent_at": None, "group_key": None,
    }  # fmt: skip


def _candidate(r: Any) -> Candidate:
    return Candidate(
        id=r.id, idempotency_key=r.idempotency_key, channel=r.channel, recipient=r.recipient,
        site_id=r.site_id, ticket_class=r.ticket_class, created_at=r.created_at,
        attempts=r.attempts, group_key=r.group_key,
    )  # fmt: skip


def _message(r: OutboxRow | Row[Any]) -> OutboxMessage:
    return OutboxMessage(
        id=r.id, idempotency_key=r.idempotency_key, ticket_id=r.ticket_id, channel=r.channel,
        recipient=r.recipient, subject=r.subject, body=r.body, created_at=r.created_at,
        not_before=r.not_before, attempts=r.attempts, state=r.state,
        claimed_until=r.claimed_until, last_error=r.last_error, sent_at=r.sent_at,
        group_key=r.group_key,
    )  # fmt: skip
