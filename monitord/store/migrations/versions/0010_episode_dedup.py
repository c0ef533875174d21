"""One ticket per problem episode: a fault ticket's dedup key drops its kind (issue 18).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03

"contract/device/down" (or degraded, flapping) becomes "contract/device", so a change of
kind on a device updates its ticket instead of opening a second one. Closed tickets are
moved too, so reopening within `reopen_within` finds them. If an older daemon left two
active tickets for one device (the bug this fixes), only the oldest takes the new key:
the unique index allows one active ticket per key, and the others keep theirs and are
closed by hand as before. Hotline, early-warning and prevention keys are left alone.

Frozen: plain SQL that SQLite and PostgreSQL both run, no import of the models.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KINDS = "('down', 'degraded', 'flapping')"
_OLD_KEY = "contract || '/' || root_device || '/' || fault_kind"
_NEW_KEY = "contract || '/' || root_device"


def upgrade() -> None:
    op.execute(
        f"""
        UPDATE tickets SET dedup_key = {_NEW_KEY}
        WHERE fault_kind IN {_KINDS} AND root_device IS NOT NULL
          AND dedup_key = {_OLD_KEY}
          AND (
            status = 'closed'
            OR NOT EXISTS (
              SELECT 1 FROM tickets AS older
              WHERE older.status <> 'closed'
                AND older.fault_kind IN {_KINDS}
                AND older.contract = tickets.contract
                AND older.root_device = tickets.root_device
                AND older.id < tickets.id
                -- Either form: SQLite sees the rows this statement has already moved.
                AND older.dedup_key IN (
                  older.contract || '/' || older.root_device || '/' || older.fault_kind,
                  older.contract || '/' || older.root_device
                )
            )
          )
        """
    )


def downgrade() -> None:
    op.execute(
        f"""
        UPDATE tickets SET dedup_key = {_OLD_KEY}
        WHERE fault_kind IN {_KINDS} AND root_device IS NOT NULL AND dedup_key = {_NEW_KEY}
        """
    )
