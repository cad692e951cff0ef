"""staff API tokens carry an area (scope level, province, district) like staff accounts

Revision ID: 0020
Revises: 0018
Create Date: 2026-12-07 02:00:00

Tokens issued before have no area: they get 'province' with no province, so they see nothing
until reissued with one (a token must not read more than the console shows its holder).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(
            sa.Column(
                "scope_level", sa.String(length=10), server_default="province", nullable=False
            )
        )
        batch.add_column(sa.Column("province_code", sa.String(length=2), nullable=True))
        batch.add_column(sa.Column("district_code", sa.String(length=5), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("district_code")
        batch.drop_column("province_code")
        batch.drop_column("scope_level")
