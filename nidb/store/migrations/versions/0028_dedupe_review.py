"""dedupe review: proposals of merged person records, and the mark of a merged record

Revision ID: 0028_dedupe_review
Revises: 0027_platforms
Create Date: 2026-12-07 12:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0028_dedupe_review"
down_revision = "0027_platforms"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "dedupe_proposals",
        sa.Column("item_id", _ID, autoincrement=False, nullable=False),
        sa.Column("cluster_key", sa.String(length=64), nullable=False),
        sa.Column("survivor_record_id", sa.String(length=40), nullable=False),
        sa.Column("members", sa.Text(), nullable=False),
        sa.Column("fields", sa.Text(), nullable=False),
        sa.Column("certain", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("merged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("merged_by", sa.String(length=100), nullable=True),
        sa.Column("merge_detail", sa.Text(), nullable=True),
        sa.Column("undone_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["item_id"], ["review_items.id"], name=op.f("fk_dedupe_proposals_item_id_review_items")
        ),
        sa.PrimaryKeyConstraint("item_id", name=op.f("pk_dedupe_proposals")),
        sa.UniqueConstraint("cluster_key", name=op.f("uq_dedupe_proposals_cluster_key")),
    )
    with op.batch_alter_table("persons") as batch:
        batch.add_column(sa.Column("merged_into", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("persons") as batch:
        batch.drop_column("merged_into")
    op.drop_table("dedupe_proposals")
