"""Tickets and their append-only event logs.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

Frozen, like 0001: it spells out its own column types instead of importing the models.
Only new tables, so a database made by 0001 (with its data) upgrades in place.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# At most one active ticket per dedup key; the same text on both backends.
_ACTIVE = "status <> 'closed'"


def _instant() -> sa.DateTime:
    # DDL only: the column is TIMESTAMP WITH TIME ZONE on PostgreSQL, DATETIME on SQLite.
    return sa.DateTime(timezone=True)


def _big_id() -> sa.BigInteger:
    # BIGINT on PostgreSQL for rows never pruned; SQLite autoincrements only an INTEGER
    # primary key (the rowid).
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "tickets",
        sa.Column("id", _big_id(), autoincrement=True, nullable=False),
        sa.Column("dedup_key", sa.Text(), nullable=False),
        sa.Column("contract", sa.String(), nullable=False),
        sa.Column("site_id", sa.String(), nullable=False),
        sa.Column("root_device", sa.String(), nullable=True),
        sa.Column("fault_kind", sa.String(), nullable=False),
        sa.Column("ticket_class", sa.String(), nullable=True),
        sa.Column("rule", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("recovered", sa.Boolean(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("impacted", sa.JSON(), nullable=False),
        sa.Column("opened_at", _instant(), nullable=False),
        sa.Column("updated_at", _instant(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("closed_at", _instant(), nullable=True),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_tickets_site_id_sites")),
        sa.ForeignKeyConstraint(
            ["root_device"], ["devices.id"], name=op.f("fk_tickets_root_device_devices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tickets")),
    )
    op.create_index(
        "uq_tickets_active_dedup_key",
        "tickets",
        ["dedup_key"],
        unique=True,
        sqlite_where=sa.text(_ACTIVE),
        postgresql_where=sa.text(_ACTIVE),
    )
    op.create_index("ix_tickets_dedup_key", "tickets", ["dedup_key"])
    op.create_index("ix_tickets_status", "tickets", ["status"])
    op.create_index("ix_tickets_contract_status", "tickets", ["contract", "status"])
    op.create_table(
        "ticket_events",
        sa.Column("id", _big_id(), autoincrement=True, nullable=False),
        sa.Column("ticket_id", _big_id(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", _instant(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_ticket_events_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_events")),
        sa.UniqueConstraint("ticket_id", "seq", name="uq_ticket_events_ticket_id_seq"),
    )


def downgrade() -> None:
    op.drop_table("ticket_events")
    op.drop_index("ix_tickets_contract_status", table_name="tickets")
    op.drop_index("ix_tickets_status", table_name="tickets")
    op.drop_index("ix_tickets_dedup_key", table_name="tickets")
    op.drop_index("uq_tickets_active_dedup_key", table_name="tickets")
    op.drop_table("tickets")
