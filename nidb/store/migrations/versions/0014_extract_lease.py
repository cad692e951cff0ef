"""extract jobs: a heartbeat, so a job left running by a dead process is taken over

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 19:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("extract_jobs") as batch:
        batch.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("extract_jobs") as batch:
        batch.drop_column("heartbeat_at")
