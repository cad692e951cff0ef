"""access log lanes: one hash chain per writing process

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 17:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_SQLITE_TRIGGERS = ("UPDATE", "DELETE")


def _sqlite_guard(create: bool) -> None:
    for verb in _SQLITE_TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS access_log_no_{verb.lower()}")
        if create:
            op.execute(
                f"CREATE TRIGGER access_log_no_{verb.lower()} BEFORE {verb} ON access_log "
                "BEGIN SELECT RAISE(ABORT, 'access_log is append-only'); END"
            )


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        _sqlite_guard(create=False)  # the table is rebuilt below; the guard comes back after
    with op.batch_alter_table("access_log", recreate="always" if sqlite else "auto") as batch:
        batch.add_column(sa.Column("lane", sa.SmallInteger(), server_default="0", nullable=False))
        batch.drop_constraint("pk_access_log", type_="primary")
        batch.create_primary_key("pk_access_log", ["lane", "seq"])
    if sqlite:
        _sqlite_guard(create=True)
    else:  # TRUNCATE fires no row trigger: refuse it too
        op.execute(
            "CREATE TRIGGER access_log_no_truncate BEFORE TRUNCATE ON access_log "
            "FOR EACH STATEMENT EXECUTE FUNCTION access_log_append_only()"
        )


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        _sqlite_guard(create=False)
    else:
        op.execute("DROP TRIGGER IF EXISTS access_log_no_truncate ON access_log")
    with op.batch_alter_table("access_log", recreate="always" if sqlite else "auto") as batch:
        batch.drop_constraint("pk_access_log", type_="primary")
        batch.create_primary_key("pk_access_log", ["seq"])
        batch.drop_column("lane")
    if sqlite:
        _sqlite_guard(create=True)
