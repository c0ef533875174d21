"""Console actions' idempotency keys: a phone's offline queue may send an action twice.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04

Frozen: its own column types, no import of the models. One nullable column on the ticket
log (NULL for every existing event: an upgrade rewrites no row) and a unique constraint
over it (NULLs never collide, on SQLite and PostgreSQL alike).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ticket_events") as batch:
        batch.add_column(sa.Column("idem", sa.String(64), nullable=True))
        batch.create_unique_constraint("uq_ticket_events_idem", ["idem"])


def downgrade() -> None:
    with op.batch_alter_table("ticket_events") as batch:
        batch.drop_constraint("uq_ticket_events_idem", type_="unique")
        batch.drop_column("idem")
