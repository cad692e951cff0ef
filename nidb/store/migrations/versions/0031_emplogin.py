"""emplogin: the lockout of employers' sign-in (failed_attempts, locked_until), when an
employer last signed in, and whether its password was issued by staff and must be changed
(password_must_change), on employer_accounts

Revision ID: 0031_emplogin
Revises: 0030_claims_review
Create Date: 2026-12-07 15:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0031_emplogin"
down_revision = "0030_claims_review"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("employer_accounts") as batch:
        batch.add_column(
            sa.Column("failed_attempts", sa.Integer(), server_default="0", nullable=False)
        )
        batch.add_column(sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("last_sign_in_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column(
                "password_must_change", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("employer_accounts") as batch:
        batch.drop_column("password_must_change")
        batch.drop_column("last_sign_in_at")
        batch.drop_column("locked_until")
        batch.drop_column("failed_attempts")
