"""The centre's leader lease: one row per lease, holder, epoch (fencing token), expiry.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04

Frozen: its own column types, no import of the models. A new table only; no row is
written, so a single daemon (HA off) never touches it.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "centre_lease",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("holder", sa.Text(), nullable=False),
        sa.Column("epoch", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_centre_lease"),
    )


def downgrade() -> None:
    op.drop_table("centre_lease")
