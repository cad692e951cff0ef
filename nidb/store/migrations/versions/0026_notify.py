"""notifications that arrive: contacts and opt-outs, deliveries by e-mail and SMS, cursors

Revision ID: 0026_notify
Revises: 0028_dedupe_review
Create Date: 2026-12-07 12:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026_notify"
down_revision = "0028_dedupe_review"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notify_contacts",
        sa.Column("party_kind", sa.String(length=8), nullable=False),
        sa.Column("party_id", sa.String(length=20), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("email_off", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("sms_off", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(
            "party_kind IN ('citizen', 'employer')", name=op.f("ck_notify_contacts_party_kind")
        ),
        sa.PrimaryKeyConstraint("party_kind", "party_id", name=op.f("pk_notify_contacts")),
    )
    op.create_table(
        "notify_deliveries",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("event_key", sa.String(length=120), nullable=False),
        sa.Column("channel", sa.String(length=5), nullable=False),
        sa.Column("party_kind", sa.String(length=8), nullable=False),
        sa.Column("party_id", sa.String(length=20), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=7), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("provider_ref", sa.String(length=100), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "channel IN ('email', 'sms')", name=op.f("ck_notify_deliveries_channel")
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'sent', 'failed')", name=op.f("ck_notify_deliveries_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notify_deliveries")),
        sa.UniqueConstraint(
            "event_key", "channel", name=op.f("uq_notify_deliveries_event_key_channel")
        ),
    )
    op.create_index(
        "ix_notify_deliveries_status_due", "notify_deliveries", ["status", "next_attempt_at"]
    )
    op.create_index("ix_notify_deliveries_party", "notify_deliveries", ["party_kind", "party_id"])
    op.create_table(
        "notify_cursors",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("position", sa.String(length=40), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_notify_cursors")),
    )


def downgrade() -> None:
    op.drop_table("notify_cursors")
    op.drop_index("ix_notify_deliveries_party", table_name="notify_deliveries")
    op.drop_index("ix_notify_deliveries_status_due", table_name="notify_deliveries")
    op.drop_table("notify_deliveries")
    op.drop_table("notify_contacts")
