"""Site pollers: the measured clock offset and the journal backlog each one reported.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03

Frozen: its own column types, no import of the models. Two nullable columns (nothing
measured yet), so an upgrade rewrites no row. (0013 is taken by another branch; the
coordinator re-chains.)
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("pollers") as batch:
        batch.add_column(sa.Column("clock_offset", sa.Float(), nullable=True))
        batch.add_column(sa.Column("backlog", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("pollers") as batch:
        batch.drop_column("backlog")
        batch.drop_column("clock_offset")
