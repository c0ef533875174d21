"""One-time sign-in links sent to engineers about a ticket (issue 16, deep links).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03

Frozen: its own column types, no import of the models. A new table only.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "console_links",
        sa.Column("token_hash", sa.String(), nullable=False),
        sa.Column(
            "user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "ticket_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["console_users.id"], name="fk_console_links_user_id_console_users",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name="fk_console_links_ticket_id_tickets",
        ),
        sa.PrimaryKeyConstraint("token_hash", name="pk_console_links"),
    )  # fmt: skip
    op.create_index("ix_console_links_expires_at", "console_links", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_console_links_expires_at", "console_links")
    op.drop_table("console_links")
