"""bulk extract jobs

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 16:55:53.984842
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "extract_jobs",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("partner_code", sa.String(length=100), nullable=False),
        sa.Column("service", sa.String(length=60), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("grant_id", sa.BigInteger(), nullable=False),
        sa.Column("groups", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=10), server_default="queued", nullable=False),
        sa.Column("subjects", sa.Integer(), nullable=False),
        sa.Column("found", sa.Integer(), server_default="0", nullable=False),
        sa.Column("not_found", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.String(length=200), nullable=True),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'done', 'failed')", name=op.f("ck_extract_jobs_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_extract_jobs")),
    )
    with op.batch_alter_table("extract_jobs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_extract_jobs_partner_code"), ["partner_code"], unique=False
        )
        batch_op.create_index("ix_extract_jobs_status", ["status", "created_at"], unique=False)

    op.create_table(
        "extract_items",
        sa.Column("job_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("query", sa.JSON(), nullable=False),
        sa.Column("bhxh_code", sa.String(length=10), nullable=True),
        sa.Column("outcome", sa.String(length=24), nullable=True),
        sa.Column("answer", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["job_id"], ["extract_jobs.id"], name=op.f("fk_extract_items_job_id_extract_jobs")
        ),
        sa.PrimaryKeyConstraint("job_id", "position", name=op.f("pk_extract_items")),
    )


def downgrade() -> None:
    op.drop_table("extract_items")
    with op.batch_alter_table("extract_jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_extract_jobs_status")
        batch_op.drop_index(batch_op.f("ix_extract_jobs_partner_code"))

    op.drop_table("extract_jobs")
