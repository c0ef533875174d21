"""From a stored row to its record, for every reader of the store: the repositories (rows
from SQLAlchemy) and the read-only commands' reader (store/peek.py, rows from sqlite3).

Any object whose attributes are named like the table's columns and typed like their
values will do, so this module imports no SQLAlchemy and both readers share one mapping.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from monitord.store.records import (
    DeviceRecord,
    SavedState,
    SiteRecord,
    TicketEventRecord,
    TicketRecord,
)

ARCHIVE_FIELDS = tuple(f.name for f in fields(DeviceRecord) if f.name != "id")


def device_record(row: Any) -> DeviceRecord:
    values = {name: getattr(row, name) for name in ARCHIVE_FIELDS}
    values["parents"] = tuple(row.parents)
    return DeviceRecord(id=row.id, **values)


def site_record(r: Any) -> SiteRecord:
    return SiteRecord(r.id, r.name, r.timezone, r.zone, r.contract)


def saved_state(r: Any) -> SavedState:
    return SavedState(r.device_id, r.state, r.since, r.last_check, r.reason)


def ticket_record(r: Any) -> TicketRecord:
    return TicketRecord(
        id=r.id, dedup_key=r.dedup_key, contract=r.contract, site_id=r.site_id,
        root_device=r.root_device, fault_kind=r.fault_kind, ticket_class=r.ticket_class,
        rule=r.rule, status=r.status, paused=bool(r.paused), recovered=bool(r.recovered),
        title=r.title, impacted=tuple(r.impacted), opened_at=r.opened_at,
        updated_at=r.updated_at, version=r.version,
    )  # fmt: skip


def event_record(r: Any) -> TicketEventRecord:
    return TicketEventRecord(r.ticket_id, r.seq, r.at, r.kind, r.actor, r.text, dict(r.data))
