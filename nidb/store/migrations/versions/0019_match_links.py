"""match links: what register-mode matching linked, per run, so a run can be undone

Revision ID: 0019
Revises: 0015
Create Date: 2026-12-07 02:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0015"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "match_links",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("record_id", sa.String(length=40), nullable=False),
        sa.Column("bhxh_code", sa.String(length=10), nullable=False),
        sa.Column("personal_id", sa.String(length=12), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("previous_status", sa.String(length=16), nullable=False),
        sa.Column("link_id", _ID, nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("undone_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_match_links")),
    )
    op.create_index("ix_match_links_run", "match_links", ["run_id", "record_id"], unique=False)
    op.create_index(op.f("ix_match_links_record_id"), "match_links", ["record_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_match_links_record_id"), table_name="match_links")
    op.drop_index("ix_match_links_run", table_name="match_links")
    op.drop_table("match_links")
