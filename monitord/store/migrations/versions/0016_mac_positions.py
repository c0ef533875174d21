"""MAC -> port history (issue 17, X3): where each MAC was learned, first and last seen.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03

Frozen: its own column types, no import of the models.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mac_positions",
        sa.Column("site_id", sa.Text(), nullable=False),
        sa.Column("mac", sa.Text(), nullable=False),
        sa.Column("switch", sa.Text(), nullable=False),
        sa.Column("port", sa.Text(), nullable=False),
        sa.Column("vlan", sa.Integer(), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "site_id", "mac", "switch", "port", "vlan", name="pk_mac_positions"
        ),
    )
    op.create_index("ix_mac_positions_site_mac", "mac_positions", ["site_id", "mac", "last_seen"])


def downgrade() -> None:
    op.drop_index("ix_mac_positions_site_mac", table_name="mac_positions")
    op.drop_table("mac_positions")
