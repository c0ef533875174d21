"""Tables of the store, as SQLAlchemy 2 declarative models.

These models describe the schema for queries and for autogenerate; the schema itself is
created by the Alembic migrations, which are frozen copies and never import this module.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import text as sql_text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

UTC = dt.UTC

# Deterministic constraint names, so later migrations can drop or alter them by name
# (SQLite batch mode needs names to recreate tables).
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """An instant: written only when timezone-aware, always read back as aware UTC.

    SQLite has no timezone type and SQLAlchemy drops tzinfo when formatting, so the value
    is normalised to UTC before it is stored; PostgreSQL returns timestamptz in the
    session's zone, so it is normalised again on the way out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, dt.datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} refused: the store keeps UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        assert isinstance(value, dt.datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Site(Base):
    __tablename__ = "sites"

    id: Mapped[str] = mapped_column(primary_key=True)
    name: Mapped[str]
    timezone: Mapped[str]
    zone: Mapped[str]
    contract: Mapped[str | None]
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class Device(Base):
    """The equipment archive (设备档案): rows are flagged removed, never deleted."""

    __tablename__ = "devices"

    id: Mapped[str] = mapped_column(primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), index=True)
    name: Mapped[str]
    kind: Mapped[str]
    address: Mapped[str]
    parents: Mapped[list[str]] = mapped_column(JSON)
    criticality: Mapped[str]
    vendor: Mapped[str | None]
    model: Mapped[str | None]
    serial: Mapped[str | None]
    firmware: Mapped[str | None]
    install_date: Mapped[dt.date | None] = mapped_column(Date)
    warranty_end: Mapped[dt.date | None] = mapped_column(Date)
    location: Mapped[str | None]
    first_seen: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    removed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class DeviceState(Base):
    """The last HARD state of each device, so a restart repeats no transition."""

    __tablename__ = "device_state"

    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id"), primary_key=True)
    state: Mapped[str]
    since: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    last_check: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(Text)


class OperationEventRow(Base):
    """One entry of a device's operation record (设备运行情况记录); append-only."""

    __tablename__ = "operation_events"
    __table_args__ = (Index("ix_operation_events_device_id_at", "device_id", "at"),)

    # BIGINT on PostgreSQL for a record that is never pruned; SQLite autoincrements only an
    # INTEGER primary key (the rowid).
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str]
    from_state: Mapped[str | None]
    to_state: Mapped[str | None]
    reason: Mapped[str] = mapped_column(Text)
    observation: Mapped[dict[str, Any]] = mapped_column(JSON)


# The dedup index covers active tickets only: a fault has at most one active ticket, and
# any number of closed ones. Spelled identically for both backends and in migration 0002.
ACTIVE_TICKET = "status <> 'closed'"
ACTIVE_DEDUP_INDEX = "uq_tickets_active_dedup_key"


class Ticket(Base):
    """A ticket's current state: a cache of its event log, rewritten with every event."""

    __tablename__ = "tickets"
    __table_args__ = (
        # One active ticket per fault, enforced by the database itself, so a restart, a
        # crash or two daemons racing cannot open a second one.
        Index(
            ACTIVE_DEDUP_INDEX,
            "dedup_key",
            unique=True,
            sqlite_where=sql_text(ACTIVE_TICKET),
            postgresql_where=sql_text(ACTIVE_TICKET),
        ),
        # For last_closed_ticket: the partial index above does not hold closed tickets.
        Index("ix_tickets_dedup_key", "dedup_key"),
        Index("ix_tickets_status", "status"),
        Index("ix_tickets_contract_status", "contract", "status"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    dedup_key: Mapped[str] = mapped_column(Text)
    contract: Mapped[str]
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"))
    root_device: Mapped[str | None] = mapped_column(ForeignKey("devices.id"))
    fault_kind: Mapped[str]
    ticket_class: Mapped[str | None]
    rule: Mapped[str]
    status: Mapped[str]
    paused: Mapped[bool] = mapped_column(Boolean)
    recovered: Mapped[bool] = mapped_column(Boolean)
    title: Mapped[str] = mapped_column(Text)
    impacted: Mapped[list[str]] = mapped_column(JSON)
    opened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer)  # number of events
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


IDEM_CONSTRAINT = "uq_ticket_events_idem"


class TicketEventRow(Base):
    """One entry of a ticket's log; append-only, numbered 1, 2, 3, … without gaps."""

    __tablename__ = "ticket_events"
    # Also the index for reading a ticket's log in order.
    __table_args__ = (
        UniqueConstraint("ticket_id", "seq", name="uq_ticket_events_ticket_id_seq"),
        # A console action's idempotency key: a phone's queue resending it adds nothing.
        UniqueConstraint("idem", name=IDEM_CONSTRAINT),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    ticket_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), ForeignKey("tickets.id")
    )
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str]
    actor: Mapped[str]  # TicketEventRecord.by; BY is an SQL keyword
    text: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    idem: Mapped[str | None] = mapped_column(String(64))  # NULL for all but console actions


class OutboxRow(Base):
    """A notification waiting to go out, written with the ticket event that causes it."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_state_not_before", "state", "not_before"),
        Index("ix_outbox_state_sent_at", "state", "sent_at"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    idempotency_key: Mapped[str] = mapped_column(Text, unique=True)
    ticket_id: Mapped[int | None] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), ForeignKey("tickets.id")
    )
    channel: Mapped[str]
    recipient: Mapped[str] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    not_before: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer)
    state: Mapped[str]  # pending, sending, sent, failed
    claimed_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # The idempotency key of the (grouped) message this row went out in: set when claimed.
    group_key: Mapped[str | None] = mapped_column(Text)


class DeviceFactRow(Base):
    """What a device says about itself (vendor, firmware, sysDescr …), per probe that asked
    (each its own wording of a firmware); kept apart from the configured archive, which stays
    the operator's word and wins where both speak."""

    __tablename__ = "device_facts"

    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id"), primary_key=True)
    source: Mapped[str] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    observed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class MetricHourRow(Base):
    """One device metric rolled up over one UTC hour (early warnings, P2); pruned by age.

    `hour` counts hours since the Unix epoch, so a trend's least-squares sums are plain SQL
    arithmetic on both backends. `subject` names the volume, port or sensor ("" if none).
    """

    __tablename__ = "metric_hours"
    # Trends read one metric over a span from the index alone; pruning deletes by hour.
    __table_args__ = (
        Index(
            "ix_metric_hours_metric_hour", "metric", "hour", "device_id", "subject", "n", "total"
        ),
        Index("ix_metric_hours_hour", "hour"),
    )

    device_id: Mapped[str] = mapped_column(primary_key=True)
    metric: Mapped[str] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(primary_key=True)
    hour: Mapped[int] = mapped_column(Integer, primary_key=True)
    n: Mapped[int] = mapped_column(Integer)
    total: Mapped[float] = mapped_column(Float)
    low: Mapped[float] = mapped_column(Float)
    high: Mapped[float] = mapped_column(Float)


class MaintenanceWindowRow(Base):
    """A window started by hand (CLI, API); configured windows live in the configuration."""

    __tablename__ = "maintenance_windows"
    __table_args__ = (Index("ix_maintenance_windows_ends_at", "ends_at"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    site_id: Mapped[str | None]
    device_id: Mapped[str | None]
    kind: Mapped[str | None]
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str]
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    ended_early_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


# Inspections and follow-up visits (P1, P4): the database refuses a second task for one
# (contract, site, kind, period), so creating tasks is idempotent across restarts and daemons.
_BIG = BigInteger().with_variant(Integer, "sqlite")


class InspectionTaskRow(Base):
    __tablename__ = "inspection_tasks"
    __table_args__ = (
        UniqueConstraint(
            "contract", "site_id", "kind", "period", name="uq_inspection_tasks_period"
        ),
        Index("ix_inspection_tasks_due_at", "due_at"),
    )

    id: Mapped[int] = mapped_column(_BIG, primary_key=True, autoincrement=True)
    contract: Mapped[str]
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"))
    kind: Mapped[str]
    plan: Mapped[str]
    period: Mapped[str]
    period_start: Mapped[dt.date] = mapped_column(Date)
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    items: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class InspectionResultRow(Base):
    """One recorded result; append-only, the latest per item (and device) counts."""

    __tablename__ = "inspection_results"
    __table_args__ = (Index("ix_inspection_results_task_id", "task_id"),)

    id: Mapped[int] = mapped_column(_BIG, primary_key=True, autoincrement=True)
    task_id: Mapped[int] = mapped_column(_BIG, ForeignKey("inspection_tasks.id"))
    item: Mapped[str]
    device_id: Mapped[str | None]
    result: Mapped[str]
    note: Mapped[str] = mapped_column(Text)
    actor: Mapped[str]
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    ticket_id: Mapped[int | None] = mapped_column(_BIG, ForeignKey("tickets.id"))


class FollowUpVisitRow(Base):
    __tablename__ = "followup_visits"
    __table_args__ = (Index("ix_followup_visits_site_id_visited_at", "site_id", "visited_at"),)

    id: Mapped[int] = mapped_column(_BIG, primary_key=True, autoincrement=True)
    contract: Mapped[str]
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"))
    visited_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str]
    contact: Mapped[str] = mapped_column(Text)
    attitude: Mapped[int | None] = mapped_column(Integer)
    responsibility: Mapped[int | None] = mapped_column(Integer)
    effect: Mapped[int | None] = mapped_column(Integer)
    score: Mapped[int | None] = mapped_column(Integer)
    problems: Mapped[str] = mapped_column(Text)
    suggestions: Mapped[str] = mapped_column(Text)
    quality_problem: Mapped[bool] = mapped_column(Boolean)
    ticket_id: Mapped[int | None] = mapped_column(_BIG, ForeignKey("tickets.id"))
    extra: Mapped[dict[str, Any]] = mapped_column(JSON)


class ConsoleUserRow(Base):
    """A person who signs in to the web console (monitord/console/). The password is only
    ever stored as an argon2id hash; `contract` and `sites` bind a customer to its tenancy."""

    __tablename__ = "console_users"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    name: Mapped[str] = mapped_column(unique=True)
    display_name: Mapped[str] = mapped_column(Text)
    role: Mapped[str]
    contract: Mapped[str | None]
    sites: Mapped[list[str]] = mapped_column(JSON)  # empty: every site of the contract
    password_hash: Mapped[str] = mapped_column(Text)
    disabled: Mapped[bool] = mapped_column(Boolean)
    failures: Mapped[int] = mapped_column(Integer)  # wrong passwords in a row
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class ConsoleLinkRow(Base):
    """A one-time sign-in link sent to a person about a ticket: only its hash is kept;
    `used_at` is set by the one request that redeems it."""

    __tablename__ = "console_links"
    __table_args__ = (Index("ix_console_links_expires_at", "expires_at"),)

    token_hash: Mapped[str] = mapped_column(primary_key=True)
    # None for a customer contact's link (sign-off, survey): it signs nobody in.
    user_id: Mapped[int | None] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), ForeignKey("console_users.id")
    )
    ticket_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), ForeignKey("tickets.id")
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    purpose: Mapped[str] = mapped_column(server_default="signin")  # signin, signoff, survey
    contact: Mapped[str | None] = mapped_column(Text)  # the customer contact it was sent to


class ConsoleSessionRow(Base):
    """A signed-in browser. Only a hash of the cookie's value is kept, so a copy of the
    database signs nobody in; deleting a user's rows signs them out everywhere."""

    __tablename__ = "console_sessions"
    __table_args__ = (Index("ix_console_sessions_user_id", "user_id"),)

    token_hash: Mapped[str] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), ForeignKey("console_users.id")
    )
    csrf: Mapped[str]
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class ConsoleIdentityRow(Base):
    """A WeCom / DingTalk / Feishu user linked to a console user by the operator
    (`monitord users link`): the only way an in-app sign-in finds an account."""

    __tablename__ = "console_identities"
    __table_args__ = (Index("ix_console_identities_user_id", "user_id"),)

    provider: Mapped[str] = mapped_column(Text, primary_key=True)
    subject: Mapped[str] = mapped_column(Text, primary_key=True)  # the provider's user id
    user_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), ForeignKey("console_users.id")
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class PollerRow(Base):
    """A site poller enrolled (or waiting to be) at the centre; its credential is a hash.

    `acked_seq` is the highest sequence of its journal applied here, contiguously: the
    centre dedups by (poller, sequence), so a replayed batch applies nothing twice.
    """

    __tablename__ = "pollers"

    id: Mapped[str] = mapped_column(primary_key=True)
    sites: Mapped[list[str]] = mapped_column(JSON)
    token_hash: Mapped[str | None] = mapped_column(Text, unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    enrolled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_seen: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    acked_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    version: Mapped[str | None] = mapped_column(Text)
    silent_since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Measured at each push: centre clock minus poller clock (s), and what the poller said
    # it has not had acknowledged yet.
    clock_offset: Mapped[float | None] = mapped_column(Float)
    backlog: Mapped[int | None] = mapped_column(BigInteger)


class PollerCodeRow(Base):
    """A one-time enrolment code, stored as its SHA-256: single use, it expires."""

    __tablename__ = "poller_codes"

    code_hash: Mapped[str] = mapped_column(Text, primary_key=True)
    poller_id: Mapped[str] = mapped_column(ForeignKey("pollers.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class MacPositionRow(Base):
    """Where a MAC was learned on an access port (issue 17, X3): one row per position, its
    first and last sighting; the newest `last_seen` of a MAC is where it is now. A MAC seen
    elsewhere is a move (a drift finding); back at an old position, that row is seen again."""

    __tablename__ = "mac_positions"
    __table_args__ = (Index("ix_mac_positions_site_mac", "site_id", "mac", "last_seen"),)

    site_id: Mapped[str] = mapped_column(Text, primary_key=True)
    mac: Mapped[str] = mapped_column(Text, primary_key=True)
    switch: Mapped[str] = mapped_column(Text, primary_key=True)  # the switch's device id
    port: Mapped[str] = mapped_column(Text, primary_key=True)  # the port's name (ifName)
    vlan: Mapped[int] = mapped_column(Integer, primary_key=True)
    first_seen: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    last_seen: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class CentreLeaseRow(Base):
    """Who leads the centre's singleton work (store/lease.py): one row per lease name.

    `epoch` grows by one at every change of holder; a singleton write checks it in its own
    transaction (a fencing token), so a leader that lost the row cannot write any more.
    """

    __tablename__ = "centre_lease"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(Text)
    epoch: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class DiscoveryRunRow(Base):
    """A discovery run of a site (issue 17) and its change set until someone applies it
    (store/discovery.py): a restarted daemon shows and applies the proposal it had."""

    __tablename__ = "discovery_runs"
    __table_args__ = (Index("ix_discovery_runs_site_started", "site_id", "started"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    site_id: Mapped[str] = mapped_column(Text)
    by_user: Mapped[str] = mapped_column(Text)  # who started it (console or CLI user)
    runs_at: Mapped[str] = mapped_column(Text)  # "centre" or the site poller's id
    state: Mapped[str] = mapped_column(String(16))
    started: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    finished: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(Text)
    error: Mapped[str] = mapped_column(Text)
    proposal: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # Proposal.data() shape
    applied: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    reloaded: Mapped[bool | None] = mapped_column(Boolean)
