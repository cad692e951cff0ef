"""batch_runs: one row per finished batch job, for the job-duration metric of /metrics

Revision ID: 0024_obs
Revises: 0023_retention
Create Date: 2026-12-07 04:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024_obs"
down_revision = "0023_retention"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "batch_runs",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_seconds", sa.Float(), nullable=False),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.CheckConstraint(
            "outcome IN ('ok', 'failed', 'stopped')", name=op.f("ck_batch_runs_outcome")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batch_runs")),
    )
    op.create_index("ix_batch_runs_kind_outcome", "batch_runs", ["kind", "outcome"])


def downgrade() -> None:
    op.drop_index("ix_batch_runs_kind_outcome", table_name="batch_runs")
    op.drop_table("batch_runs")
