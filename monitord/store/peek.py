"""The store as read-only commands read it (`devices`, `tickets`, `ticket show`), through
the standard library's sqlite3 when it can: SQLAlchemy and the ORM took 0.5 s to import at
every such command, more than the reads themselves (issue 15: each <= 1 s at fleet size).

`open_sqlite` answers only for a SQLite database file that is already at this monitord's
schema revision (store/versions.py), opened read-only; anything else (PostgreSQL, a new or
older database, an odd URL) is None, and the caller reads through the `Store`, which
creates or upgrades the database as before. Rows become records through store/rows.py,
the repositories' own mapping; the value conversions below are SQLAlchemy's for SQLite
(tests/integration/test_store_peek.py checks them against the schema's column types and
every read against the repository's answer on the same database).
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote

from monitord.store.records import (
    RECENT_LIMIT,
    DeviceRecord,
    SavedState,
    SiteRecord,
    TicketEventRecord,
    TicketRecord,
)
from monitord.store.rows import (
    ARCHIVE_FIELDS,
    device_record,
    event_record,
    saved_state,
    site_record,
    ticket_record,
)
from monitord.store.versions import newest_file_revision

if TYPE_CHECKING:
    from monitord.store import Store


def _instant(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)  # stored as naive UTC


# Column name -> how SQLAlchemy reads its SQLite value (UTCDateTime, Date, JSON); other
# columns are read as they are.
INSTANTS = frozenset(
    {"at", "closed_at", "first_seen", "last_check", "opened_at", "removed_at", "since",
     "updated_at"}
)  # fmt: skip
DATES = frozenset({"install_date", "warranty_end"})
JSONS = frozenset({"data", "impacted", "parents"})
_CONVERT: dict[str, Callable[[Any], Any]] = {
    **dict.fromkeys(INSTANTS, _instant),
    **dict.fromkeys(DATES, dt.date.fromisoformat),
    **dict.fromkeys(JSONS, json.loads),
}


class Reader(Protocol):
    def devices(self) -> list[DeviceRecord]: ...
    def states(self) -> dict[str, SavedState]: ...
    def sites(self) -> list[SiteRecord]: ...
    def recent(
        self, statuses: Collection[str] | None, contract: str | None
    ) -> list[TicketRecord]: ...
    def ticket(self, ticket_id: int) -> tuple[TicketRecord, list[TicketEventRecord]] | None: ...
    def events(self, ticket_id: int) -> list[TicketEventRecord]: ...
    def close(self) -> None: ...


class StoreReader:
    """The same reads through the `Store` (any backend)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def devices(self) -> list[DeviceRecord]:
        return self.store.devices.all()

    def states(self) -> dict[str, SavedState]:
        return self.store.states.load()

    def sites(self) -> list[SiteRecord]:
        return self.store.devices.sites()

    def recent(self, statuses: Collection[str] | None, contract: str | None) -> list[TicketRecord]:
        return self.store.tickets.recent(statuses, contract)

    def ticket(self, ticket_id: int) -> tuple[TicketRecord, list[TicketEventRecord]] | None:
        return self.store.tickets.get(ticket_id)

    def events(self, ticket_id: int) -> list[TicketEventRecord]:
        return self.store.tickets.events(ticket_id)

    def close(self) -> None:
        self.store.close()


def open_sqlite(url: str) -> Peek | None:
    """A read-only reader of the SQLite file `url` names, if it is at this schema revision."""
    path = url.removeprefix("sqlite:///")
    if path == url or not path or any(c in path for c in "?%#") or path == ":memory:":
        return None
    if not Path(path).is_file():
        return None
    try:
        connection = sqlite3.connect(
            f"file:{quote(path)}?mode=ro", uri=True, timeout=30, isolation_level=None
        )
    except sqlite3.Error:
        return None
    try:
        found = connection.execute("SELECT version_num FROM alembic_version").fetchall()
    except sqlite3.Error:
        found = []
    if [row[0] for row in found] != [newest_file_revision()]:
        connection.close()
        return None
    return Peek(connection)


class Peek:
    """Reads of one read-only sqlite3 connection; each read in its own transaction."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._db = connection

    def _rows(self, sql: str, *params: Any) -> list[Any]:
        cursor = self._db.execute(sql, params)
        names = [d[0] for d in cursor.description]
        convert = [(n, _CONVERT.get(n)) for n in names]
        out = []
        for row in cursor:
            values = {
                n: (f(v) if f is not None and v is not None else v)
                for (n, f), v in zip(convert, row, strict=True)
            }
            out.append(SimpleNamespace(**values))
        return out

    @contextmanager
    def _snapshot(self) -> Iterator[None]:
        """One read transaction, so a ticket and its events agree (as Tickets.get)."""
        self._db.execute("BEGIN")
        try:
            yield
        finally:
            self._db.execute("COMMIT")

    def devices(self) -> list[DeviceRecord]:
        columns = ", ".join(("id", *ARCHIVE_FIELDS))
        sql = f"SELECT {columns} FROM devices WHERE removed_at IS NULL ORDER BY id"
        return [device_record(r) for r in self._rows(sql)]

    def states(self) -> dict[str, SavedState]:
        sql = "SELECT device_id, state, since, last_check, reason FROM device_state"
        return {r.device_id: saved_state(r) for r in self._rows(sql)}

    def sites(self) -> list[SiteRecord]:
        sql = "SELECT id, name, timezone, zone, contract FROM sites ORDER BY id"
        return [site_record(r) for r in self._rows(sql)]

    def recent(self, statuses: Collection[str] | None, contract: str | None) -> list[TicketRecord]:
        where, params = [], []
        if statuses is not None:
            wanted = list(statuses)
            where.append(f"status IN ({', '.join('?' * len(wanted))})")
            params += wanted
        if contract is not None:
            where.append("contract = ?")
            params.append(contract)
        sql = "SELECT * FROM tickets"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += f" ORDER BY opened_at DESC, id DESC LIMIT {RECENT_LIMIT}"
        return [ticket_record(r) for r in self._rows(sql, *params)]

    def ticket(self, ticket_id: int) -> tuple[TicketRecord, list[TicketEventRecord]] | None:
        with self._snapshot():
            rows = self._rows("SELECT * FROM tickets WHERE id = ?", ticket_id)
            if not rows:
                return None
            sql = "SELECT * FROM ticket_events WHERE ticket_id = ? AND seq <= ? ORDER BY seq"
            events = self._rows(sql, ticket_id, rows[0].version)
        return ticket_record(rows[0]), [event_record(e) for e in events]

    def events(self, ticket_id: int) -> list[TicketEventRecord]:
        sql = "SELECT * FROM ticket_events WHERE ticket_id = ? ORDER BY seq"
        return [event_record(e) for e in self._rows(sql, ticket_id)]

    def close(self) -> None:
        self._db.close()
