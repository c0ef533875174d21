"""Provider identities (WeCom / DingTalk / Feishu) linked to console users (issue 16, sign-in).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04

Frozen: its own column types, no import of the models. A new table only.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "console_identities",
        sa.Column("provider", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column(
            "user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["console_users.id"],
            name="fk_console_identities_user_id_console_users",
        ),
        sa.PrimaryKeyConstraint("provider", "subject", name="pk_console_identities"),
    )  # fmt: skip
    op.create_index("ix_console_identities_user_id", "console_identities", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_console_identities_user_id", "console_identities")
    op.drop_table("console_identities")
