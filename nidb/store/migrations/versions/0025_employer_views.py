"""employer views: a declared run keeps the worker's position (chức danh)

Revision ID: 0025_employer_views
Revises: 0024_obs
Create Date: 2026-12-07 12:40:00

Declarations (increase, salary change) already carried the worker's position and checked it;
it was not kept. The employer's workers page shows it, so ``declared_wages`` keeps it per run
(null for runs declared before, and for runs imported from files that have none).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025_employer_views"
down_revision = "0024_obs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("declared_wages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("position", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("declared_wages", schema=None) as batch_op:
        batch_op.drop_column("position")
