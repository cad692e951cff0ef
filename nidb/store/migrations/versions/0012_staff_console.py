"""staff console: indexes for scoped progress and the auditor's audit-log filters

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 19:10:00
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_persons_bhxh_code_status", "persons", ["bhxh_code", "verification_status", "record_id"]
    )
    op.create_index("ix_audit_log_actor_id", "audit_log", ["actor", "id"])
    op.create_index("ix_audit_log_occurred_at", "audit_log", ["occurred_at"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_occurred_at", table_name="audit_log")
    op.drop_index("ix_audit_log_actor_id", table_name="audit_log")
    op.drop_index("ix_persons_bhxh_code_status", table_name="persons")
