"""declared employment: each worker's declared contribution salary at an employer, by month runs

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 01:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from nidb.store.models_employment import CONTRACT_TYPES

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "declared_wages",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("employer_code", sa.String(length=20), nullable=False),
        sa.Column("bhxh_code", sa.String(length=10), nullable=False),
        sa.Column("personal_id", sa.String(length=12), nullable=True),
        sa.Column("from_month", sa.Date(), nullable=False),
        sa.Column("to_month", sa.Date(), nullable=True),
        sa.Column("wage", sa.BigInteger(), nullable=False),
        sa.Column("contract_type", sa.String(length=12), nullable=False),
        sa.Column("full_time", sa.Boolean(), nullable=False),
        sa.Column("social", sa.Boolean(), nullable=False),
        sa.Column("health", sa.Boolean(), nullable=False),
        sa.Column("unemployment", sa.Boolean(), nullable=False),
        sa.Column("declaration_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.CheckConstraint("wage > 0", name=op.f("ck_declared_wages_wage_positive")),
        sa.CheckConstraint(
            "to_month IS NULL OR to_month >= from_month",
            name=op.f("ck_declared_wages_months_ordered"),
        ),
        sa.CheckConstraint(
            "contract_type IN (" + ", ".join(f"'{c}'" for c in CONTRACT_TYPES) + ")",
            name=op.f("ck_declared_wages_contract_type"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_declared_wages")),
        sa.UniqueConstraint(
            "employer_code",
            "bhxh_code",
            "from_month",
            name=op.f("uq_declared_wages_employer_code_bhxh_code_from_month"),
        ),
    )
    op.create_index(op.f("ix_declared_wages_employer_code"), "declared_wages", ["employer_code"])
    op.create_index(op.f("ix_declared_wages_bhxh_code"), "declared_wages", ["bhxh_code"])
    op.create_index(op.f("ix_declared_wages_declaration_id"), "declared_wages", ["declaration_id"])


def downgrade() -> None:
    op.drop_table("declared_wages")
