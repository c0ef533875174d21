"""Plain records that cross the store boundary; nothing outside `store` sees SQLAlchemy."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class SiteRecord:
    id: str
    name: str
    timezone: str
    zone: str  # "city" or "county"
    contract: str | None


@dataclass(frozen=True, slots=True)
class DeviceRecord:
    """One row of the equipment archive (设备档案)."""

    id: str
    site_id: str
    name: str
    kind: str
    address: str
    parents: tuple[str, ...] = ()
    criticality: str = "normal"
    vendor: str | None = None
    model: str | None = None
    serial: str | None = None
    firmware: str | None = None
    install_date: dt.date | None = None
    warranty_end: dt.date | None = None
    location: str | None = None


@dataclass(frozen=True, slots=True)
class SavedState:
    """The last HARD state of a device, as persisted; all instants are UTC."""

    device_id: str
    state: str
    since: dt.datetime
    last_check: dt.datetime | None
    reason: str


@dataclass(frozen=True, slots=True)
class OperationEvent:
    """One entry of a device's operation record (设备运行情况记录)."""

    device_id: str
    at: dt.datetime
    kind: str  # "state", "archive" (archive fields changed), later "reboot", "firmware", …
    from_state: str | None
    to_state: str | None
    reason: str
    observation: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TicketRecord:
    """A ticket's row: a cache of what its event log says, rewritten with every event."""

    id: int
    dedup_key: str  # "contract/root device/fault kind"; one active ticket per key
    contract: str
    site_id: str
    root_device: str | None  # None for a hotline ticket about no device
    fault_kind: str
    ticket_class: str | None  # None: a hotline ticket not yet classified
    rule: str  # the rule that set the class ("nvr-down"), or "manual"
    status: str
    paused: bool
    recovered: bool
    title: str
    impacted: tuple[str, ...]
    opened_at: dt.datetime
    updated_at: dt.datetime
    version: int  # number of events; guards concurrent writers


@dataclass(frozen=True, slots=True)
class TicketEventRecord:
    ticket_id: int
    seq: int  # 1 for "opened", then 2, 3, … without gaps
    at: dt.datetime
    kind: str
    by: str
    text: str
    data: dict[str, Any] = field(default_factory=dict)
