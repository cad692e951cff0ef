"""SQLAlchemy models of the register: the information groups of Decree 43/2021 Art. 6.

One set of models serves SQLite (embedded default) and PostgreSQL. Natural keys from the
interchange layouts are unique constraints, so every import can upsert by record key.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

# Base and BigId re-exported: callers write models.Base
from nidb.store.base import Base as Base
from nidb.store.base import BigId as BigId
from nidb.store.base import now_column


class ImportBatch(Base):
    """One imported file (lô nhập): what, from where, how many rows, when."""

    __tablename__ = "import_batches"
    # not unique: `nidb import --force` re-applies a file as a new batch
    __table_args__ = (Index("ix_import_batches_kind_sha256", "kind", "sha256"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(20))
    source_name: Mapped[str] = mapped_column(String(500))
    sha256: Mapped[str] = mapped_column(String(64))
    rows_read: Mapped[int] = mapped_column(BigInteger)
    rows_inserted: Mapped[int] = mapped_column(BigInteger)
    rows_updated: Mapped[int] = mapped_column(BigInteger)
    rows_unchanged: Mapped[int] = mapped_column(BigInteger)
    rows_rejected: Mapped[int] = mapped_column(BigInteger)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Citizen(Base):
    """A person as the national population database knows them (group a, Art. 7: its source)."""

    __tablename__ = "citizens"

    personal_id: Mapped[str] = mapped_column(String(12), primary_key=True)
    full_name: Mapped[str] = mapped_column(String(200))
    name_base: Mapped[str] = mapped_column(String(200))
    date_of_birth: Mapped[str] = mapped_column(String(10))
    dob_precision: Mapped[str] = mapped_column(String(5))
    birth_year: Mapped[int] = mapped_column(SmallInteger)
    gender: Mapped[str] = mapped_column(String(1))
    birth_province: Mapped[str] = mapped_column(String(3))
    permanent_address: Mapped[str | None] = mapped_column(Text)
    household_id: Mapped[str | None] = mapped_column(String(40), index=True)
    status: Mapped[str] = mapped_column(String(5))
    death_date: Mapped[date | None] = mapped_column(Date)
    old_id: Mapped[str | None] = mapped_column(String(9), index=True)
    """The old 9-digit ID card number (số CMND) the population database keeps for whoever
    held one; evidence for matching a record that declares it, never an identifier."""
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))


class Person(Base):
    """A participant record held by the insurance system (hồ sơ người tham gia).

    Carries what was declared over the years and the result of verification against the
    population database (Đề án 06).
    """

    __tablename__ = "persons"

    record_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    bhxh_code: Mapped[str] = mapped_column(String(10), index=True)
    full_name: Mapped[str] = mapped_column(String(200))
    name_base: Mapped[str] = mapped_column(String(200))
    date_of_birth: Mapped[str] = mapped_column(String(10))
    dob_precision: Mapped[str] = mapped_column(String(5))
    birth_year: Mapped[int] = mapped_column(SmallInteger)
    gender: Mapped[str | None] = mapped_column(String(1))
    declared_id: Mapped[str | None] = mapped_column(String(12))
    declared_id_kind: Mapped[str | None] = mapped_column(String(12))
    birth_province: Mapped[str | None] = mapped_column(String(3))
    address: Mapped[str | None] = mapped_column(Text)
    employer_code: Mapped[str | None] = mapped_column(String(20), index=True)
    verification_status: Mapped[str] = mapped_column(
        String(16), default="unverified", server_default="unverified"
    )
    verified_personal_id: Mapped[str | None] = mapped_column(String(12), index=True)
    verification_reasons: Mapped[str | None] = mapped_column(String(400))
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"), index=True)
    merged_into: Mapped[str | None] = mapped_column(String(40))
    """The record this one was merged into by a dedupe merge (never deleted); None if not."""


class IdentityLink(Base):
    """A BHXH code ↔ personal ID link, with history: links are closed, never deleted."""

    __tablename__ = "identity_links"
    __table_args__ = (Index("ix_identity_links_pair", "bhxh_code", "personal_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    bhxh_code: Mapped[str] = mapped_column(String(10))  # led by ix_identity_links_pair
    personal_id: Mapped[str] = mapped_column(String(12), index=True)
    source: Mapped[str] = mapped_column(String(12))  # declared | verified | merge | staff | match
    valid_from: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    valid_to: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))
    note: Mapped[str | None] = mapped_column(String(400))


class ReviewItem(Base):
    """A case queued for a staff member to decide (hàng chờ xử lý): accept or reject a candidate.

    `kind` says who queued it: verification against the population database, probabilistic
    matching, or duplicate detection. `record_id` names the person record (no foreign key: the
    queue outlives re-imports); `candidate_personal_id` is the registry person proposed.
    """

    __tablename__ = "review_items"
    __table_args__ = (
        CheckConstraint("kind IN ('verification', 'match', 'dedupe')", name="kind"),
        CheckConstraint("status IN ('open', 'accepted', 'rejected')", name="status"),
        Index("ix_review_items_status_kind", "status", "kind"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    record_id: Mapped[str] = mapped_column(String(40), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    candidate_personal_id: Mapped[str | None] = mapped_column(String(12))
    score: Mapped[float | None] = mapped_column(Float)
    reasons: Mapped[str] = mapped_column(Text, default="", server_default="")
    status: Mapped[str] = mapped_column(String(8), default="open", server_default="open")
    created_at: Mapped[datetime] = now_column()
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    note: Mapped[str | None] = mapped_column(Text)


class Employer(Base):
    """An employer (đơn vị sử dụng lao động), group g; Art. 7: from the business registry."""

    __tablename__ = "employers"

    employer_code: Mapped[str] = mapped_column(String(20), primary_key=True)
    enterprise_code: Mapped[str | None] = mapped_column(String(14), index=True)
    name: Mapped[str] = mapped_column(String(300))
    province: Mapped[str] = mapped_column(String(2), index=True)
    address: Mapped[str | None] = mapped_column(Text)
    business_line: Mapped[str | None] = mapped_column(String(200))
    employer_type: Mapped[str] = mapped_column(String(20))
    registered_workers: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(8))
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(200))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))


class ParticipationPeriod(Base):
    """A period of BHXH, BHYT or BHTN participation (quá trình tham gia)."""

    __tablename__ = "participation_periods"
    __table_args__ = (UniqueConstraint("bhxh_code", "scheme", "start_month"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    bhxh_code: Mapped[str] = mapped_column(String(10), index=True)
    scheme: Mapped[str] = mapped_column(String(4))
    employer_code: Mapped[str | None] = mapped_column(String(20), index=True)
    participant_type: Mapped[str] = mapped_column(String(2))
    start_month: Mapped[date] = mapped_column(Date)
    end_month: Mapped[date | None] = mapped_column(Date)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))


class Contribution(Base):
    """One month's contributions for one person through one employer, in đồng."""

    __tablename__ = "contributions"
    __table_args__ = (UniqueConstraint("bhxh_code", "employer_code", "period"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    bhxh_code: Mapped[str] = mapped_column(String(10), index=True)
    employer_code: Mapped[str] = mapped_column(String(20), index=True)
    period: Mapped[date] = mapped_column(Date)
    wage: Mapped[int] = mapped_column(BigInteger)
    bhxh_amount: Mapped[int] = mapped_column(BigInteger)
    bhyt_amount: Mapped[int] = mapped_column(BigInteger)
    bhtn_amount: Mapped[int] = mapped_column(BigInteger)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))


class HealthCard(Base):
    """A health-insurance card (thẻ BHYT) with its validity and status."""

    __tablename__ = "health_cards"
    __table_args__ = (UniqueConstraint("card_code", "valid_from"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    card_code: Mapped[str] = mapped_column(String(15), index=True)
    bhxh_code: Mapped[str] = mapped_column(String(10), index=True)
    group_code: Mapped[str] = mapped_column(String(2))
    benefit_level: Mapped[int] = mapped_column(SmallInteger)
    province_code: Mapped[str] = mapped_column(String(2))
    facility_code: Mapped[str] = mapped_column(String(5))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date] = mapped_column(Date)
    five_years_from: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))


class Benefit(Base):
    """A benefit: pension, sickness, maternity, one-time, unemployment, funeral, survivors."""

    __tablename__ = "benefits"
    __table_args__ = (UniqueConstraint("bhxh_code", "kind", "start_date"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    bhxh_code: Mapped[str] = mapped_column(String(10), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    monthly_amount: Mapped[int | None] = mapped_column(BigInteger)
    lump_sum: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(12))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))


class HealthVisit(Base):
    """One insured hospital visit, summarised (Decision 130/QĐ-BYT table XML1)."""

    __tablename__ = "health_visits"

    visit_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    card_code: Mapped[str] = mapped_column(String(15), index=True)
    bhxh_code: Mapped[str] = mapped_column(String(10), index=True)
    facility_code: Mapped[str] = mapped_column(String(5), index=True)
    admitted_at: Mapped[datetime] = mapped_column(DateTime)
    discharged_at: Mapped[datetime] = mapped_column(DateTime)
    inpatient: Mapped[bool] = mapped_column(Boolean)
    icd10: Mapped[str] = mapped_column(String(8), index=True)
    total_cost: Mapped[int] = mapped_column(BigInteger)
    insurer_paid: Mapped[int] = mapped_column(BigInteger)
    patient_paid: Mapped[int] = mapped_column(BigInteger)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))


class WelfareBeneficiary(Base):
    """A social-welfare beneficiary known from MOLISA (group i)."""

    __tablename__ = "welfare_beneficiaries"
    __table_args__ = (UniqueConstraint("personal_id", "program", "start_date"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    personal_id: Mapped[str] = mapped_column(String(12), index=True)
    program: Mapped[str] = mapped_column(String(40))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    monthly_amount: Mapped[int | None] = mapped_column(BigInteger)


class AuditEntry(Base):
    """Append-only audit log: who did what to which subject, when, and why."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    occurred_at: Mapped[datetime] = now_column()
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(60), index=True)
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[str] = mapped_column(String(100), index=True)
    purpose: Mapped[str | None] = mapped_column(String(40))
    detail: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)


class OutboxEvent(Base):
    """An event written in the same transaction as the change it announces."""

    __tablename__ = "outbox_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = now_column()
    topic: Mapped[str] = mapped_column(String(60), index=True)
    subject_key: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    dispatched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CodeMerge(Base):
    """A merge of one person's duplicate BHXH codes (gộp sổ): who, why, when, and its undo."""

    __tablename__ = "code_merges"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kept_code: Mapped[str] = mapped_column(String(10), index=True)
    retired_code: Mapped[str] = mapped_column(String(10), index=True)
    actor: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(String(400))
    merged_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    undone_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    undone_by: Mapped[str | None] = mapped_column(String(100))
    undo_reason: Mapped[str | None] = mapped_column(String(400))


class CodeMergeMove(Base):
    """One row a merge moved to the kept code, so that an undo moves exactly it back."""

    __tablename__ = "code_merge_moves"
    __table_args__ = (Index("ix_code_merge_moves_merge_table", "merge_id", "table_name"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    merge_id: Mapped[int] = mapped_column(ForeignKey("code_merges.id"))
    table_name: Mapped[str] = mapped_column(String(40))
    row_key: Mapped[str] = mapped_column(String(100))


class Partner(Base):
    """A member system allowed to exchange messages (X-Road style: country/class/member/subsystem)."""

    __tablename__ = "partners"

    code: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(20))
    rate_limit: Mapped[int] = mapped_column(Integer)  # requests per second
    webhook_url: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = now_column()
    suspended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PartnerKey(Base):
    """An Ed25519 public key of a partner, named by its thumbprint (the JWS ``kid``)."""

    __tablename__ = "partner_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    partner_code: Mapped[str] = mapped_column(ForeignKey("partners.code"), index=True)
    public_key: Mapped[str] = mapped_column(String(64))  # base64url of the raw 32 bytes
    created_at: Mapped[datetime] = now_column()
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Grant(Base):
    """The right of a partner to call a service for a purpose, over some information groups."""

    __tablename__ = "grants"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    partner_code: Mapped[str] = mapped_column(ForeignKey("partners.code"), index=True)
    service: Mapped[str] = mapped_column(String(60))
    purpose: Mapped[str] = mapped_column(String(20))
    info_groups: Mapped[str] = mapped_column(String(40))  # comma-separated codes: a,d,dd,e,g,h,i
    legal_basis: Mapped[str] = mapped_column(String(300))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    granted_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = now_column()
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_by: Mapped[str | None] = mapped_column(String(100))


class AccessLogEntry(Base):
    """One request or read of personal data, in an append-only hash chain (``lane``, ``seq``)."""

    __tablename__ = "access_log"

    lane: Mapped[int] = mapped_column(SmallInteger, primary_key=True, server_default="0")
    """Each writing process appends to its own chain (lane), so writers never wait for each
    other; every lane is a complete hash chain from seq 1."""
    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    occurred_at: Mapped[str] = mapped_column(String(32))  # ISO UTC text, hashed as stored
    actor: Mapped[str] = mapped_column(String(100))
    service: Mapped[str] = mapped_column(String(60))
    purpose: Mapped[str | None] = mapped_column(String(20))
    subject: Mapped[str | None] = mapped_column(String(20), index=True)  # BHXH code read
    fields: Mapped[str | None] = mapped_column(String(300))
    result: Mapped[str] = mapped_column(String(40))
    message_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    detail: Mapped[str] = mapped_column(Text)  # canonical JSON
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))


class ApiToken(Base):
    """A bearer token of a staff member or tool for the HTTP API; only its SHA-256 is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = now_column()
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # the area the holder covers, as a staff account's (issue 16): central, province or district;
    # tokens issued before areas existed are 'province' with no province: they see nothing
    scope_level: Mapped[str] = mapped_column(String(10), server_default="province")
    province_code: Mapped[str | None] = mapped_column(String(2))
    district_code: Mapped[str | None] = mapped_column(String(5))


class Subscription(Base):
    """A partner's subscription to outbox events by topic, delivered by webhook (issue 4).

    ``topic`` is an exact topic (``identity.person_dead``), a prefix pattern (``identity.*``) or
    ``*``. A paused subscription keeps receiving deliveries into its queue but nothing is sent;
    an ended one gets no new deliveries.
    """

    __tablename__ = "subscriptions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    partner_code: Mapped[str] = mapped_column(ForeignKey("partners.code"), index=True)
    topic: Mapped[str] = mapped_column(String(60))
    url: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = now_column()
    created_by: Mapped[str] = mapped_column(String(100))
    paused_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Delivery(Base):
    """One outbox event owed to one subscription: pending, delivered, dead or skipped.

    ``subject_key`` is copied from the event so that the per-subject order check (no event is
    sent while an earlier one of the same subject is pending or dead) reads one index.
    ``last_error`` holds a status code or an exception class, never personal data.
    """

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("subscription_id", "event_id"),
        CheckConstraint("status IN ('pending', 'delivered', 'dead', 'skipped')", name="status"),
        # the next deliverable rows of a subscription, in event order
        Index(
            "ix_deliveries_pending",
            "subscription_id",
            "event_id",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
        # "is an earlier event of this subject still owed?"
        Index(
            "ix_deliveries_open_subject",
            "subscription_id",
            "subject_key",
            "event_id",
            postgresql_where=text("status IN ('pending', 'dead')"),
            sqlite_where=text("status IN ('pending', 'dead')"),
        ),
        Index("ix_deliveries_status", "subscription_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id"))
    event_id: Mapped[int] = mapped_column(ForeignKey("outbox_events.id"))
    subject_key: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(10), default="pending", server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = now_column()
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


# events not yet fanned out to the subscriptions (nidb.outbox.events.fan_out), in id order
Index(
    "ix_outbox_events_undispatched",
    OutboxEvent.id,
    postgresql_where=OutboxEvent.dispatched_at.is_(None),
    sqlite_where=OutboxEvent.dispatched_at.is_(None),
)


class FeedCursor(Base):
    """How far nidb has read another system's change feed; advanced with the changes applied."""

    __tablename__ = "feed_cursors"

    source: Mapped[str] = mapped_column(String(40), primary_key=True)
    cursor: Mapped[str | None] = mapped_column(String(200))
    changes_applied: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    updated_at: Mapped[datetime] = now_column()


class Alert(Base):
    """Something staff must look at, routed to a province: a death with live cards or pension,
    the closure of an employer with insured workers, a fraud rule's hit (detect)."""

    __tablename__ = "alerts"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'confirmed', 'dismissed')", name="status"),
        Index("ix_alerts_status_province", "status", "province"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    province: Mapped[str | None] = mapped_column(String(2))
    subject_type: Mapped[str] = mapped_column(String(20))
    subject_id: Mapped[str] = mapped_column(String(100), index=True)
    detail: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(10), default="open", server_default="open")
    created_at: Mapped[datetime] = now_column()
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    note: Mapped[str | None] = mapped_column(Text)


class ExtractJob(Base):
    """A partner's bulk extract: many people through one granted service, answered later."""

    __tablename__ = "extract_jobs"
    __table_args__ = (
        CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name="status"),
        Index("ix_extract_jobs_status", "status", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    partner_code: Mapped[str] = mapped_column(String(100), index=True)
    service: Mapped[str] = mapped_column(String(60))
    purpose: Mapped[str] = mapped_column(String(20))
    grant_id: Mapped[int] = mapped_column(BigInteger)
    groups: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(10), default="queued", server_default="queued")
    subjects: Mapped[int] = mapped_column(Integer)
    found: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    not_found: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = now_column()
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    error: Mapped[str | None] = mapped_column(String(200))
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """Renewed by the running worker after every chunk: a running job whose heartbeat is older
    than the lease belongs to a dead process and is taken over where it stopped."""


class ExtractItem(Base):
    """One subject of an extract job and, once run, its answer (None: not found or invalid)."""

    __tablename__ = "extract_items"

    job_id: Mapped[str] = mapped_column(ForeignKey("extract_jobs.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    query: Mapped[dict[str, object]] = mapped_column(JSON)
    bhxh_code: Mapped[str | None] = mapped_column(String(10))
    outcome: Mapped[str | None] = mapped_column(
        String(24)
    )  # ok | E_SUBJECT_NOT_FOUND | E_BODY_INVALID
    answer: Mapped[dict[str, object] | None] = mapped_column(JSON)
