"""Site pollers: who is enrolled for which sites, and their one-time enrolment codes.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03

Frozen: its own column types, no import of the models. New tables only.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pollers",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("sites", sa.JSON(), nullable=False),
        sa.Column("token_hash", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("enrolled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acked_seq", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Text(), nullable=True),
        sa.Column("silent_since", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_pollers"),
        sa.UniqueConstraint("token_hash", name="uq_pollers_token_hash"),
    )
    op.create_table(
        "poller_codes",
        sa.Column("code_hash", sa.Text(), nullable=False),
        sa.Column("poller_id", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["poller_id"], ["pollers.id"], name="fk_poller_codes_poller_id_pollers"
        ),
        sa.PrimaryKeyConstraint("code_hash", name="pk_poller_codes"),
    )
    op.create_index("ix_poller_codes_poller_id", "poller_codes", ["poller_id"])


def downgrade() -> None:
    op.drop_index("ix_poller_codes_poller_id", "poller_codes")
    op.drop_table("poller_codes")
    op.drop_table("pollers")
