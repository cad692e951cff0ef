"""declidx: declared wages indexed by employer and personal ID (a declaration reads the rows of
its workers at its employer; the index on the employer alone read all of the employer's rows)

Revision ID: 0032_declidx
Revises: 0031_emplogin
Create Date: 2026-12-07 22:40:00
"""

from __future__ import annotations

from alembic import op

revision = "0032_declidx"
down_revision = "0031_emplogin"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_declared_wages_employer_person", "declared_wages", ["employer_code", "personal_id"]
    )
    op.drop_index("ix_declared_wages_employer_code", table_name="declared_wages")


def downgrade() -> None:
    op.create_index("ix_declared_wages_employer_code", "declared_wages", ["employer_code"])
    op.drop_index("ix_declared_wages_employer_person", table_name="declared_wages")
