"""web sessions, citizen sign-in requests, staff users, citizen consents and correction requests

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 19:10:00
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _now(name: str) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "web_sessions",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("subject", sa.String(length=100), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        _now("created_at"),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('citizen', 'staff')", name=op.f("ck_web_sessions_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_web_sessions_token_hash")),
    )
    op.create_index("ix_web_sessions_kind_subject", "web_sessions", ["kind", "subject"])
    op.create_index(op.f("ix_web_sessions_expires_at"), "web_sessions", ["expires_at"])

    op.create_table(
        "staff_users",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("scope_level", sa.String(length=10), nullable=False),
        sa.Column("province_code", sa.String(length=2), nullable=True),
        sa.Column("district_code", sa.String(length=5), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_sign_in_at", sa.DateTime(timezone=True), nullable=True),
        _now("created_at"),
        sa.CheckConstraint(
            "role IN ('reviewer', 'approver', 'auditor', 'admin')",
            name=op.f("ck_staff_users_role"),
        ),
        sa.CheckConstraint(
            "scope_level IN ('central', 'province', 'district')",
            name=op.f("ck_staff_users_scope_level"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_users")),
        sa.UniqueConstraint("username", name=op.f("uq_staff_users_username")),
    )

    op.create_table(
        "consent_choices",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("personal_id", sa.String(length=12), nullable=False),
        sa.Column("topic", sa.String(length=40), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        _now("changed_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_choices")),
    )
    op.create_index(
        "ix_consent_choices_person_topic", "consent_choices", ["personal_id", "topic", "id"]
    )

    op.create_table(
        "correction_requests",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("personal_id", sa.String(length=12), nullable=False),
        sa.Column("field", sa.String(length=40), nullable=False),
        sa.Column("current_value", sa.String(length=200), nullable=True),
        sa.Column("new_value", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        _now("created_at"),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=100), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('submitted', 'in_review', 'accepted', 'rejected')",
            name=op.f("ck_correction_requests_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_correction_requests")),
    )
    op.create_index(
        op.f("ix_correction_requests_personal_id"), "correction_requests", ["personal_id"]
    )
    op.create_index(
        "ix_correction_requests_status", "correction_requests", ["status", "created_at"]
    )

    op.create_table(
        "correction_evidence",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("request_id", BigId, nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=40), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        _now("uploaded_at"),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["correction_requests.id"],
            name=op.f("fk_correction_evidence_request_id_correction_requests"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_correction_evidence")),
    )
    op.create_index(
        op.f("ix_correction_evidence_request_id"), "correction_evidence", ["request_id"]
    )

    op.create_table(
        "web_sign_in_requests",
        sa.Column("state", sa.String(length=64), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("code_verifier", sa.String(length=128), nullable=False),
        sa.Column("browser_hash", sa.String(length=64), nullable=False),
        sa.Column("next_path", sa.String(length=300), nullable=False),
        _now("created_at"),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("state", name=op.f("pk_web_sign_in_requests")),
    )
    op.create_index(
        op.f("ix_web_sign_in_requests_expires_at"), "web_sign_in_requests", ["expires_at"]
    )


def downgrade() -> None:
    op.drop_table("web_sign_in_requests")
    op.drop_table("correction_evidence")
    op.drop_table("correction_requests")
    op.drop_table("consent_choices")
    op.drop_table("staff_users")
    op.drop_table("web_sessions")
