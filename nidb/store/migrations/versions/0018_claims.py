"""health-insurance claims: facility and drug/service catalogues, claims (XML 130), lines,
resubmission history and assessment results

Revision ID: 0018
Revises: 0016
Create Date: 2026-12-07 02:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "claim_catalogue",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("unit", sa.String(length=30), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("payment_ratio", sa.SmallInteger(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.CheckConstraint("kind IN ('drug', 'service')", name=op.f("ck_claim_catalogue_kind")),
        sa.CheckConstraint(
            "payment_ratio BETWEEN 0 AND 100", name=op.f("ck_claim_catalogue_ratio_range")
        ),
        sa.CheckConstraint("price >= 0", name=op.f("ck_claim_catalogue_price_not_negative")),
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_to >= valid_from",
            name=op.f("ck_claim_catalogue_dates_ordered"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_catalogue")),
        sa.UniqueConstraint(
            "kind", "code", "valid_from", name=op.f("uq_claim_catalogue_kind_code_valid_from")
        ),
    )
    op.create_index(op.f("ix_claim_catalogue_code"), "claim_catalogue", ["code"], unique=False)
    op.create_table(
        "claim_facilities",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("code", sa.String(length=5), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.Column("province_code", sa.String(length=2), nullable=False),
        sa.Column("contract_from", sa.Date(), nullable=False),
        sa.Column("contract_to", sa.Date(), nullable=True),
        sa.CheckConstraint(
            "contract_to IS NULL OR contract_to >= contract_from",
            name=op.f("ck_claim_facilities_contract_ordered"),
        ),
        sa.CheckConstraint("level BETWEEN 1 AND 4", name=op.f("ck_claim_facilities_level_range")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_facilities")),
        sa.UniqueConstraint(
            "code", "contract_from", name=op.f("uq_claim_facilities_code_contract_from")
        ),
    )
    op.create_index(op.f("ix_claim_facilities_code"), "claim_facilities", ["code"], unique=False)
    op.create_table(
        "claims",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("facility_code", sa.String(length=5), nullable=False),
        sa.Column("ma_lk", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("card_code", sa.String(length=15), nullable=False),
        sa.Column("bhxh_code", sa.String(length=10), nullable=False),
        sa.Column("registered_facility", sa.String(length=5), nullable=True),
        sa.Column("admitted_at", sa.DateTime(), nullable=False),
        sa.Column("discharged_at", sa.DateTime(), nullable=False),
        sa.Column("inpatient", sa.Boolean(), nullable=False),
        sa.Column("route", sa.String(length=10), nullable=False),
        sa.Column("icd10", sa.String(length=8), nullable=False),
        sa.Column("claimed_total", sa.BigInteger(), nullable=False),
        sa.Column("sick_leave", sa.JSON(), nullable=True),
        sa.Column("sender", sa.String(length=100), nullable=False),
        sa.Column(
            "received_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("outcome", sa.String(length=10), nullable=True),
        sa.Column("accepted_total", sa.BigInteger(), nullable=True),
        sa.Column("insurer_total", sa.BigInteger(), nullable=True),
        sa.Column("reasons", sa.JSON(), nullable=True),
        sa.Column("assessed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "outcome IS NULL OR outcome IN ('accepted', 'reduced', 'rejected')",
            name=op.f("ck_claims_outcome"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claims")),
        sa.UniqueConstraint("facility_code", "ma_lk", name=op.f("uq_claims_facility_code_ma_lk")),
    )
    op.create_index(op.f("ix_claims_bhxh_code"), "claims", ["bhxh_code"], unique=False)
    op.create_index(op.f("ix_claims_card_code"), "claims", ["card_code"], unique=False)
    op.create_index(op.f("ix_claims_facility_code"), "claims", ["facility_code"], unique=False)
    op.create_index(op.f("ix_claims_outcome"), "claims", ["outcome"], unique=False)
    op.create_table(
        "claim_lines",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("claim_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("item_code", sa.String(length=50), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("quantity_milli", sa.BigInteger(), nullable=False),
        sa.Column("unit_price", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("accepted_amount", sa.BigInteger(), nullable=True),
        sa.Column("insurer_amount", sa.BigInteger(), nullable=True),
        sa.Column("reductions", sa.JSON(), nullable=True),
        sa.CheckConstraint("kind IN ('drug', 'service')", name=op.f("ck_claim_lines_kind")),
        sa.CheckConstraint("quantity_milli > 0", name=op.f("ck_claim_lines_quantity_positive")),
        sa.CheckConstraint(
            "unit_price >= 0 AND amount >= 0", name=op.f("ck_claim_lines_money_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["claim_id"],
            ["claims.id"],
            name=op.f("fk_claim_lines_claim_id_claims"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_lines")),
        sa.UniqueConstraint("claim_id", "line_no", name=op.f("uq_claim_lines_claim_id_line_no")),
    )
    op.create_index(op.f("ix_claim_lines_claim_id"), "claim_lines", ["claim_id"], unique=False)
    op.create_table(
        "claim_versions",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("claim_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column(
            "replaced_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["claim_id"],
            ["claims.id"],
            name=op.f("fk_claim_versions_claim_id_claims"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_versions")),
        sa.UniqueConstraint("claim_id", "version", name=op.f("uq_claim_versions_claim_id_version")),
    )
    op.create_index(
        op.f("ix_claim_versions_claim_id"), "claim_versions", ["claim_id"], unique=False
    )


def downgrade() -> None:
    for table in ("claim_versions", "claim_lines", "claims", "claim_facilities", "claim_catalogue"):
        op.drop_table(table)
