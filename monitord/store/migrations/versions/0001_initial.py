"""The initial schema: sites, the equipment archive, last HARD states, operation records.

Revision ID: 0001
Revises:
Create Date: 2025-01-01

Frozen: it spells out its own column types instead of importing the models, so later
changes to the models cannot change what this migration creates.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _instant() -> sa.DateTime:
    # DDL only: the column is TIMESTAMP WITH TIME ZONE on PostgreSQL, DATETIME on SQLite.
    return sa.DateTime(timezone=True)


def _event_id() -> sa.BigInteger:
    # SQLite autoincrements only an INTEGER primary key (the rowid).
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "sites",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("timezone", sa.String(), nullable=False),
        sa.Column("zone", sa.String(), nullable=False),
        sa.Column("contract", sa.String(), nullable=True),
        sa.Column("updated_at", _instant(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sites")),
    )
    op.create_table(
        "devices",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("site_id", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("address", sa.String(), nullable=False),
        sa.Column("parents", sa.JSON(), nullable=False),
        sa.Column("criticality", sa.String(), nullable=False),
        sa.Column("vendor", sa.String(), nullable=True),
        sa.Column("model", sa.String(), nullable=True),
        sa.Column("serial", sa.String(), nullable=True),
        sa.Column("firmware", sa.String(), nullable=True),
        sa.Column("install_date", sa.Date(), nullable=True),
        sa.Column("warranty_end", sa.Date(), nullable=True),
        sa.Column("location", sa.String(), nullable=True),
        sa.Column("first_seen", _instant(), nullable=False),
        sa.Column("updated_at", _instant(), nullable=False),
        sa.Column("removed_at", _instant(), nullable=True),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_devices_site_id_sites")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_devices")),
    )
    op.create_index(op.f("ix_devices_site_id"), "devices", ["site_id"])
    op.create_table(
        "device_state",
        sa.Column("device_id", sa.String(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("since", _instant(), nullable=False),
        sa.Column("last_check", _instant(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_device_state_device_id_devices")
        ),
        sa.PrimaryKeyConstraint("device_id", name=op.f("pk_device_state")),
    )
    op.create_table(
        "operation_events",
        sa.Column("id", _event_id(), autoincrement=True, nullable=False),
        sa.Column("device_id", sa.String(), nullable=False),
        sa.Column("at", _instant(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("from_state", sa.String(), nullable=True),
        sa.Column("to_state", sa.String(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("observation", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_operation_events_device_id_devices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operation_events")),
    )
    op.create_index("ix_operation_events_device_id_at", "operation_events", ["device_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_operation_events_device_id_at", table_name="operation_events")
    op.drop_table("operation_events")
    op.drop_table("device_state")
    op.drop_index(op.f("ix_devices_site_id"), table_name="devices")
    op.drop_table("devices")
    op.drop_table("sites")
