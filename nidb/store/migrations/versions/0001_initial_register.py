"""initial register

Revision ID: 0001
Revises:
Create Date: 2026-11-23 19:14:19.661368
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "occurred_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("subject_type", sa.String(length=40), nullable=False),
        sa.Column("subject_id", sa.String(length=100), nullable=False),
        sa.Column("purpose", sa.String(length=40), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_action"), ["action"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_subject_id"), ["subject_id"], unique=False)

    op.create_table(
        "benefits",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("bhxh_code", sa.String(length=10), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("monthly_amount", sa.BigInteger(), nullable=True),
        sa.Column("lump_sum", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_benefits")),
    )
    with op.batch_alter_table("benefits", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_benefits_bhxh_code"), ["bhxh_code"], unique=False)

    op.create_table(
        "import_batches",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("source_name", sa.String(length=500), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("rows_read", sa.BigInteger(), nullable=False),
        sa.Column("rows_inserted", sa.BigInteger(), nullable=False),
        sa.Column("rows_updated", sa.BigInteger(), nullable=False),
        sa.Column("rows_unchanged", sa.BigInteger(), nullable=False),
        sa.Column("rows_rejected", sa.BigInteger(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_batches")),
    )
    with op.batch_alter_table("import_batches", schema=None) as batch_op:
        batch_op.create_index("ix_import_batches_kind_sha256", ["kind", "sha256"], unique=False)

    op.create_table(
        "outbox_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("topic", sa.String(length=60), nullable=False),
        sa.Column("subject_key", sa.String(length=100), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_events")),
    )
    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_events_topic"), ["topic"], unique=False)

    op.create_table(
        "welfare_beneficiaries",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("personal_id", sa.String(length=12), nullable=False),
        sa.Column("program", sa.String(length=40), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("monthly_amount", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_welfare_beneficiaries")),
        sa.UniqueConstraint(
            "personal_id",
            "program",
            "start_date",
            name=op.f("uq_welfare_beneficiaries_personal_id_program_start_date"),
        ),
    )
    with op.batch_alter_table("welfare_beneficiaries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_welfare_beneficiaries_personal_id"), ["personal_id"], unique=False
        )

    op.create_table(
        "citizens",
        sa.Column("personal_id", sa.String(length=12), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("name_base", sa.String(length=200), nullable=False),
        sa.Column("date_of_birth", sa.String(length=10), nullable=False),
        sa.Column("dob_precision", sa.String(length=5), nullable=False),
        sa.Column("birth_year", sa.SmallInteger(), nullable=False),
        sa.Column("gender", sa.String(length=1), nullable=False),
        sa.Column("birth_province", sa.String(length=3), nullable=False),
        sa.Column("permanent_address", sa.Text(), nullable=True),
        sa.Column("household_id", sa.String(length=40), nullable=True),
        sa.Column("status", sa.String(length=5), nullable=False),
        sa.Column("death_date", sa.Date(), nullable=True),
        sa.Column("batch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["import_batches.id"], name=op.f("fk_citizens_batch_id_import_batches")
        ),
        sa.PrimaryKeyConstraint("personal_id", name=op.f("pk_citizens")),
    )
    with op.batch_alter_table("citizens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_citizens_household_id"), ["household_id"], unique=False
        )

    op.create_table(
        "contributions",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("bhxh_code", sa.String(length=10), nullable=False),
        sa.Column("employer_code", sa.String(length=20), nullable=False),
        sa.Column("period", sa.Date(), nullable=False),
        sa.Column("wage", sa.BigInteger(), nullable=False),
        sa.Column("bhxh_amount", sa.BigInteger(), nullable=False),
        sa.Column("bhyt_amount", sa.BigInteger(), nullable=False),
        sa.Column("bhtn_amount", sa.BigInteger(), nullable=False),
        sa.Column("batch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["import_batches.id"],
            name=op.f("fk_contributions_batch_id_import_batches"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contributions")),
        sa.UniqueConstraint(
            "bhxh_code",
            "employer_code",
            "period",
            name=op.f("uq_contributions_bhxh_code_employer_code_period"),
        ),
    )
    with op.batch_alter_table("contributions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contributions_bhxh_code"), ["bhxh_code"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_contributions_employer_code"), ["employer_code"], unique=False
        )

    op.create_table(
        "employers",
        sa.Column("employer_code", sa.String(length=20), nullable=False),
        sa.Column("enterprise_code", sa.String(length=14), nullable=True),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("province", sa.String(length=2), nullable=False),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("business_line", sa.String(length=200), nullable=True),
        sa.Column("employer_type", sa.String(length=20), nullable=False),
        sa.Column("registered_workers", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.Column("batch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["import_batches.id"], name=op.f("fk_employers_batch_id_import_batches")
        ),
        sa.PrimaryKeyConstraint("employer_code", name=op.f("pk_employers")),
    )
    with op.batch_alter_table("employers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_employers_enterprise_code"), ["enterprise_code"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_employers_province"), ["province"], unique=False)

    op.create_table(
        "health_cards",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("card_code", sa.String(length=15), nullable=False),
        sa.Column("bhxh_code", sa.String(length=10), nullable=False),
        sa.Column("group_code", sa.String(length=2), nullable=False),
        sa.Column("benefit_level", sa.SmallInteger(), nullable=False),
        sa.Column("province_code", sa.String(length=2), nullable=False),
        sa.Column("facility_code", sa.String(length=5), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=False),
        sa.Column("five_years_from", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("batch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["import_batches.id"],
            name=op.f("fk_health_cards_batch_id_import_batches"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_health_cards")),
        sa.UniqueConstraint(
            "card_code", "valid_from", name=op.f("uq_health_cards_card_code_valid_from")
        ),
    )
    with op.batch_alter_table("health_cards", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_health_cards_bhxh_code"), ["bhxh_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_health_cards_card_code"), ["card_code"], unique=False)

    op.create_table(
        "health_visits",
        sa.Column("visit_id", sa.String(length=100), nullable=False),
        sa.Column("card_code", sa.String(length=15), nullable=False),
        sa.Column("bhxh_code", sa.String(length=10), nullable=False),
        sa.Column("facility_code", sa.String(length=5), nullable=False),
        sa.Column("admitted_at", sa.DateTime(), nullable=False),
        sa.Column("discharged_at", sa.DateTime(), nullable=False),
        sa.Column("inpatient", sa.Boolean(), nullable=False),
        sa.Column("icd10", sa.String(length=8), nullable=False),
        sa.Column("total_cost", sa.BigInteger(), nullable=False),
        sa.Column("insurer_paid", sa.BigInteger(), nullable=False),
        sa.Column("patient_paid", sa.BigInteger(), nullable=False),
        sa.Column("batch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["import_batches.id"],
            name=op.f("fk_health_visits_batch_id_import_batches"),
        ),
        sa.PrimaryKeyConstraint("visit_id", name=op.f("pk_health_visits")),
    )
    with op.batch_alter_table("health_visits", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_health_visits_bhxh_code"), ["bhxh_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_health_visits_card_code"), ["card_code"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_health_visits_facility_code"), ["facility_code"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_health_visits_icd10"), ["icd10"], unique=False)

    op.create_table(
        "identity_links",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("bhxh_code", sa.String(length=10), nullable=False),
        sa.Column("personal_id", sa.String(length=12), nullable=False),
        sa.Column("source", sa.String(length=12), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_to", sa.DateTime(timezone=True), nullable=True),
        sa.Column("batch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("note", sa.String(length=400), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["import_batches.id"],
            name=op.f("fk_identity_links_batch_id_import_batches"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_links")),
    )
    with op.batch_alter_table("identity_links", schema=None) as batch_op:
        batch_op.create_index("ix_identity_links_pair", ["bhxh_code", "personal_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_identity_links_personal_id"), ["personal_id"], unique=False
        )

    op.create_table(
        "participation_periods",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("bhxh_code", sa.String(length=10), nullable=False),
        sa.Column("scheme", sa.String(length=4), nullable=False),
        sa.Column("employer_code", sa.String(length=20), nullable=True),
        sa.Column("participant_type", sa.String(length=2), nullable=False),
        sa.Column("start_month", sa.Date(), nullable=False),
        sa.Column("end_month", sa.Date(), nullable=True),
        sa.Column("batch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["import_batches.id"],
            name=op.f("fk_participation_periods_batch_id_import_batches"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_participation_periods")),
        sa.UniqueConstraint(
            "bhxh_code",
            "scheme",
            "start_month",
            name=op.f("uq_participation_periods_bhxh_code_scheme_start_month"),
        ),
    )
    with op.batch_alter_table("participation_periods", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_participation_periods_bhxh_code"), ["bhxh_code"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_participation_periods_employer_code"), ["employer_code"], unique=False
        )

    op.create_table(
        "persons",
        sa.Column("record_id", sa.String(length=40), nullable=False),
        sa.Column("bhxh_code", sa.String(length=10), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("name_base", sa.String(length=200), nullable=False),
        sa.Column("date_of_birth", sa.String(length=10), nullable=False),
        sa.Column("dob_precision", sa.String(length=5), nullable=False),
        sa.Column("birth_year", sa.SmallInteger(), nullable=False),
        sa.Column("gender", sa.String(length=1), nullable=True),
        sa.Column("declared_id", sa.String(length=12), nullable=True),
        sa.Column("declared_id_kind", sa.String(length=12), nullable=True),
        sa.Column("birth_province", sa.String(length=3), nullable=True),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("employer_code", sa.String(length=20), nullable=True),
        sa.Column(
            "verification_status", sa.String(length=16), server_default="unverified", nullable=False
        ),
        sa.Column("verified_personal_id", sa.String(length=12), nullable=True),
        sa.Column("verification_reasons", sa.String(length=400), nullable=True),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("batch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["import_batches.id"], name=op.f("fk_persons_batch_id_import_batches")
        ),
        sa.PrimaryKeyConstraint("record_id", name=op.f("pk_persons")),
    )
    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_persons_batch_id"), ["batch_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_persons_bhxh_code"), ["bhxh_code"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_persons_employer_code"), ["employer_code"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_persons_verified_personal_id"), ["verified_personal_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_persons_verified_personal_id"))
        batch_op.drop_index(batch_op.f("ix_persons_employer_code"))
        batch_op.drop_index(batch_op.f("ix_persons_bhxh_code"))
        batch_op.drop_index(batch_op.f("ix_persons_batch_id"))

    op.drop_table("persons")
    with op.batch_alter_table("participation_periods", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_participation_periods_employer_code"))
        batch_op.drop_index(batch_op.f("ix_participation_periods_bhxh_code"))

    op.drop_table("participation_periods")
    with op.batch_alter_table("identity_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identity_links_personal_id"))
        batch_op.drop_index("ix_identity_links_pair")

    op.drop_table("identity_links")
    with op.batch_alter_table("health_visits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_health_visits_icd10"))
        batch_op.drop_index(batch_op.f("ix_health_visits_facility_code"))
        batch_op.drop_index(batch_op.f("ix_health_visits_card_code"))
        batch_op.drop_index(batch_op.f("ix_health_visits_bhxh_code"))

    op.drop_table("health_visits")
    with op.batch_alter_table("health_cards", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_health_cards_card_code"))
        batch_op.drop_index(batch_op.f("ix_health_cards_bhxh_code"))

    op.drop_table("health_cards")
    with op.batch_alter_table("employers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_employers_province"))
        batch_op.drop_index(batch_op.f("ix_employers_enterprise_code"))

    op.drop_table("employers")
    with op.batch_alter_table("contributions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contributions_employer_code"))
        batch_op.drop_index(batch_op.f("ix_contributions_bhxh_code"))

    op.drop_table("contributions")
    with op.batch_alter_table("citizens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_citizens_household_id"))

    op.drop_table("citizens")
    with op.batch_alter_table("welfare_beneficiaries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_welfare_beneficiaries_personal_id"))

    op.drop_table("welfare_beneficiaries")
    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_events_topic"))

    op.drop_table("outbox_events")
    with op.batch_alter_table("import_batches", schema=None) as batch_op:
        batch_op.drop_index("ix_import_batches_kind_sha256")

    op.drop_table("import_batches")
    with op.batch_alter_table("benefits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_benefits_bhxh_code"))

    op.drop_table("benefits")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_subject_id"))
        batch_op.drop_index(batch_op.f("ix_audit_log_action"))

    op.drop_table("audit_log")
