"""Models of the web front ends: sessions, staff users, consents, correction requests.

Tables here join ``nidb.store.base.Base.metadata`` (all of them: ``nidb.store.schema``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from nidb.domain.staff import StaffRole
from nidb.store.base import Base, BigId, now_column

STAFF_ROLES = tuple(role.value for role in StaffRole)
"""The values ``staff_users.role`` may hold (the CHECK constraint below lists them)."""
SCOPE_LEVELS = ("central", "province", "district")
CORRECTION_STATUSES = ("submitted", "in_review", "accepted", "rejected")


class WebSession(Base):
    """A signed-in browser (phiên đăng nhập): only a SHA-256 of its cookie value is kept, so a
    copy of this table cannot be replayed as cookies."""

    __tablename__ = "web_sessions"
    __table_args__ = (
        CheckConstraint("kind IN ('citizen', 'staff', 'employer')", name="kind"),
        Index("ix_web_sessions_kind_subject", "kind", "subject"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    subject: Mapped[str] = mapped_column(String(100))
    data: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = now_column()
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class StaffUser(Base):
    """A staff member of Vietnam Social Security (cán bộ) who signs in to the console."""

    __tablename__ = "staff_users"
    __table_args__ = (
        CheckConstraint(
            "role IN (" + ", ".join(f"'{role}'" for role in STAFF_ROLES) + ")",
            name="role",
        ),
        CheckConstraint("scope_level IN ('central', 'province', 'district')", name="scope_level"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(10))
    scope_level: Mapped[str] = mapped_column(String(10))
    province_code: Mapped[str | None] = mapped_column(String(2))
    district_code: Mapped[str | None] = mapped_column(String(5))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    password_changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_sign_in_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = now_column()
    totp_secret: Mapped[str | None] = mapped_column(String(200))
    """The TOTP secret, encrypted (AES-256-GCM, ``nidb.web.staff_totp``); set at the start of
    enrolment, in force once ``totp_enrolled_at`` is set."""
    totp_enrolled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    """The 30-second step of the last code accepted: a code of that step or earlier is refused
    (no replay)."""


class StaffRecoveryCode(Base):
    """A recovery code (mã khôi phục) of a staff member's second factor: argon2id hash only,
    usable once instead of a TOTP code."""

    __tablename__ = "staff_recovery_codes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    staff_user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = now_column()
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ConsentChoice(Base):
    """One consent decision (lựa chọn đồng ý chia sẻ) of a citizen: append-only, the latest
    row per (personal_id, topic) is in force, earlier rows are the history."""

    __tablename__ = "consent_choices"
    __table_args__ = (Index("ix_consent_choices_person_topic", "personal_id", "topic", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    personal_id: Mapped[str] = mapped_column(String(12))
    topic: Mapped[str] = mapped_column(String(40))
    granted: Mapped[bool] = mapped_column(Boolean)
    changed_at: Mapped[datetime] = now_column()


class CorrectionRequest(Base):
    """A citizen's request to correct a field of their record (yêu cầu điều chỉnh)."""

    __tablename__ = "correction_requests"
    __table_args__ = (
        CheckConstraint(
            "status IN ('submitted', 'in_review', 'accepted', 'rejected')", name="status"
        ),
        Index("ix_correction_requests_status", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    personal_id: Mapped[str] = mapped_column(String(12), index=True)
    field: Mapped[str] = mapped_column(String(40))
    current_value: Mapped[str | None] = mapped_column(String(200))
    new_value: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="submitted")
    created_at: Mapped[datetime] = now_column()
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decision_note: Mapped[str | None] = mapped_column(Text)


class CorrectionEvidence(Base):
    """A file attached to a correction request (PDF/JPEG/PNG, ≤ 5 MB), kept with its SHA-256."""

    __tablename__ = "correction_evidence"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("correction_requests.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(40))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_at: Mapped[datetime] = now_column()


class SignInRequest(Base):
    """A citizen's sign-in in flight at VNeID: the OpenID Connect state, nonce and PKCE verifier,
    bound to the browser that started it (SHA-256 of its ``nidb_oidc`` cookie); one-time."""

    __tablename__ = "web_sign_in_requests"

    state: Mapped[str] = mapped_column(String(64), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64))
    code_verifier: Mapped[str] = mapped_column(String(128))
    browser_hash: Mapped[str] = mapped_column(String(64))
    next_path: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = now_column()
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
