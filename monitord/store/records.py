"""Plain records that cross the store boundary; nothing outside `store` sees SQLAlchemy."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

# Tickets.recent's default page, and the read-only commands' (store/peek.py).
RECENT_LIMIT = 500


@dataclass(frozen=True, slots=True)
class InventoryDiff:
    """What a sync of the archive with the configuration did, by device id."""

    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()


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


@dataclass(frozen=True, slots=True)
class WindowRecord:
    """A maintenance window started by hand (CLI, API)."""

    id: int  # 0 for a window not yet stored
    site_id: str | None
    device_id: str | None
    kind: str | None
    starts_at: dt.datetime
    ends_at: dt.datetime
    reason: str
    created_by: str
    created_at: dt.datetime
    ended_early_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class MetricHour:
    device_id: str
    metric: str
    subject: str  # volume, port or sensor index; "" for a device-wide metric
    hour: int  # hours since the Unix epoch (UTC)
    n: int
    total: float
    low: float
    high: float

    @property
    def mean(self) -> float:
        return self.total / self.n


@dataclass(frozen=True, slots=True)
class SeriesSums:
    """Least-squares sums of one series' hourly means; x is hours since `base`."""

    device_id: str
    subject: str
    base: int
    n: int
    sx: float
    sy: float
    sxy: float
    sxx: float
    syy: float
    first: int  # first and last hour present (absolute)
    last: int


@dataclass(frozen=True, slots=True)
class InspectionTask:
    """One inspection owed for a site, a device kind and a calendar period (P1).

    `items` is the checklist as it was when the task was made: [{"id", "en", "zh"}, ...].
    `completed_at` is set when every item has a result (failed ones included).
    """

    id: int
    contract: str
    site_id: str
    kind: str
    plan: str
    period: str  # "2026-03" or "2026-Q1"
    period_start: dt.date
    due_at: dt.datetime  # the period's end on the site's clock, UTC
    items: tuple[dict[str, str], ...]
    created_at: dt.datetime
    completed_at: dt.datetime | None = None

    def overdue(self, now: dt.datetime) -> bool:
        return self.completed_at is None and now >= self.due_at


@dataclass(frozen=True, slots=True)
class InspectionResult:
    task_id: int
    item: str
    result: str  # "pass" or "fail"
    by: str
    at: dt.datetime
    note: str = ""
    device_id: str | None = None  # the device the result is about, if one
    ticket_id: int | None = None  # the ticket a failure opened
    id: int = 0  # assigned by the store


@dataclass(frozen=True, slots=True)
class FollowUpVisit:
    """One customer follow-up visit and its survey (用户回访反馈信息表, P4).

    Ratings are 1 (very dissatisfied) to 5 (very satisfied); `score` is the overall
    satisfaction score, 0-100, when the customer gave one.
    """

    contract: str
    site_id: str
    visited_at: dt.datetime
    by: str  # the engineer or service-centre clerk
    contact: str = ""  # who answered for the customer
    attitude: int | None = None  # 服务态度
    responsibility: int | None = None  # 责任心
    effect: int | None = None  # 服务效果
    score: int | None = None  # 满意度评分
    problems: str = ""  # 发现的问题
    suggestions: str = ""  # 意见和建议
    quality_problem: bool = False  # 确属工程质量问题
    ticket_id: int | None = None
    id: int = 0  # assigned by the store
    extra: dict[str, Any] = field(default_factory=dict)


# The web console's accounts (store/accounts.py).
@dataclass(frozen=True, slots=True)
class UserRecord:
    id: int
    name: str
    display_name: str
    role: str
    contract: str | None
    sites: tuple[str, ...]
    password_hash: str
    disabled: bool
    failures: int
    locked_until: dt.datetime | None


@dataclass(frozen=True, slots=True)
class IdentityRecord:
    """A provider's user (WeCom / DingTalk / Feishu) linked to a console user."""

    provider: str
    subject: str
    user_name: str
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class SessionRecord:
    token_hash: str
    user: UserRecord
    csrf: str
    seen_at: dt.datetime
    expires_at: dt.datetime


@dataclass(frozen=True, slots=True)
class LinkRecord:
    """A one-time sign-in link (console_links) with the user it signs in."""

    user: UserRecord
    ticket_id: int
    expires_at: dt.datetime
    used_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class ContactLinkRecord:
    """A one-time link sent to a customer contact (no account): what it is for, to whom."""

    purpose: str  # signoff, survey
    contact: str
    ticket_id: int
    expires_at: dt.datetime
    used_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class MacSighting:
    """A MAC learned on an access port of a switch (its device id) in a VLAN."""

    mac: str
    switch: str
    port: str
    vlan: int = 0

    @property
    def position(self) -> tuple[str, str]:
        return (self.switch, self.port)  # a VLAN change alone is no move


@dataclass(frozen=True, slots=True)
class MacMove:
    """A MAC now seen at another position than its last one (`since`: last seen there)."""

    before: MacSighting
    after: MacSighting
    since: dt.datetime


@dataclass(frozen=True, slots=True)
class DiscoveryRun:
    """A discovery run as kept (store.discovery): `proposal` is its change set as data
    (discovery/plan.py Proposal.data, each change with its record), set once it is done."""

    id: str
    site: str
    by: str
    where: str
    state: str
    started: dt.datetime
    finished: dt.datetime | None = None
    reason: str = ""
    error: str = ""
    proposal: dict[str, Any] | None = None
    applied: dict[str, Any] | None = None
    reloaded: bool | None = None
