"""The persistent store: one engine/session core and a repository per group of tables.

Synchronous on purpose: the daemon calls it through `asyncio.to_thread`. Every call opens
its own session and transaction, so threads never share a session or a connection. Engine
setup lives in `engine`, sessions and error wrapping in `core`; what is stored is asked of
a repository: `store.devices`, `store.states`, `store.facts`, `store.tickets`,
`store.outbox`, `store.windows`, `store.inspections`, `store.followups`, `store.history`
(range queries for reports), `store.metric_history`, `store.pollers` (site pollers),
`store.macs` (MAC -> port history), `store.leases` (the centre HA lease) and
`store.discovery` (discovery runs and their change sets).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from monitord.store import migrate
from monitord.store.accounts import Accounts
from monitord.store.core import StoreCore
from monitord.store.devices import Devices
from monitord.store.discovery import DiscoveryRuns
from monitord.store.engine import postgresql_engine, sqlite_engine
from monitord.store.errors import StoreError
from monitord.store.facts import Facts
from monitord.store.followups import FollowUps
from monitord.store.history import History
from monitord.store.inspections import Inspections
from monitord.store.lease import Leases
from monitord.store.macs import MacPositions
from monitord.store.metric_history import MetricHistory
from monitord.store.outbox import OutboxQueue
from monitord.store.pollers import Pollers
from monitord.store.records import InventoryDiff
from monitord.store.states import States
from monitord.store.tickets import Tickets
from monitord.store.windows import Windows

__all__ = ["InventoryDiff", "Store", "StoreError"]


class Store(StoreCore):
    """The database: opening, migrating and closing it; the rest is in its repositories."""

    def __init__(self, engine: Engine, url_redacted: str, password: str | None = None) -> None:
        super().__init__(engine, url_redacted, password)
        self.facts = Facts(self)
        self.devices = Devices(self, self.facts)
        self.states = States(self)
        self.tickets = Tickets(self)
        self.outbox = OutboxQueue(self)
        self.windows = Windows(self)
        self.inspections = Inspections(self)
        self.followups = FollowUps(self)
        self.history = History(self)
        self.metric_history = MetricHistory(self)
        self.accounts = Accounts(self)
        self.pollers = Pollers(self)
        self.macs = MacPositions(self)
        self.leases = Leases(self)  # the centre HA lease (PostgreSQL only)
        self.discovery = DiscoveryRuns(self)  # discovery runs and their change sets

    @classmethod
    def open(cls, url: str) -> Store:
        """Open (and for SQLite create) the database and check that it answers."""
        try:
            parsed = make_url(url)
        except ArgumentError:
            raise StoreError("invalid database URL (not shown: it may hold a password)") from None
        # As written when there is nothing to hide: rendering would percent-escape it.
        redacted = url if parsed.password is None else parsed.render_as_string(True)
        backend = parsed.get_backend_name()
        if backend == "sqlite":
            engine = sqlite_engine(parsed, redacted)
        elif backend == "postgresql":
            if parsed.drivername == "postgresql":
                parsed = parsed.set(drivername="postgresql+psycopg")
            engine = postgresql_engine(parsed)
        else:
            raise StoreError(f"{redacted}: unsupported database; use sqlite:// or postgresql://")
        store = cls(engine, redacted, parsed.password)
        store._check_writable()
        return store

    def _check_writable(self) -> None:
        with (
            self._lock,
            self.errors("open the database"),
            self._writer.connect() as conn,
            conn.begin() as transaction,
        ):
            if conn.dialect.name == "sqlite":
                # Find a read-only file now, not at the first state change: rewriting a
                # header field needs write access, and the rollback leaves no trace.
                version = int(conn.exec_driver_sql("PRAGMA user_version").scalar() or 0)
                conn.exec_driver_sql(f"PRAGMA user_version = {version}")
            transaction.rollback()

    def upgrade(self, on_step: Callable[[], None] | None = None) -> None:
        with self._lock, self.errors("migrate the schema"):
            migrate.upgrade(self._writer, on_step)

    def pending_migrations(self) -> int:
        with self._lock, self.errors("read the schema revision"):
            return migrate.pending(self._engine)

    def current_revision(self) -> str | None:
        with self._lock, self.errors("read the schema revision"):
            return migrate.current_revision(self._engine)
