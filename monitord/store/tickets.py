"""The ticket repository (`store.tickets`).

A ticket is an append-only log of events (`ticket_events`) plus a row (`tickets`) that
caches what the log says. Both change in one transaction, guarded by the row's version
(optimistic locking: a writer names the version it read), so the log never has gaps and
the row never disagrees with it. "One active ticket per fault" is not checked here but
enforced by a unique index over active tickets' dedup keys, so it survives restarts,
crashes and two daemons racing.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from sqlalchemy import Executable, Table, cast, column, func, insert, select, update
from sqlalchemy import text as sql_text
from sqlalchemy import values as sql_values
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from monitord.store.core import Repository
from monitord.store.errors import ActiveTicketExists, RepeatedAction, StoreError, TicketConflict
from monitord.store.outbox import Outbox, insert_rows, outbox_rows, write_outbox
from monitord.store.records import RECENT_LIMIT, TicketEventRecord, TicketRecord
from monitord.store.rows import event_record, ticket_record
from monitord.store.schema import (
    ACTIVE_DEDUP_INDEX,
    ACTIVE_TICKET,
    IDEM_CONSTRAINT,
    Base,
    Ticket,
    TicketEventRow,
)

CLOSED = "closed"
# The row's fields that an event may change; the rest describe the fault and never change.
# fault_kind is the episode's kind now: one ticket follows down <-> degraded (issue 18).
CHANGEABLE = frozenset(
    {"status", "paused", "recovered", "ticket_class", "rule", "impacted", "title", "fault_kind"}
)
# Opening loops only when PostgreSQL shows us a conflict whose ticket is closed before we
# can read it; each further round needs another writer to open and close a ticket again.
_OPEN_ATTEMPTS = 5

_TICKETS: Table = Base.metadata.tables[Ticket.__tablename__]
_APPENDS_PER_STATEMENT = 500  # tests shrink it to see the chunks


class Tickets(Repository):
    def open(
        self, ticket: TicketRecord, first: TicketEventRecord, outbox: Outbox = ()
    ) -> tuple[TicketRecord, bool]:
        """Insert the ticket, its first event and its messages together: (the ticket, True).

        If a ticket with the same dedup key is active, insert nothing and return (that
        ticket, False). The database assigns the id; the version is 1, the first event's
        seq 1; `ticket.id`, `ticket.version`, `first.ticket_id` and `first.seq` are ignored.
        """
        if ticket.status == CLOSED:
            raise ValueError(f"{ticket.dedup_key}: a ticket cannot be opened closed")
        what = f"open a ticket for {ticket.dedup_key}"
        for _ in range(_OPEN_ATTEMPTS):
            with self._session(what, write=True) as s:
                opened = _open_in(s, ticket, first, outbox)
            if opened is not None:
                return opened
            # The conflicting ticket was closed between the two statements: try again.
        raise StoreError(
            f"{self._core.url_redacted}: cannot {what}: its active ticket keeps changing; try again"
        )

    def open_many(
        self, drafts: Sequence[tuple[TicketRecord, TicketEventRecord, Outbox]]
    ) -> list[tuple[TicketRecord, bool] | None]:
        """`open` for several tickets (distinct dedup keys) in one transaction.

        A storm opens hundreds at once; one transaction each queued them behind the write
        lock (SQLite) or a commit each (PostgreSQL). Each answer is what `open` returns, or
        None where the active ticket it met was closed before it could be read (the caller
        opens that one alone, as `open` would retry it). All or nothing: a StoreError
        leaves none of them written.
        """
        if len({t.dedup_key for t, _, _ in drafts}) != len(drafts):
            raise ValueError("open_many: one draft per dedup key")
        for ticket, _, _ in drafts:
            if ticket.status == CLOSED:
                raise ValueError(f"{ticket.dedup_key}: a ticket cannot be opened closed")
        if not drafts:
            return []
        with self._session(f"open {len(drafts)} tickets", write=True) as s:
            # One statement for the tickets, one for the events, one for the messages:
            # built and compiled once, not once per ticket (that was most of a storm).
            stmt = _insert_ticket(s.get_bind().dialect.name, None)
            rows = s.execute(stmt, [_ticket_values(t) for t, _, _ in drafts]).all()
            created = {r.dedup_key: ticket_record(r) for r in rows}
            events = [
                _event_values(created[t.dedup_key].id, 1, first)
                for t, first, _ in drafts
                if t.dedup_key in created
            ]
            if events:
                s.execute(insert(TicketEventRow), events)
            messages: list[dict[str, Any]] = []
            for t, first, outbox in drafts:
                if t.dedup_key in created:
                    messages += outbox_rows(created[t.dedup_key], 1, first.at, outbox)
            insert_rows(s, messages)
            taken = [t.dedup_key for t, _, _ in drafts if t.dedup_key not in created]
            # Read committed (PostgreSQL): this statement sees the racers' commits.
            query = select(Ticket).where(Ticket.dedup_key.in_(taken), Ticket.status != CLOSED)
            existing = {r.dedup_key: ticket_record(r) for r in s.scalars(query)} if taken else {}
        out: list[tuple[TicketRecord, bool] | None] = []
        for t, _, _ in drafts:
            if t.dedup_key in created:
                out.append((created[t.dedup_key], True))
            else:
                other = existing.get(t.dedup_key)
                out.append(None if other is None else (other, False))
        return out

    def append_event(
        self,
        ticket_id: int,
        expected_version: int,
        event: TicketEventRecord,
        changes: Mapping[str, Any],
        outbox: Outbox = (),
        idem: str | None = None,
    ) -> TicketRecord:
        """Apply `changes` to the ticket and append `event` as seq expected_version + 1.

        `idem`, an action's idempotency key, is stored with the event, unique over the log:
        RepeatedAction (nothing written) if an event already holds it.

        The change, the event and the event's messages (`outbox`) are written all or none:
        TicketConflict (nothing written) when the ticket is not at `expected_version` or does
        not exist; ActiveTicketExists when the change would
        reopen it while another ticket with its key is active. `event.ticket_id` and
        `event.seq` are ignored. Returns the updated ticket.
        """
        values = _values(ticket_id, changes, event)
        try:
            with self._session(f"append an event to ticket {ticket_id}", write=True) as s:
                return _append_in(s, ticket_id, expected_version, event, values, outbox, idem)
        except _KeyTaken:  # rolled back; a racer recorded the same action first
            pass
        assert idem is not None
        found = self.by_idem(idem)
        if found is None:  # the racer holding the key rolled back: nothing is recorded
            raise TicketConflict(f"ticket {ticket_id}: action {idem[:64]!r} raced; send it again")
        raise RepeatedAction(idem, found[0], found[1])

    def by_idem(self, idem: str) -> tuple[int, int] | None:
        """(ticket id, seq) of the event recorded with this idempotency key, if any."""
        query = select(TicketEventRow.ticket_id, TicketEventRow.seq).where(
            TicketEventRow.idem == idem
        )
        with self._session("read an action by its key") as s:
            row = s.execute(query).one_or_none()
            return None if row is None else (row.ticket_id, row.seq)

    def append_many(
        self, appends: Sequence[tuple[int, int, TicketEventRecord, Mapping[str, Any], Outbox]]
    ) -> list[TicketRecord | None]:
        """`append_event` for several tickets in one transaction; None where that ticket
        is not at its expected version (nothing written for it: read it again). For changes
        that keep each ticket's status (an impact growing): a reopening could meet the dedup
        index, and on PostgreSQL that error would abort the others; all or nothing on a
        StoreError."""
        if not appends:
            return []
        out: list[TicketRecord | None] = []
        distinct = len({a[0] for a in appends}) == len(appends)
        with self._session(f"append events to {len(appends)} tickets", write=True) as s:
            if distinct and len(appends) > 1:
                return _append_batch(s, appends)
            for ticket_id, version, event, changes, outbox in appends:
                values = _values(ticket_id, changes, event)
                try:
                    out.append(_append_in(s, ticket_id, version, event, values, outbox))
                except TicketConflict:
                    out.append(None)
        return out

    def get_many(
        self, ticket_ids: Collection[int]
    ) -> dict[int, tuple[TicketRecord, list[TicketEventRecord]]]:
        """`get` for several tickets in one read; a missing id is left out."""
        out: dict[int, tuple[TicketRecord, list[TicketEventRecord]]] = {}
        if not ticket_ids:
            return out
        wanted = list(ticket_ids)
        with self._session(f"read {len(wanted)} tickets") as s:
            for row in s.scalars(select(Ticket).where(Ticket.id.in_(wanted))):
                out[row.id] = (ticket_record(row), [])
            query = (
                select(TicketEventRow)
                .where(TicketEventRow.ticket_id.in_(wanted))
                .order_by(TicketEventRow.ticket_id, TicketEventRow.seq)
            )
            for e in s.scalars(query):
                known = out.get(e.ticket_id)
                # As in `get`: events past the version read are not the row's yet.
                if known is not None and e.seq <= known[0].version:
                    known[1].append(event_record(e))
        return out

    def get(self, ticket_id: int) -> tuple[TicketRecord, list[TicketEventRecord]] | None:
        """The ticket and its events in seq order, consistent with each other."""
        with self._session(f"read ticket {ticket_id}") as s:
            row = s.get(Ticket, ticket_id)
            if row is None:
                return None
            # PostgreSQL reads each statement at its own snapshot: events appended after
            # the row was read would not match its version, so leave them out.
            query = _events(ticket_id).where(TicketEventRow.seq <= row.version)
            return ticket_record(row), [event_record(e) for e in s.scalars(query)]

    def active(self, dedup_key: str) -> TicketRecord | None:
        with self._session(f"read the active ticket of {dedup_key}") as s:
            row = s.scalars(_active(dedup_key)).one_or_none()
            return None if row is None else ticket_record(row)

    def last_closed(self, dedup_key: str) -> TicketRecord | None:
        """The most recently closed ticket with this key (to reopen it within a window)."""
        query = (
            select(Ticket)
            .where(Ticket.dedup_key == dedup_key, Ticket.status == CLOSED)
            .order_by(Ticket.closed_at.desc().nulls_last(), Ticket.id.desc())
            .limit(1)
        )
        with self._session(f"read the last closed ticket of {dedup_key}") as s:
            row = s.scalars(query).first()
            return None if row is None else ticket_record(row)

    def current(
        self, keys: Collection[str]
    ) -> dict[str, tuple[TicketRecord | None, TicketRecord | None]]:
        """For each dedup key: (its active ticket, its last closed one), as `active` and
        `last_closed` would say, for many keys in one read."""
        out: dict[str, tuple[TicketRecord | None, TicketRecord | None]] = dict.fromkeys(
            keys, (None, None)
        )
        if not out:
            return out
        wanted = list(out)
        with self._session(f"read the tickets of {len(wanted)} keys") as s:
            for row in s.scalars(
                select(Ticket).where(Ticket.dedup_key.in_(wanted), Ticket.status != CLOSED)
            ):
                out[row.dedup_key] = (ticket_record(row), None)
            rest = [k for k in wanted if out[k][0] is None]
            if rest:
                query = (
                    select(Ticket)
                    .where(Ticket.dedup_key.in_(rest), Ticket.status == CLOSED)
                    .order_by(Ticket.closed_at.desc().nulls_last(), Ticket.id.desc())
                )
                for row in s.scalars(query):
                    if out[row.dedup_key][1] is None:
                        out[row.dedup_key] = (None, ticket_record(row))
        return out

    def recent(
        self,
        statuses: Collection[str] | None = None,
        contract: str | None = None,
        limit: int = RECENT_LIMIT,
        site: str | None = None,
    ) -> list[TicketRecord]:
        """Tickets, newest first; `statuses` None means any status; `site`: that site's."""
        t = _TICKETS
        query = select(t).order_by(t.c.opened_at.desc(), t.c.id.desc()).limit(limit)
        if statuses is not None:
            query = query.where(t.c.status.in_(list(statuses)))
        if contract is not None:
            query = query.where(t.c.contract == contract)
        if site is not None:
            query = query.where(t.c.site_id == site)
        # Plain rows, not ORM objects: the console reads thousands of these per page.
        with self._session("read tickets") as s:
            return [ticket_record(r) for r in s.execute(query)]

    def last_event_id(self) -> int:
        """The newest ticket event's id (0: none): every change to any ticket appends one."""
        with self._session("read the newest ticket event") as s:
            return int(s.scalar(select(func.max(TicketEventRow.id))) or 0)

    def events(self, ticket_id: int) -> list[TicketEventRecord]:
        with self._session(f"read the events of ticket {ticket_id}") as s:
            return [event_record(e) for e in s.scalars(_events(ticket_id))]

    def events_of(self, ticket_ids: Collection[int]) -> dict[int, list[TicketEventRecord]]:
        """The events of many tickets in one session, a few queries (one per ticket was
        200 round trips for a page of 200 open "site link lost" tickets)."""
        out: dict[int, list[TicketEventRecord]] = {i: [] for i in ticket_ids}
        ids = list(out)
        with self._session(f"read the events of {len(ids)} tickets") as s:
            for start in range(0, len(ids), 500):  # bound the IN list
                query = (
                    select(TicketEventRow)
                    .where(TicketEventRow.ticket_id.in_(ids[start : start + 500]))
                    .order_by(TicketEventRow.ticket_id, TicketEventRow.seq)
                )
                for e in s.scalars(query):
                    out[e.ticket_id].append(event_record(e))
        return out

    def by_key(self, keys: Collection[str]) -> dict[str, TicketRecord]:
        """For each dedup key: its active ticket, else its latest closed one (one query)."""
        if not keys:
            return {}
        query = (
            select(Ticket)
            .where(Ticket.dedup_key.in_(list(keys)))
            .order_by(Ticket.opened_at, Ticket.id)
        )
        out: dict[str, TicketRecord] = {}
        with self._session("read tickets by key") as s:
            for row in s.scalars(query):
                known = out.get(row.dedup_key)
                if known is None or known.status == CLOSED:
                    out[row.dedup_key] = ticket_record(row)
        return out


def _values(ticket_id: int, changes: Mapping[str, Any], event: TicketEventRecord) -> dict[str, Any]:
    unknown = sorted(set(changes) - CHANGEABLE)
    if unknown:
        raise ValueError(f"ticket {ticket_id}: fields that cannot change: {unknown}")
    values: dict[str, Any] = dict(changes)
    if "impacted" in values:
        if isinstance(values["impacted"], str):
            raise ValueError(f"ticket {ticket_id}: impacted must be device ids, not a str")
        values["impacted"] = list(values["impacted"])
    if "status" in values:
        # Closing stamps the time; any other status (reopening) clears it.
        values["closed_at"] = event.at if values["status"] == CLOSED else None
    return values


def _append_in(
    s: Session,
    ticket_id: int,
    expected_version: int,
    event: TicketEventRecord,
    values: dict[str, Any],
    outbox: Outbox,
    idem: str | None = None,
) -> TicketRecord:
    """`append_event` inside the caller's transaction (values already checked)."""
    t = _TICKETS
    stmt = (
        update(t)
        .where(t.c.id == ticket_id, t.c.version == expected_version)
        .values(**values, version=t.c.version + 1, updated_at=event.at)
        .returning(*t.c)
    )
    # The UPDATE comes first: on PostgreSQL it locks the row, so a concurrent
    # writer with the same expected version waits, then matches nothing.
    try:
        updated = s.execute(stmt).one_or_none()
    except IntegrityError as exc:
        if not _is_dedup_violation(exc):
            raise
        raise ActiveTicketExists(
            f"ticket {ticket_id} cannot become {values.get('status')!r}: another "
            "ticket with the same dedup key is active"
        ) from None
    if updated is None:
        current = s.scalar(select(t.c.version).where(t.c.id == ticket_id))
        if current is None:
            raise TicketConflict(f"ticket {ticket_id} does not exist")
        raise TicketConflict(
            f"ticket {ticket_id} is at version {current}, not {expected_version}: "
            "another writer changed it; read it again"
        )
    try:
        s.execute(_insert_event(ticket_id, expected_version + 1, event, idem))
    except IntegrityError as exc:
        if idem is not None and _is_idem_violation(exc):
            raise _KeyTaken from None
        raise
    record = ticket_record(updated)
    write_outbox(s, record, expected_version + 1, event.at, outbox)
    return record


def _append_batch(
    s: Session, appends: Sequence[tuple[int, int, TicketEventRecord, Mapping[str, Any], Outbox]]
) -> list[TicketRecord | None]:
    """`append_many` for distinct tickets in a few statements, whatever their number: an
    UPDATE ... FROM a VALUES list per set of changed columns, then one INSERT of the
    events and one of the messages. Statement by statement, each ticket was two round
    trips, each waiting for the server to be scheduled (PostgreSQL) or for the write lock
    to come back (SQLite): on a busy host that, not the work, was most of a storm's
    impact updates (bench/storm.py)."""
    t = _TICKETS
    typed = s.get_bind().dialect.name == "postgresql"
    prepared = [(i, v, e, _values(i, c, e), o) for i, v, e, c, o in appends]
    groups: dict[tuple[str, ...], list[int]] = {}
    for n, (_, _, _, values, _) in enumerate(prepared):
        groups.setdefault(tuple(sorted(values)), []).append(n)
    # Bounded: a statement's bound parameters are limited (SQLite 32 766).
    each = _APPENDS_PER_STATEMENT
    chunks = [(k, m[i : i + each]) for k, m in groups.items() for i in range(0, len(m), each)]
    updated: dict[int, TicketRecord] = {}
    for names, members in chunks:
        rows = [
            (prepared[n][0], prepared[n][1], prepared[n][2].at, *(prepared[n][3][c] for c in names))
            for n in members
        ]
        # A CTE: SQLite takes no column names on a derived table's alias.
        given = (
            sql_values(
                column("u_id", t.c.id.type),
                column("u_version", t.c.version.type),
                column("u_at", t.c.updated_at.type),
                *(column(f"u_{c}", t.c[c].type) for c in names),
                name="given",
            )
            .data(rows)
            .cte("given")
        )
        stmt = (
            update(t)
            .where(t.c.id == given.c.u_id, t.c.version == given.c.u_version)
            .values(
                {
                    **{c: _typed(given.c[f"u_{c}"], t.c[c].type, typed) for c in names},
                    "version": t.c.version + 1,
                    "updated_at": given.c.u_at,
                }
            )
            .returning(*t.c)
        )
        try:
            found = s.execute(stmt).all()
        except IntegrityError as exc:
            if not _is_dedup_violation(exc):
                raise
            ids = [prepared[n][0] for n in members]
            raise ActiveTicketExists(
                f"tickets {ids}: one cannot change its status: another ticket with the same "
                "dedup key is active"
            ) from None
        updated.update((r.id, ticket_record(r)) for r in found)
    out: list[TicketRecord | None] = []
    events: list[dict[str, Any]] = []
    messages: list[dict[str, Any]] = []
    for ticket_id, version, event, _, outbox in prepared:
        record = updated.get(ticket_id)
        out.append(record)
        if record is not None:  # else not at its version, or gone: nothing written for it
            events.append(_event_values(ticket_id, version + 1, event))
            messages += outbox_rows(record, version + 1, event.at, outbox)
    if events:
        s.execute(insert(TicketEventRow), events)
    insert_rows(s, messages)
    return out


def _typed(value: Any, type_: Any, typed: bool) -> Any:
    # PostgreSQL reads a VALUES column of NULLs only (closed_at) as text: cast it. Not on
    # SQLite, where CAST(... AS JSON) or AS DATETIME means numeric affinity and mangles.
    return cast(value, type_) if typed else value


def _open_in(
    s: Session, ticket: TicketRecord, first: TicketEventRecord, outbox: Outbox
) -> tuple[TicketRecord, bool] | None:
    """One opening inside the caller's transaction; None: the conflict closed meanwhile."""
    # ON CONFLICT DO NOTHING instead of catching the unique violation: the transaction
    # stays usable (PostgreSQL aborts it on an error), so the winner is read in it, and a
    # foreign-key error still reads as one. On PostgreSQL a racer's uncommitted insert
    # makes ours wait for its outcome.
    dialect = s.get_bind().dialect.name
    created = s.execute(_insert_ticket(dialect, ticket)).one_or_none()
    if created is not None:
        s.execute(_insert_event(created.id, 1, first))
        opened = ticket_record(created)
        write_outbox(s, opened, 1, first.at, outbox)
        return opened, True
    # Read committed (PostgreSQL): this statement sees the racer's commit.
    existing = s.scalars(_active(ticket.dedup_key)).one_or_none()
    return None if existing is None else (ticket_record(existing), False)


def _insert_ticket(dialect: str, ticket: TicketRecord | None) -> Any:
    """INSERT … ON CONFLICT DO NOTHING RETURNING the row, or no row if a ticket is active.

    ticket None: the statement alone, for many tickets' values (`_ticket_values`) at once.
    """
    insert_ = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert_(_TICKETS)
    if ticket is not None:
        stmt = stmt.values(**_ticket_values(ticket))
    # The predicate must be literal SQL: PostgreSQL matches it against the partial index's
    # own predicate to pick the arbiter index, and cannot do that with a bound parameter.
    return stmt.on_conflict_do_nothing(
        index_elements=[_TICKETS.c.dedup_key], index_where=sql_text(ACTIVE_TICKET)
    ).returning(*_TICKETS.c)


def _ticket_values(ticket: TicketRecord) -> dict[str, Any]:
    return {
        "dedup_key": ticket.dedup_key, "contract": ticket.contract, "site_id": ticket.site_id,
        "root_device": ticket.root_device, "fault_kind": ticket.fault_kind,
        "ticket_class": ticket.ticket_class, "rule": ticket.rule, "status": ticket.status,
        "paused": ticket.paused, "recovered": ticket.recovered, "title": ticket.title,
        "impacted": list(ticket.impacted), "opened_at": ticket.opened_at,
        "updated_at": ticket.updated_at, "version": 1, "closed_at": None,
    }  # fmt: skip


def _insert_event(
    ticket_id: int, seq: int, event: TicketEventRecord, idem: str | None = None
) -> Executable:
    # A separate function so a test can make the second statement of a transaction fail.
    values = _event_values(ticket_id, seq, event)
    if idem is not None:  # only then: most events have none, and the column came in 0018
        values["idem"] = idem
    return insert(TicketEventRow).values(**values)


def _event_values(ticket_id: int, seq: int, event: TicketEventRecord) -> dict[str, Any]:
    return {
        "ticket_id": ticket_id, "seq": seq, "at": event.at, "kind": event.kind, "actor": event.by,
        "text": event.text, "data": dict(event.data),
    }  # fmt: skip


def _active(dedup_key: str) -> Any:
    return select(Ticket).where(Ticket.dedup_key == dedup_key, Ticket.status != CLOSED)


def _events(ticket_id: int) -> Any:
    return (
        select(TicketEventRow)
        .where(TicketEventRow.ticket_id == ticket_id)
        .order_by(TicketEventRow.seq)
    )


class _KeyTaken(Exception):
    """Inside a transaction: the event's idempotency key is taken (the caller rolls back)."""


def _is_idem_violation(exc: IntegrityError) -> bool:
    # PostgreSQL names the constraint; SQLite names the column.
    message = str(exc.orig)
    return IDEM_CONSTRAINT in message or "ticket_events.idem" in message


def _is_dedup_violation(exc: IntegrityError) -> bool:
    # PostgreSQL names the index; SQLite names the column ("UNIQUE constraint failed:
    # tickets.dedup_key"), which only that index makes unique.
    message = str(exc.orig)
    return ACTIVE_DEDUP_INDEX in message or "tickets.dedup_key" in message
