"""One-time links for a customer contact without an account (issue 16, item 5): a purpose
(signin, signoff, survey), the contact it was sent to, and no console user.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03

Frozen: its own column types, no import of the models. Existing rows are sign-in links
(the server default), so an upgrade rewrites nothing by hand.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("console_links") as batch:
        batch.add_column(sa.Column("purpose", sa.String(), nullable=False, server_default="signin"))
        batch.add_column(sa.Column("contact", sa.Text(), nullable=True))
        batch.alter_column(
            "user_id",
            existing_type=sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        )


def downgrade() -> None:
    op.execute("DELETE FROM console_links WHERE user_id IS NULL")
    with op.batch_alter_table("console_links") as batch:
        batch.alter_column(
            "user_id",
            existing_type=sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        )
        batch.drop_column("contact")
        batch.drop_column("purpose")
