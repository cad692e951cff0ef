"""regold: the old 9-digit ID card number (số CMND) of a citizen, citizens.old_id, indexed
(register-mode matching uses it as evidence, as the file mode does)

Revision ID: 0033_regold
Revises: 0032_declidx
Create Date: 2026-12-07 22:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0033_regold"
down_revision = "0032_declidx"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("citizens") as batch:
        batch.add_column(sa.Column("old_id", sa.String(length=9), nullable=True))
        batch.create_index(batch.f("ix_citizens_old_id"), ["old_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("citizens") as batch:
        batch.drop_index(batch.f("ix_citizens_old_id"))
        batch.drop_column("old_id")
