"""retention: access-log checkpoints, and the append-only guard lets go of a checkpointed prefix

Revision ID: 0023_retention
Revises: 0022_access_anomalies
Create Date: 2026-12-07 04:30:00

``nidb retention apply`` removes the oldest entries of each access-log lane past their period.
The database still refuses every UPDATE, every TRUNCATE and every DELETE, except the DELETE of
an entry at or before its lane's checkpoint (``access_log_checkpoints``: the seq and hash of the
last entry removed, written in the same transaction before the entries go). Checkpoints only
move forward and are never deleted, so a removal is always a prefix that ``nidb audit verify``
accounts for.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023_retention"
down_revision = "0022_access_anomalies"
branch_labels = None
depends_on = None

_COVERED = (
    "EXISTS (SELECT 1 FROM access_log_checkpoints c WHERE c.lane = OLD.lane AND OLD.seq <= c.seq)"
)
_PG_GUARD = f"""
CREATE OR REPLACE FUNCTION access_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF {_COVERED} THEN
            RETURN OLD;
        END IF;
    END IF;
    RAISE EXCEPTION 'access_log is append-only';
END $$
"""
_PG_GUARD_BEFORE = (
    "CREATE OR REPLACE FUNCTION access_log_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'access_log is append-only'; END $$"
)
_PG_CHECKPOINT_GUARD = """
CREATE FUNCTION access_log_checkpoint_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW.lane = OLD.lane AND NEW.seq >= OLD.seq THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'access_log_checkpoints only move forward';
END $$
"""
_SQLITE_ABORT = "BEGIN SELECT RAISE(ABORT, 'access_log is append-only'); END"
_SQLITE_CHECKPOINT_ABORT = (
    "BEGIN SELECT RAISE(ABORT, 'access_log_checkpoints only move forward'); END"
)


def upgrade() -> None:
    op.create_table(
        "access_log_checkpoints",
        sa.Column("lane", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        sa.Column("entries_removed", sa.BigInteger(), nullable=False),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("lane", name=op.f("pk_access_log_checkpoints")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_GUARD)
        op.execute(_PG_CHECKPOINT_GUARD)
        op.execute(
            "CREATE TRIGGER access_log_checkpoints_forward BEFORE UPDATE OR DELETE "
            "ON access_log_checkpoints FOR EACH ROW "
            "EXECUTE FUNCTION access_log_checkpoint_forward_only()"
        )
        op.execute(
            "CREATE TRIGGER access_log_checkpoints_no_truncate BEFORE TRUNCATE "
            "ON access_log_checkpoints FOR EACH STATEMENT "
            "EXECUTE FUNCTION access_log_checkpoint_forward_only()"
        )
    else:
        op.execute("DROP TRIGGER IF EXISTS access_log_no_delete")
        op.execute(
            f"CREATE TRIGGER access_log_no_delete BEFORE DELETE ON access_log "
            f"WHEN NOT {_COVERED} {_SQLITE_ABORT}"
        )
        op.execute(
            "CREATE TRIGGER access_log_checkpoints_no_delete BEFORE DELETE "
            f"ON access_log_checkpoints {_SQLITE_CHECKPOINT_ABORT}"
        )
        op.execute(
            "CREATE TRIGGER access_log_checkpoints_forward BEFORE UPDATE "
            "ON access_log_checkpoints WHEN NEW.lane <> OLD.lane OR NEW.seq < OLD.seq "
            f"{_SQLITE_CHECKPOINT_ABORT}"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "DROP TRIGGER IF EXISTS access_log_checkpoints_no_truncate ON access_log_checkpoints"
        )
        op.execute(
            "DROP TRIGGER IF EXISTS access_log_checkpoints_forward ON access_log_checkpoints"
        )
        op.execute("DROP FUNCTION IF EXISTS access_log_checkpoint_forward_only()")
        op.execute(_PG_GUARD_BEFORE)
    else:
        op.execute("DROP TRIGGER IF EXISTS access_log_checkpoints_forward")
        op.execute("DROP TRIGGER IF EXISTS access_log_checkpoints_no_delete")
        op.execute("DROP TRIGGER IF EXISTS access_log_no_delete")
        op.execute(
            f"CREATE TRIGGER access_log_no_delete BEFORE DELETE ON access_log {_SQLITE_ABORT}"
        )
    op.drop_table("access_log_checkpoints")
