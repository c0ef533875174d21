"""The equipment archive (`store.devices`): sites, devices, and their sync with the config."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, insert, select, text
from sqlalchemy.orm import Session

from monitord.store.core import Repository, StoreCore, require_aware
from monitord.store.facts import Facts, with_facts
from monitord.store.records import DeviceRecord, InventoryDiff, SiteRecord
from monitord.store.rows import ARCHIVE_FIELDS, device_record, site_record
from monitord.store.schema import Device, OperationEventRow, Site

_ARCHIVE_FIELDS = ARCHIVE_FIELDS
_ARCHIVE_COLUMNS = tuple(getattr(Device, name) for name in ("id", *_ARCHIVE_FIELDS))


class Devices(Repository):
    def __init__(self, core: StoreCore, facts: Facts) -> None:
        super().__init__(core)
        self._facts = facts  # the archive shows what a device says where the config is silent

    def sync(
        self,
        sites: Sequence[SiteRecord],
        devices: Sequence[DeviceRecord],
        now: dt.datetime,
        among: Collection[str] | None = None,
    ) -> InventoryDiff:
        """Make the archive match the configuration, in one transaction.

        Devices missing from `devices` are flagged removed, never deleted: their archive and
        operation record outlive them. Changes to a known device's archive fields, its
        removal and its return are appended to its operation record.

        `among`: only these devices and those of `devices` are compared, the others are
        left as they are (a device among them that `devices` lacks is removed): a
        reload's change against the configuration synced before (`changed_records` in
        inventory/archive.py). Reading all 10 000 rows to find the 1 % that changed was
        most of a reload's sync.
        """
        require_aware(now)
        _require_unique("site", [s.id for s in sites])
        _require_unique("device", [d.id for d in devices])
        added: list[str] = []
        changed: list[str] = []
        with self._session("synchronise the inventory", write=True) as session:
            if session.get_bind().dialect.name == "postgresql":
                # Centres started side by side (centre HA) sync the same new archive: each
                # read "no such site" and the second's insert failed on the first's row.
                # One sync at a time, held to the end of this transaction (readers go on;
                # SQLite's writer lock does this already).
                session.execute(text("LOCK TABLE sites IN SHARE ROW EXCLUSIVE MODE"))
            known_sites = {s.id: s for s in session.scalars(select(Site))}
            for site in sites:
                _upsert_site(session, known_sites.get(site.id), site, now)
            session.flush()  # sites first: devices refer to them
            # Compared as columns; only the rows that change are loaded as ORM objects
            # (10 000 of them were most of a reload's archive sync).
            query = select(*_ARCHIVE_COLUMNS, Device.removed_at)
            if among is None:
                known = {r.id: r for r in session.execute(query)}
            else:
                known = {}
                for some in _bounded(sorted({*among, *(d.id for d in devices)})):
                    known.update((r.id, r) for r in session.execute(query.where(some)))
            touched: dict[str, tuple[bool, dict[str, tuple[Any, Any]]]] = {}
            new: list[dict[str, Any]] = []
            for record in devices:
                row = known.get(record.id)
                if row is None:
                    new.append(_new_device(record, now))
                    added.append(record.id)
                    continue
                back = row.removed_at is not None
                if back:
                    added.append(record.id)
                diffs = _archive_diff(row, record)
                if back or diffs:
                    touched[record.id] = (back, diffs)
            # Rows, not ORM objects: a first start's 10 000 mapped instances and their unit of
            # work were a ~30 MB peak the daemon then kept as resident memory.
            for start in range(0, len(new), 1000):
                session.execute(insert(Device), new[start : start + 1000])
            wanted = {d.id for d in devices}
            removed = sorted(i for i, r in known.items() if i not in wanted and not r.removed_at)
            ids = [*touched, *removed]
            rows: dict[str, Device] = {}
            for some in _bounded(ids):
                rows.update((d.id, d) for d in session.scalars(select(Device).where(some)))
            for device_id, (back, diffs) in touched.items():
                device = rows[device_id]
                if back:
                    device.removed_at = None
                    session.add(_archive_event(device_id, now, "back in the configuration"))
                if diffs:
                    for name, (_, new) in diffs.items():
                        setattr(device, name, list(new) if name == "parents" else new)
                    device.updated_at = now
                    changed.append(device_id)
                    session.add(_archive_event(device_id, now, _describe(diffs), diffs))
            for device_id in removed:
                rows[device_id].removed_at = now
                session.add(_archive_event(device_id, now, "removed from the configuration"))
        return InventoryDiff(tuple(added), tuple(changed), tuple(removed))

    def get(self, device_id: str) -> DeviceRecord | None:
        with self._session(f"read device {device_id}") as s:
            row = s.get(Device, device_id)
            return None if row is None else device_record(row)

    def archive(self, device_id: str) -> DeviceRecord | None:
        """The device's archive: the configuration's fields, and what the device reports
        where the configuration says nothing (the configuration wins)."""
        record = self.get(device_id)
        return None if record is None else with_facts(record, self._facts.of(device_id))

    def all(self, include_removed: bool = False, site: str | None = None) -> list[DeviceRecord]:
        # Columns, not ORM objects: building 10 000 mapped instances was 3/4 of the read.
        query = select(*_ARCHIVE_COLUMNS).order_by(Device.id)
        if site is not None:  # one site's page need not read 20 000 (bench/pollers.py)
            query = query.where(Device.site_id == site)
        if not include_removed:
            query = query.where(Device.removed_at.is_(None))
        with self._session("read devices") as s:
            return [device_record(r) for r in s.execute(query)]

    def sites(self) -> list[SiteRecord]:
        with self._session("read sites") as s:
            return [site_record(r) for r in s.scalars(select(Site).order_by(Site.id))]


def _bounded(ids: Sequence[str], each: int = 500) -> Iterator[ColumnElement[bool]]:
    """`Device.id IN (...)` for `each` ids at a time (SQLite's variable limit)."""
    for start in range(0, len(ids), each):
        yield Device.id.in_(ids[start : start + each])


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


def _new_device(record: DeviceRecord, now: dt.datetime) -> dict[str, Any]:
    values = {name: getattr(record, name) for name in _ARCHIVE_FIELDS}
    values["parents"] = list(record.parents)
    return {"id": record.id, "first_seen": now, "updated_at": now, "removed_at": None, **values}


def _archive_diff(row: object, record: DeviceRecord) -> dict[str, tuple[Any, Any]]:
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
