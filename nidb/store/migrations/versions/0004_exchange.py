"""exchange: partners, grants, access log, api tokens

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 16:14:20.526404
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "access_log",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("occurred_at", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("service", sa.String(length=60), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=True),
        sa.Column("subject", sa.String(length=20), nullable=True),
        sa.Column("fields", sa.String(length=300), nullable=True),
        sa.Column("result", sa.String(length=40), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_access_log")),
        sa.UniqueConstraint("message_id", name=op.f("uq_access_log_message_id")),
    )
    with op.batch_alter_table("access_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_access_log_subject"), ["subject"], unique=False)

    op.create_table(
        "api_tokens",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_table(
        "partners",
        sa.Column("code", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("rate_limit", sa.Integer(), nullable=False),
        sa.Column("webhook_url", sa.String(length=500), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.Column("suspended_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_partners")),
    )
    op.create_table(
        "grants",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("partner_code", sa.String(length=100), nullable=False),
        sa.Column("service", sa.String(length=60), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("info_groups", sa.String(length=40), nullable=False),
        sa.Column("legal_basis", sa.String(length=300), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("granted_by", sa.String(length=100), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["partner_code"], ["partners.code"], name=op.f("fk_grants_partner_code_partners")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grants")),
    )
    with op.batch_alter_table("grants", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_grants_partner_code"), ["partner_code"], unique=False)

    op.create_table(
        "partner_keys",
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("partner_code", sa.String(length=100), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["partner_code"], ["partners.code"], name=op.f("fk_partner_keys_partner_code_partners")
        ),
        sa.PrimaryKeyConstraint("kid", name=op.f("pk_partner_keys")),
    )
    with op.batch_alter_table("partner_keys", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_partner_keys_partner_code"), ["partner_code"], unique=False
        )

    _forbid_changes_to_access_log()


def _forbid_changes_to_access_log() -> None:
    """The access log is append-only in the database too; `nidb audit verify` catches the rest."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION access_log_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'access_log is append-only'; END $$"
        )
        op.execute(
            "CREATE TRIGGER access_log_append_only BEFORE UPDATE OR DELETE ON access_log "
            "FOR EACH ROW EXECUTE FUNCTION access_log_append_only()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER access_log_no_{verb.lower()} BEFORE {verb} ON access_log "
                "BEGIN SELECT RAISE(ABORT, 'access_log is append-only'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS access_log_append_only ON access_log")
        op.execute("DROP FUNCTION IF EXISTS access_log_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS access_log_no_update")
        op.execute("DROP TRIGGER IF EXISTS access_log_no_delete")
    with op.batch_alter_table("partner_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_partner_keys_partner_code"))

    op.drop_table("partner_keys")
    with op.batch_alter_table("grants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_grants_partner_code"))

    op.drop_table("grants")
    op.drop_table("partners")
    op.drop_table("api_tokens")
    with op.batch_alter_table("access_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_log_subject"))

    op.drop_table("access_log")
