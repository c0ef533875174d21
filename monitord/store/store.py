"""The persistent store: the equipment archive, last HARD states, operation records, tickets.

Synchronous on purpose: the daemon calls it through `asyncio.to_thread`. Every call opens
its own session and transaction, so threads never share a session or a connection. Engine
setup lives in `engine`, sessions and error wrapping in `core`, ticket methods in `tickets`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session

from monitord.store import migrate
from monitord.store.accounts import AccountMethods
from monitord.store.core import require_aware as _require_aware
from monitord.store.engine import postgresql_engine, sqlite_engine
from monitord.store.errors import StoreError
from monitord.store.facts import FactMethods, with_facts
from monitord.store.history import HistoryMethods
from monitord.store.maintenance import MaintenanceMethods
from monitord.store.metric_history import MetricHistoryMethods
from monitord.store.prevention import PreventionMethods
from monitord.store.records import DeviceRecord, OperationEvent, SavedState, SiteRecord
from monitord.store.schema import Base, Device, DeviceState, OperationEventRow, Site, UTCDateTime
from monitord.store.tickets import TicketMethods

__all__ = ["InventoryDiff", "Store", "StoreError"]

_ARCHIVE_FIELDS = tuple(f.name for f in fields(DeviceRecord) if f.name != "id")


@dataclass(frozen=True, slots=True)
class InventoryDiff:
    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()


class Store(
    TicketMethods,
    HistoryMethods,
    MetricHistoryMethods,
    MaintenanceMethods,
    PreventionMethods,
    FactMethods,
    AccountMethods,
):
    """The database; ticket methods come from `TicketMethods`, sessions from `StoreCore`."""

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
        self.record_state_changes([(event, state)])

    def record_state_changes(self, changes: Sequence[tuple[OperationEvent, SavedState]]) -> None:
        """Several state changes in order, in one transaction: all of them or none."""
        if not changes:
            return
        first = changes[0][0].device_id
        what = (
            f"record a state change of {first}"
            if len(changes) == 1
            else f"record {len(changes)} state changes ({first}, ...)"
        )
        # One statement each for the events and the states, executed for many rows: built
        # and compiled once, not once per change (that cost ms per row in a storm).
        events = [_event_values(event) for event, _ in changes]
        latest = {state.device_id: _state_values(state) for _, state in changes}
        with self._session(what, write=True) as s:
            s.execute(insert(OperationEventRow), events)
            s.execute(_upsert_state(s.get_bind().dialect.name), list(latest.values()))

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

    def archive(self, device_id: str) -> DeviceRecord | None:
        """The device's archive: the configuration's fields, and what the device reports
        where the configuration says nothing (the configuration wins)."""
        record = self.device(device_id)
        return None if record is None else with_facts(record, self.facts(device_id))

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

    def latest_events(self, kind: str) -> dict[str, dt.datetime]:
        """When each device last had an operation event of this kind ("reboot", …)."""
        query = (
            select(OperationEventRow.device_id, func.max(OperationEventRow.at))
            .where(OperationEventRow.kind == kind)
            .group_by(OperationEventRow.device_id)
        )
        with self._session(f"read the latest {kind} events") as s:
            return {device: at for device, at in s.execute(query) if at is not None}


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


def _event_values(e: OperationEvent) -> dict[str, Any]:
    return {
        "device_id": e.device_id, "at": e.at, "kind": e.kind, "from_state": e.from_state,
        "to_state": e.to_state, "reason": e.reason, "observation": dict(e.observation),
    }  # fmt: skip


def _state_values(state: SavedState) -> dict[str, Any]:
    return {
        "device_id": state.device_id,
        "state": state.state,
        "since": state.since,
        "last_check": state.last_check,
        "reason": state.reason,
    }


def _upsert_state(dialect: str) -> Any:
    """INSERT … ON CONFLICT UPDATE of a device's state; the values come with the execute."""
    insert_ = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert_(DeviceState)
    return stmt.on_conflict_do_update(
        index_elements=[DeviceState.device_id],
        set_={k: stmt.excluded[k] for k in ("state", "since", "last_check", "reason")},
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
