"""partners' rate-limit buckets shared by every process (issue 16 item 5)

Revision ID: 0022_access_anomalies
Revises: 0020
Create Date: 2026-12-07 04:20:00

One row per partner, created by the first request that takes a lease of tokens
(nidb.exchange.ratelimit); nothing to backfill.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022_access_anomalies"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "partner_rate_buckets",
        sa.Column("partner_code", sa.String(length=100), nullable=False),
        sa.Column("tokens", sa.Double(), nullable=False),
        sa.Column("refilled_at", sa.Double(), nullable=False),
        sa.Column("granted", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("partner_code", name=op.f("pk_partner_rate_buckets")),
    )


def downgrade() -> None:
    op.drop_table("partner_rate_buckets")
