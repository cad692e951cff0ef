"""platform_cursors: the outbound streams to the national platforms (portal status, EMC usage)

Revision ID: 0027_platforms
Revises: 0025_employer_views
Create Date: 2026-12-07 12:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0027_platforms"
down_revision = "0025_employer_views"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "platform_cursors",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("position", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_platform_cursors")),
    )


def downgrade() -> None:
    op.drop_table("platform_cursors")
