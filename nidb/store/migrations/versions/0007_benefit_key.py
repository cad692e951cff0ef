"""benefits: record key and import batch

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 09:00:00.000000

A benefit is identified in interchange files by (bhxh_code, kind, start_date), so imports can
upsert it; batch_id records which import last changed it, as for every other imported table.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("benefits", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "batch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
            )
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_benefits_batch_id_import_batches"),
            "import_batches",
            ["batch_id"],
            ["id"],
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_benefits_bhxh_code_kind_start_date"),
            ["bhxh_code", "kind", "start_date"],
        )


def downgrade() -> None:
    with op.batch_alter_table("benefits", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("uq_benefits_bhxh_code_kind_start_date"), type_="unique"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_benefits_batch_id_import_batches"), type_="foreignkey"
        )
        batch_op.drop_column("batch_id")
