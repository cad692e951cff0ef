"""code merges

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 20:16:06.451370
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "code_merges",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("kept_code", sa.String(length=10), nullable=False),
        sa.Column("retired_code", sa.String(length=10), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.String(length=400), nullable=False),
        sa.Column("merged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("undone_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("undone_by", sa.String(length=100), nullable=True),
        sa.Column("undo_reason", sa.String(length=400), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_code_merges")),
    )
    with op.batch_alter_table("code_merges", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_code_merges_kept_code"), ["kept_code"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_code_merges_retired_code"), ["retired_code"], unique=False
        )

    op.create_table(
        "code_merge_moves",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("merge_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("table_name", sa.String(length=40), nullable=False),
        sa.Column("row_key", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["merge_id"], ["code_merges.id"], name=op.f("fk_code_merge_moves_merge_id_code_merges")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_code_merge_moves")),
    )
    with op.batch_alter_table("code_merge_moves", schema=None) as batch_op:
        batch_op.create_index(
            "ix_code_merge_moves_merge_table", ["merge_id", "table_name"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("code_merge_moves", schema=None) as batch_op:
        batch_op.drop_index("ix_code_merge_moves_merge_table")

    op.drop_table("code_merge_moves")
    with op.batch_alter_table("code_merges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_code_merges_retired_code"))
        batch_op.drop_index(batch_op.f("ix_code_merges_kept_code"))

    op.drop_table("code_merges")
