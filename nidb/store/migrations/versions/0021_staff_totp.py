"""staff two-factor sign-in: an encrypted TOTP secret per staff account, recovery codes

Revision ID: 0021_staff_totp
Revises: 0020
Create Date: 2026-12-07 04:20:00

Existing accounts have no second factor: admins and approvers must enrol at their next sign-in
before they reach any console page; the other roles are offered it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021_staff_totp"
down_revision = "0020"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("staff_users") as batch:
        batch.add_column(sa.Column("totp_secret", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("totp_enrolled_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("totp_last_step", sa.BigInteger(), nullable=True))
    op.create_table(
        "staff_recovery_codes",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("staff_user_id", _ID, nullable=False),
        sa.Column("code_hash", sa.String(length=200), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["staff_user_id"],
            ["staff_users.id"],
            name=op.f("fk_staff_recovery_codes_staff_user_id_staff_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_recovery_codes")),
    )
    op.create_index(
        op.f("ix_staff_recovery_codes_staff_user_id"), "staff_recovery_codes", ["staff_user_id"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_staff_recovery_codes_staff_user_id"), table_name="staff_recovery_codes")
    op.drop_table("staff_recovery_codes")
    with op.batch_alter_table("staff_users") as batch:
        batch.drop_column("totp_last_step")
        batch.drop_column("totp_enrolled_at")
        batch.drop_column("totp_secret")
