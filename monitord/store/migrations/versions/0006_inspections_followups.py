"""Inspection tasks and their results (P1), customer follow-up visits (P4).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28

Frozen: its own column types, no import of the models. New tables only, so a database
made by an older version upgrades in place.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _instant() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _big_id() -> sa.BigInteger:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "inspection_tasks",
        sa.Column("id", _big_id(), autoincrement=True, nullable=False),
        sa.Column("contract", sa.String(), nullable=False),
        sa.Column("site_id", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("plan", sa.String(), nullable=False),
        sa.Column("period", sa.String(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("due_at", _instant(), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("created_at", _instant(), nullable=False),
        sa.Column("completed_at", _instant(), nullable=True),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_inspection_tasks_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_tasks")),
        sa.UniqueConstraint(
            "contract", "site_id", "kind", "period", name="uq_inspection_tasks_period"
        ),
    )
    op.create_index("ix_inspection_tasks_due_at", "inspection_tasks", ["due_at"])
    op.create_table(
        "inspection_results",
        sa.Column("id", _big_id(), autoincrement=True, nullable=False),
        sa.Column("task_id", _big_id(), nullable=False),
        sa.Column("item", sa.String(), nullable=False),
        sa.Column("device_id", sa.String(), nullable=True),
        sa.Column("result", sa.String(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("at", _instant(), nullable=False),
        sa.Column("ticket_id", _big_id(), nullable=True),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["inspection_tasks.id"],
            name=op.f("fk_inspection_results_task_id_inspection_tasks"),
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_inspection_results_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_results")),
    )
    op.create_index("ix_inspection_results_task_id", "inspection_results", ["task_id"])
    op.create_table(
        "followup_visits",
        sa.Column("id", _big_id(), autoincrement=True, nullable=False),
        sa.Column("contract", sa.String(), nullable=False),
        sa.Column("site_id", sa.String(), nullable=False),
        sa.Column("visited_at", _instant(), nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("contact", sa.Text(), nullable=False),
        sa.Column("attitude", sa.Integer(), nullable=True),
        sa.Column("responsibility", sa.Integer(), nullable=True),
        sa.Column("effect", sa.Integer(), nullable=True),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("problems", sa.Text(), nullable=False),
        sa.Column("suggestions", sa.Text(), nullable=False),
        sa.Column("quality_problem", sa.Boolean(), nullable=False),
        sa.Column("ticket_id", _big_id(), nullable=True),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_followup_visits_site_id_sites")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_followup_visits_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_followup_visits")),
    )
    op.create_index(
        "ix_followup_visits_site_id_visited_at", "followup_visits", ["site_id", "visited_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_followup_visits_site_id_visited_at", table_name="followup_visits")
    op.drop_table("followup_visits")
    op.drop_index("ix_inspection_results_task_id", table_name="inspection_results")
    op.drop_table("inspection_results")
    op.drop_index("ix_inspection_tasks_due_at", table_name="inspection_tasks")
    op.drop_table("inspection_tasks")
