"""Rolled-up metric history (early warnings) and maintenance windows started by hand.

Revision ID: 0005
Revises: 0003
Create Date: 2026-11-28

Frozen: its own column types, no import of the models. New tables only, so a database
made by an older version upgrades in place.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _instant() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "metric_hours",
        sa.Column("device_id", sa.String(), nullable=False),
        sa.Column("metric", sa.String(), nullable=False),
        sa.Column("subject", sa.String(), nullable=False),
        sa.Column("hour", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("total", sa.Float(), nullable=False),
        sa.Column("low", sa.Float(), nullable=False),
        sa.Column("high", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint(
            "device_id", "metric", "subject", "hour", name=op.f("pk_metric_hours")
        ),
    )
    op.create_index(
        "ix_metric_hours_metric_hour",
        "metric_hours",
        ["metric", "hour", "device_id", "subject", "n", "total"],
    )
    op.create_index("ix_metric_hours_hour", "metric_hours", ["hour"])
    op.create_table(
        "maintenance_windows",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("site_id", sa.String(), nullable=True),
        sa.Column("device_id", sa.String(), nullable=True),
        sa.Column("kind", sa.String(), nullable=True),
        sa.Column("starts_at", _instant(), nullable=False),
        sa.Column("ends_at", _instant(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(), nullable=False),
        sa.Column("created_at", _instant(), nullable=False),
        sa.Column("ended_early_at", _instant(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_maintenance_windows")),
    )
    op.create_index("ix_maintenance_windows_ends_at", "maintenance_windows", ["ends_at"])


def downgrade() -> None:
    op.drop_index("ix_maintenance_windows_ends_at", table_name="maintenance_windows")
    op.drop_table("maintenance_windows")
    op.drop_index("ix_metric_hours_hour", table_name="metric_hours")
    op.drop_index("ix_metric_hours_metric_hour", table_name="metric_hours")
    op.drop_table("metric_hours")
