"""partners' rate-limit buckets shared by every process (issue 16 item 5); alerts name an
actor of up to 100 characters (access anomalies, item 4)

Revision ID: 0022_access_anomalies
Revises: 0021_staff_totp
Create Date: 2026-12-07 04:20:00

One row per partner, created by the first request that takes a lease of tokens
(nidb.exchange.ratelimit); nothing to backfill. An access-anomaly alert's subject is the actor
of the access log (a partner's member code, up to 100 characters, or ``staff:<username>``),
so ``alerts.subject_id`` widens from 40 to 100 characters, as ``access_log.actor`` is.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022_access_anomalies"
down_revision = "0021_staff_totp"
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
    if op.get_bind().dialect.name == "postgresql":
        # no WAL: a lease costs no disk flush, and a crash empties the table, which refills
        # every partner's bucket once (what a restart of the old per-process buckets did)
        op.execute("ALTER TABLE partner_rate_buckets SET UNLOGGED")
    with op.batch_alter_table("alerts") as batch:
        batch.alter_column(
            "subject_id",
            existing_type=sa.String(length=40),
            type_=sa.String(length=100),
            existing_nullable=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.alter_column(
            "subject_id",
            existing_type=sa.String(length=100),
            type_=sa.String(length=40),
            existing_nullable=False,
        )
    op.drop_table("partner_rate_buckets")
