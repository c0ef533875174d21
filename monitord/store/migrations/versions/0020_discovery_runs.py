"""Discovery runs and their change sets, kept until applied (issue 17).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-04

Frozen: its own column types, no import of the models. A new table only.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "discovery_runs",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("site_id", sa.Text(), nullable=False),
        sa.Column("by_user", sa.Text(), nullable=False),
        sa.Column("runs_at", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("started", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("proposal", sa.JSON(), nullable=True),
        sa.Column("applied", sa.JSON(), nullable=True),
        sa.Column("reloaded", sa.Boolean(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_discovery_runs"),
    )
    op.create_index("ix_discovery_runs_site_started", "discovery_runs", ["site_id", "started"])


def downgrade() -> None:
    op.drop_index("ix_discovery_runs_site_started", table_name="discovery_runs")
    op.drop_table("discovery_runs")
