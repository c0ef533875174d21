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
    dedup_key: str  # a fault's "contract/root device" (0010); one active ticket per key
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


@dataclass(frozen=True, slots=True)
class OutboxRecord:
    """A message to send, as produced from a ticket event; the store adds the bookkeeping.

    `key` is None for a message caused by a ticket event: the store then makes the
    idempotency key "ticket_id/seq/channel/recipient" when it knows the id and the seq.
    """

    channel: str
    recipient: str
    subject: str
    body: str
    not_before: dt.datetime | None = None  # None: as soon as the event is written
    key: str | None = None


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """One row of the outbox: pending -> sending -> sent | failed (or back to pending)."""

    id: int
    idempotency_key: str
    ticket_id: int | None
    channel: str
    recipient: str
    subject: str
    body: str
    created_at: dt.datetime
    not_before: dt.datetime
    attempts: int  # claims so far, counted when claimed: a crash mid-send counts too
    state: str
    claimed_until: dt.datetime | None
    last_error: str | None
    sent_at: dt.datetime | None
    group_key: str | None = None  # the key of the grouped message it went out in


@dataclass(frozen=True, slots=True)
class DeviceFact:
    """One thing a device said about itself ("firmware", "vendor", "sys_descr", …)."""

    device_id: str
    name: str
    value: str
    source: str  # the probe that asked: "snmp", "onvif"
    observed_at: dt.datetime
    changed_at: dt.datetime
