"""Outbox groups: the key a grouped message went out under; delivered rows found by age.

Revision ID: 0008
Revises: 0006
Create Date: 2026-11-28

Frozen: its own column types, no import of the models. A nullable column and an index, so a
database made by 0003 upgrades in place (its rows simply have no group yet).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("group_key", sa.Text(), nullable=True))
    # Pruning (sent rows older than the retention) and "last sent to this scope" both
    # look delivered rows up by state and age.
    op.create_index("ix_outbox_state_sent_at", "outbox", ["state", "sent_at"])


def downgrade() -> None:
    op.drop_index("ix_outbox_state_sent_at", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("group_key")
