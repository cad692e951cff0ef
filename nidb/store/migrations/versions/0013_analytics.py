"""data-quality measures per province and information group, kept for trends

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 19:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "quality_measures",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("province", sa.String(length=2), nullable=False),
        sa.Column("info_group", sa.String(length=12), nullable=False),
        sa.Column("measure", sa.String(length=8), nullable=False),
        sa.Column("numerator", sa.BigInteger(), nullable=False),
        sa.Column("denominator", sa.BigInteger(), nullable=False),
        sa.Column(
            "computed_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.Column("computed_by", sa.String(length=100), nullable=False),
        sa.CheckConstraint(
            "measure IN ('correct', 'complete', 'clean', 'alive')",
            name=op.f("ck_quality_measures_measure"),
        ),
        sa.CheckConstraint(
            "numerator >= 0 AND numerator <= denominator", name=op.f("ck_quality_measures_ratio")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_measures")),
        sa.UniqueConstraint(
            "as_of",
            "province",
            "info_group",
            "measure",
            name=op.f("uq_quality_measures_as_of_province_info_group_measure"),
        ),
    )
    with op.batch_alter_table("quality_measures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quality_measures_as_of"), ["as_of"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("quality_measures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quality_measures_as_of"))
    op.drop_table("quality_measures")
