"""The persistent store: the equipment archive, last HARD states and operation records.

Synchronous on purpose: the daemon calls it through `asyncio.to_thread`. Every call opens
its own session and transaction, so threads never share a session or a connection.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Connection, Engine, bindparam, create_engine, event, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError, StatementError
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from monitord.store import migrate
from monitord.store.records import DeviceRecord, OperationEvent, SavedState, SiteRecord
from monitord.store.schema import Base, Device, DeviceState, OperationEventRow, Site, UTCDateTime

_ARCHIVE_FIELDS = tuple(f.name for f in fields(DeviceRecord) if f.name != "id")
_WRITE = "monitord_write"  # execution option: this transaction will write


class StoreError(Exception):
    """The database failed (cannot open, connect, read or write); the message names it."""


@dataclass(frozen=True, slots=True)
class InventoryDiff:
    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()


class Store:
    def __init__(self, engine: Engine, url_redacted: str, password: str | None = None) -> None:
        self._engine = engine
        self._writer = engine.execution_options(**{_WRITE: True})
        self._password = password
        self.url_redacted = url_redacted
        # An in-memory SQLite database is one shared connection: serialise its users.
        self._lock: AbstractContextManager[Any] = (
            threading.Lock() if isinstance(engine.pool, StaticPool) else nullcontext()
        )

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
            engine = _sqlite_engine(parsed, redacted)
        elif backend == "postgresql":
            if parsed.drivername == "postgresql":
                parsed = parsed.set(drivername="postgresql+psycopg")
            engine = _postgresql_engine(parsed)
        else:
            raise StoreError(f"{redacted}: unsupported database; use sqlite:// or postgresql://")
        store = cls(engine, redacted, parsed.password)
        store._check_writable()
        return store

    def _check_writable(self) -> None:
        with (
            self._lock,
            self._errors("open the database"),
            self._writer.connect() as conn,
            conn.begin() as transaction,
        ):
            if conn.dialect.name == "sqlite":
                # Find a read-only file now, not at the first state change: rewriting a
                # header field needs write access, and the rollback leaves no trace.
                version = int(conn.exec_driver_sql("PRAGMA user_version").scalar() or 0)
                conn.exec_driver_sql(f"PRAGMA user_version = {version}")
            transaction.rollback()

    def __repr__(self) -> str:
        return f"Store({self.url_redacted!r})"

    def upgrade(self) -> None:
        with self._lock, self._errors("migrate the schema"):
            migrate.upgrade(self._writer)

    def current_revision(self) -> str | None:
        with self._lock, self._errors("read the schema revision"):
            return migrate.current_revision(self._engine)

    def sync_inventory(
        self, sites: Sequence[SiteRecord], devices: Sequence[DeviceRecord], now: dt.datetime
    ) -> InventoryDiff:
        """Make the archive match the configuration, in one transaction.

        Devices missing from `devices` are flagged removed, never deleted: their archive and
        operation record outlive them. Changes to a known device's archive fields, its
        removal and its return are appended to its operation record.
        """
        _require_aware(now)
        _require_unique("site", [s.id for s in sites])
        _require_unique("device", [d.id for d in devices])
        added: list[str] = []
        changed: list[str] = []
        with self._session("synchronise the inventory", write=True) as session:
            known_sites = {s.id: s for s in session.scalars(select(Site))}
            for site in sites:
                _upsert_site(session, known_sites.get(site.id), site, now)
            session.flush()  # sites first: devices refer to them
            known = {d.id: d for d in session.scalars(select(Device))}
            for record in devices:
                row = known.get(record.id)
                if row is None:
                    session.add(_new_device(record, now))
                    added.append(record.id)
                    continue
                if row.removed_at is not None:
                    row.removed_at = None
                    added.append(record.id)
                    session.add(_archive_event(record.id, now, "back in the configuration"))
                diffs = _archive_diff(row, record)
                if diffs:
                    for name, (_, new) in diffs.items():
                        setattr(row, name, list(new) if name == "parents" else new)
                    row.updated_at = now
                    changed.append(record.id)
                    session.add(_archive_event(record.id, now, _describe(diffs), diffs))
            wanted = {d.id for d in devices}
            removed = sorted(i for i, r in known.items() if i not in wanted and not r.removed_at)
            for device_id in removed:
                known[device_id].removed_at = now
                session.add(_archive_event(device_id, now, "removed from the configuration"))
        return InventoryDiff(tuple(added), tuple(changed), tuple(removed))

    def record_state_change(self, event: OperationEvent, state: SavedState) -> None:
        """Append the event and store the new HARD state together, or neither."""
        with self._session(f"record a state change of {event.device_id}", write=True) as s:
            s.add(_event_row(event))
            s.flush()
            s.execute(_upsert_state(s.get_bind().dialect.name, state))

    def record_event(self, event: OperationEvent) -> None:
        with self._session(f"record an event of {event.device_id}", write=True) as s:
            s.add(_event_row(event))

    def touch_checks(self, last_checks: Mapping[str, dt.datetime]) -> None:
        """Update last-check times of devices that have a stored state; others are skipped."""
        if not last_checks:
            return
        for at in last_checks.values():
            _require_aware(at)
        table = Base.metadata.tables[DeviceState.__tablename__]
        stmt = (
            update(table)
            .where(table.c.device_id == bindparam("b_id"))
            .values(last_check=bindparam("b_at", type_=UTCDateTime()))
        )
        rows = [{"b_id": device_id, "b_at": at} for device_id, at in last_checks.items()]
        with self._session("record last check times", write=True) as s:
            s.connection().execute(stmt, rows)

    def load_states(self) -> dict[str, SavedState]:
        with self._session("load device states") as s:
            return {r.device_id: _saved_state(r) for r in s.scalars(select(DeviceState))}

    def device(self, device_id: str) -> DeviceRecord | None:
        with self._session(f"read device {device_id}") as s:
            row = s.get(Device, device_id)
            return None if row is None else _device_record(row)

    def devices(self, include_removed: bool = False) -> list[DeviceRecord]:
        query = select(Device).order_by(Device.id)
        if not include_removed:
            query = query.where(Device.removed_at.is_(None))
        with self._session("read devices") as s:
            return [_device_record(r) for r in s.scalars(query)]

    def sites(self) -> list[SiteRecord]:
        with self._session("read sites") as s:
            return [
                SiteRecord(r.id, r.name, r.timezone, r.zone, r.contract)
                for r in s.scalars(select(Site).order_by(Site.id))
            ]

    def operation_record(self, device_id: str, limit: int = 100) -> list[OperationEvent]:
        """The device's operation record, newest first."""
        query = (
            select(OperationEventRow)
            .where(OperationEventRow.device_id == device_id)
            .order_by(OperationEventRow.at.desc(), OperationEventRow.id.desc())
            .limit(limit)
        )
        with self._session(f"read the operation record of {device_id}") as s:
            return [_operation_event(r) for r in s.scalars(query)]

    def close(self) -> None:
        self._engine.dispose()

    @contextmanager
    def _session(self, what: str, write: bool = False) -> Iterator[Session]:
        bind = self._writer if write else self._engine
        with self._lock, self._errors(what), Session(bind) as session, session.begin():
            yield session

    @contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        try:
            yield
        except StatementError as exc:
            if isinstance(exc.orig, ValueError):
                raise exc.orig from None  # a caller's bad value (naive datetime), not the DB
            raise self._error(what, exc) from exc
        except (SQLAlchemyError, sqlite3.Error, OSError) as exc:
            raise self._error(what, exc) from exc

    def _error(self, what: str, exc: BaseException) -> StoreError:
        # The driver's own words ("database or disk is full", "connection refused"), without
        # SQLAlchemy's SQL text, parameters and links.
        cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
        message = " ".join(str(cause).split()) or type(cause).__name__
        if self._password:
            message = message.replace(self._password, "***")
        return StoreError(f"{self.url_redacted}: cannot {what}: {message}")


def _json(value: Any) -> str:
    # An odd value in an observation must not make a state change unrecordable.
    return json.dumps(value, ensure_ascii=False, default=str)


def _sqlite_engine(url: URL, redacted: str) -> Engine:
    path = url.database or ""
    memory = path in ("", ":memory:") or url.query.get("mode") == "memory"
    if not memory and not path.startswith("file:"):
        try:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"{redacted}: cannot create the database directory: {exc}") from exc
    engine = create_engine(
        url,
        poolclass=StaticPool if memory else None,
        connect_args={"check_same_thread": False, "timeout": 30},
        json_serializer=_json,
    )
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connect(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN itself: pysqlite's implicit transactions
    # start late and cannot say IMMEDIATE.
    dbapi_connection.isolation_level = None
    for pragma in (
        "journal_mode = WAL",  # readers (the CLI) never block the daemon's writes
        "synchronous = NORMAL",  # durable across a crash of the process; fsync at checkpoint
        "foreign_keys = ON",
        "busy_timeout = 30000",
    ):
        dbapi_connection.execute(f"PRAGMA {pragma}")


def _sqlite_begin(connection: Connection) -> None:
    # A writer takes the write lock at BEGIN, so it waits for another writer (busy_timeout)
    # instead of failing with SQLITE_BUSY when it upgrades from reading to writing.
    write = connection.get_execution_options().get(_WRITE, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def _postgresql_engine(url: URL) -> Engine:
    connect_args: dict[str, Any] = {"application_name": "monitord"}
    if "connect_timeout" not in url.query:
        connect_args["connect_timeout"] = 10  # a black-holed host must not hang the start
    return create_engine(
        url,
        pool_pre_ping=True,  # the server may have restarted since the connection was pooled
        pool_size=5,
        max_overflow=5,
        connect_args=connect_args,
        json_serializer=_json,
    )


def _require_aware(value: dt.datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value.isoformat()} refused: the store keeps UTC")


def _require_unique(what: str, ids: Sequence[str]) -> None:
    if len(set(ids)) != len(ids):
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        raise ValueError(f"duplicate {what} ids: {', '.join(duplicates)}")


def _upsert_site(session: Session, row: Site | None, site: SiteRecord, now: dt.datetime) -> None:
    values: dict[str, str | None] = {
        "name": site.name, "timezone": site.timezone, "zone": site.zone, "contract": site.contract
    }  # fmt: skip
    if row is None:
        session.add(Site(id=site.id, updated_at=now, **values))
    elif any(getattr(row, k) != v for k, v in values.items()):
        for k, v in values.items():
            setattr(row, k, v)
        row.updated_at = now


def _new_device(record: DeviceRecord, now: dt.datetime) -> Device:
    values = {name: getattr(record, name) for name in _ARCHIVE_FIELDS}
    values["parents"] = list(record.parents)
    return Device(id=record.id, first_seen=now, updated_at=now, removed_at=None, **values)


def _archive_diff(row: Device, record: DeviceRecord) -> dict[str, tuple[Any, Any]]:
    diffs = {}
    for name in _ARCHIVE_FIELDS:
        old, new = getattr(row, name), getattr(record, name)
        if name == "parents":
            old = tuple(old)
        if old != new:
            diffs[name] = (old, new)
    return diffs


def _describe(diffs: Mapping[str, tuple[Any, Any]]) -> str:
    def show(value: Any) -> str:
        if value is None or value == "":
            return "-"
        return ", ".join(value) if isinstance(value, tuple) else str(value)

    return "; ".join(f"{name}: {show(old)} -> {show(new)}" for name, (old, new) in diffs.items())


def _archive_event(
    device_id: str,
    now: dt.datetime,
    reason: str,
    diffs: Mapping[str, tuple[Any, Any]] | None = None,
) -> OperationEventRow:
    changes = {k: [_jsonable(old), _jsonable(new)] for k, (old, new) in (diffs or {}).items()}
    observation = {"changes": changes} if changes else {}
    return OperationEventRow(
        device_id=device_id, at=now, kind="archive", from_state=None, to_state=None,
        reason=reason, observation=observation,
    )  # fmt: skip


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    return list(value) if isinstance(value, tuple) else value


def _event_row(e: OperationEvent) -> OperationEventRow:
    return OperationEventRow(
        device_id=e.device_id, at=e.at, kind=e.kind, from_state=e.from_state,
        to_state=e.to_state, reason=e.reason, observation=dict(e.observation),
    )  # fmt: skip


def _upsert_state(dialect: str, state: SavedState) -> Any:
    values = {
        "device_id": state.device_id,
        "state": state.state,
        "since": state.since,
        "last_check": state.last_check,
        "reason": state.reason,
    }
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(DeviceState).values(values)
    return stmt.on_conflict_do_update(
        index_elements=[DeviceState.device_id],
        set_={k: stmt.excluded[k] for k in values if k != "device_id"},
    )


def _saved_state(r: DeviceState) -> SavedState:
    return SavedState(r.device_id, r.state, r.since, r.last_check, r.reason)


def _device_record(row: Device) -> DeviceRecord:
    values = {name: getattr(row, name) for name in _ARCHIVE_FIELDS}
    values["parents"] = tuple(row.parents)
    return DeviceRecord(id=row.id, **values)


def _operation_event(r: OperationEventRow) -> OperationEvent:
    return OperationEvent(
        r.device_id, r.at, r.kind, r.from_state, r.to_state, r.reason, dict(r.observation)
    )
