"""inbound feeds: cursors and alerts

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 16:35:05.269933
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("province", sa.String(length=2), nullable=True),
        sa.Column("subject_type", sa.String(length=20), nullable=False),
        sa.Column("subject_id", sa.String(length=40), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=10), server_default="open", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.Column("decided_by", sa.String(length=100), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('open', 'confirmed', 'dismissed')", name=op.f("ck_alerts_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
    )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alerts_kind"), ["kind"], unique=False)
        batch_op.create_index("ix_alerts_status_province", ["status", "province"], unique=False)
        batch_op.create_index(batch_op.f("ix_alerts_subject_id"), ["subject_id"], unique=False)

    op.create_table(
        "feed_cursors",
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("cursor", sa.String(length=200), nullable=True),
        sa.Column("changes_applied", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("source", name=op.f("pk_feed_cursors")),
    )


def downgrade() -> None:
    op.drop_table("feed_cursors")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alerts_subject_id"))
        batch_op.drop_index("ix_alerts_status_province")
        batch_op.drop_index(batch_op.f("ix_alerts_kind"))

    op.drop_table("alerts")
