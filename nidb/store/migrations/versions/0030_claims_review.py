"""claims review: staff review of flagged claims (claim_reviews), the fund's share kept on each
claim and the catalogue's payment ratio on each line, so a review can recompute the fund's part

Revision ID: 0030_claims_review
Revises: 0026_notify
Create Date: 2026-12-07 12:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0030_claims_review"
down_revision = "0026_notify"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("claims") as batch:
        batch.add_column(sa.Column("share_pct", sa.SmallInteger(), nullable=True))
    with op.batch_alter_table("claim_lines") as batch:
        batch.add_column(sa.Column("payment_ratio", sa.SmallInteger(), nullable=True))
    op.create_table(
        "claim_reviews",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("claim_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("decision", sa.String(length=8), nullable=False),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("before", sa.JSON(), nullable=False),
        sa.Column("after", sa.JSON(), nullable=False),
        sa.Column(
            "decided_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.CheckConstraint(
            "decision IN ('accept', 'adjust')", name=op.f("ck_claim_reviews_decision")
        ),
        sa.ForeignKeyConstraint(
            ["claim_id"],
            ["claims.id"],
            name=op.f("fk_claim_reviews_claim_id_claims"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_reviews")),
        sa.UniqueConstraint("claim_id", "version", name=op.f("uq_claim_reviews_claim_id_version")),
    )
    op.create_index(op.f("ix_claim_reviews_claim_id"), "claim_reviews", ["claim_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_claim_reviews_claim_id"), table_name="claim_reviews")
    op.drop_table("claim_reviews")
    with op.batch_alter_table("claim_lines") as batch:
        batch.drop_column("payment_ratio")
    with op.batch_alter_table("claims") as batch:
        batch.drop_column("share_pct")
