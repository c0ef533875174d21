"""Range queries for reports: operation records and tickets over a period (`store.history`).

Reports read a month of history at once; these are one query per call, not one per device
or per ticket, and read only what the period needs (plus each device's state at its start).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from sqlalchemy import Table, func, select

from monitord.store.core import Repository, require_aware
from monitord.store.records import OperationEvent, TicketEventRecord, TicketRecord
from monitord.store.rows import event_record, ticket_record
from monitord.store.schema import Base, OperationEventRow, Ticket, TicketEventRow

_EVENTS: Table = Base.metadata.tables[OperationEventRow.__tablename__]
# Keeps each IN (...) list well below SQLite's and PostgreSQL's parameter limits.
_CHUNK = 500


class History(Repository):
    def operation_events(
        self,
        device_ids: Collection[str],
        since: dt.datetime,
        until: dt.datetime,
        kinds: Collection[str] | None = None,
    ) -> list[OperationEvent]:
        """Operation-record entries of these devices with since <= at < until, oldest first.

        Their `observation` is left out (empty): reports do not show it, and decoding it
        was a third of the time of reading a large fleet's month.
        """
        require_aware(since)
        require_aware(until)
        out: list[OperationEvent] = []
        e = _EVENTS.c
        # Plain rows, not ORM objects: a month of a large fleet is tens of thousands of them.
        columns = (e.device_id, e.at, e.kind, e.from_state, e.to_state, e.reason)
        for chunk in _chunks(sorted(device_ids)):
            query = select(*columns).where(e.device_id.in_(chunk), e.at >= since, e.at < until)
            if kinds is not None:
                query = query.where(e.kind.in_(list(kinds)))
            with self._session("read operation records") as s:
                out.extend(OperationEvent(*r) for r in s.execute(query))
        out.sort(key=lambda e: e.at)
        return out

    def states_before(self, device_ids: Collection[str], at: dt.datetime) -> dict[str, str]:
        """Each device's state as last recorded before `at`; devices with none are left out."""
        require_aware(at)
        out: dict[str, str] = {}
        for chunk in _chunks(sorted(device_ids)):
            last = (
                select(func.max(OperationEventRow.id))
                .where(
                    OperationEventRow.device_id.in_(chunk),
                    OperationEventRow.kind == "state",
                    OperationEventRow.at < at,
                )
                .group_by(OperationEventRow.device_id)
            )
            query = select(OperationEventRow.device_id, OperationEventRow.to_state).where(
                OperationEventRow.id.in_(last)
            )
            with self._session("read device states at a time") as s:
                out.update({d: state or "pending" for d, state in s.execute(query)})
        return out

    def tickets_opened(
        self, since: dt.datetime, until: dt.datetime, contract: str | None = None
    ) -> list[TicketRecord]:
        """Tickets opened with since <= opened_at < until, oldest first."""
        require_aware(since)
        require_aware(until)
        query = (
            select(Ticket)
            .where(Ticket.opened_at >= since, Ticket.opened_at < until)
            .order_by(Ticket.opened_at, Ticket.id)
        )
        if contract is not None:
            query = query.where(Ticket.contract == contract)
        with self._session("read tickets of a period") as s:
            return [ticket_record(r) for r in s.scalars(query)]

    def ticket_logs(self, ticket_ids: Collection[int]) -> dict[int, list[TicketEventRecord]]:
        """The logs of these tickets, each in seq order."""
        out: dict[int, list[TicketEventRecord]] = {i: [] for i in ticket_ids}
        for chunk in _chunks(sorted(ticket_ids)):
            query = (
                select(TicketEventRow)
                .where(TicketEventRow.ticket_id.in_(chunk))
                .order_by(TicketEventRow.ticket_id, TicketEventRow.seq)
            )
            with self._session("read ticket logs") as s:
                for row in s.scalars(query):
                    out[row.ticket_id].append(event_record(row))
        return out

    def ticket_events(
        self, since: dt.datetime, until: dt.datetime, site_ids: Collection[str]
    ) -> list[tuple[TicketRecord, TicketEventRecord]]:
        """Events with since <= at < until of the tickets of these sites, oldest first."""
        require_aware(since)
        require_aware(until)
        out: list[tuple[TicketRecord, TicketEventRecord]] = []
        for chunk in _chunks(sorted(site_ids)):
            query = (
                select(Ticket, TicketEventRow)
                .join(TicketEventRow, TicketEventRow.ticket_id == Ticket.id)
                .where(
                    Ticket.site_id.in_(chunk),
                    TicketEventRow.at >= since,
                    TicketEventRow.at < until,
                )
            )
            with self._session("read ticket events of a period") as s:
                out.extend((ticket_record(t), event_record(e)) for t, e in s.execute(query))
        out.sort(key=lambda pair: (pair[1].at, pair[0].id, pair[1].seq))
        return out


def _chunks(items: list[str] | list[int]) -> list[list[str] | list[int]]:
    return [items[i : i + _CHUNK] for i in range(0, len(items), _CHUNK)]
