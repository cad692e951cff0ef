"""Models of the online public services (dịch vụ công trực tuyến): dossiers and payments.

Tables here join ``nidb.store.base.Base.metadata`` (all of them: ``nidb.store.schema``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
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

from nidb.store.base import Base, BigId, now_column


class Dossier(Base):
    """A dossier (hồ sơ) of an online public service, moving through its kind's states.

    ``version`` is the optimistic-concurrency counter: every transition updates the row
    ``WHERE version = <the version the decider saw>``, so of two staff members deciding at
    once exactly one wins. ``source_ref`` names the registry event that opened a dossier
    without a citizen (a birth, a death): unique, so a replayed feed opens nothing twice.
    """

    __tablename__ = "dossiers"
    __table_args__ = (
        Index("ix_dossiers_state_due", "state", "state_due_at"),
        Index("ix_dossiers_province_state", "province", "state"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(30), index=True)
    applicant_personal_id: Mapped[str | None] = mapped_column(String(12), index=True)
    applicant_bhxh_code: Mapped[str | None] = mapped_column(String(10), index=True)
    subject_personal_id: Mapped[str | None] = mapped_column(String(12), index=True)
    province: Mapped[str | None] = mapped_column(String(2))
    state: Mapped[str] = mapped_column(String(24))
    state_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    data: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    checks: Mapped[list[object]] = mapped_column(JSON, default=list)
    source_ref: Mapped[str | None] = mapped_column(String(120), unique=True)
    submitted_at: Mapped[datetime] = now_column()
    updated_at: Mapped[datetime] = now_column()
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class DossierEvent(Base):
    """One step of a dossier's history: who moved it from which state to which, when, why."""

    __tablename__ = "dossier_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"), index=True)
    actor: Mapped[str] = mapped_column(String(100))
    from_state: Mapped[str | None] = mapped_column(String(24))
    to_state: Mapped[str] = mapped_column(String(24))
    occurred_at: Mapped[datetime] = now_column()
    note: Mapped[str | None] = mapped_column(Text)


class DossierFile(Base):
    """A file attached to a dossier (giấy tờ kèm theo), checked for type and size on upload."""

    __tablename__ = "dossier_files"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = now_column()


class Payment(Base):
    """A payment asked of the payment gateway for a dossier (thanh toán điện tử).

    ``gateway_txn_id`` is unique: the gateway's transaction can settle one payment once, and a
    second callback for it finds the row already paid.
    """

    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'paid', 'failed')", name="status"),
        CheckConstraint("amount > 0", name="amount"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"), index=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(8), default="pending", server_default="pending")
    gateway_payment_id: Mapped[str | None] = mapped_column(String(64))
    gateway_txn_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    pay_url: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = now_column()
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Notification(Base):
    """A message to a citizen (thông báo): to whom, by which channel, the Vietnamese text."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    personal_id: Mapped[str] = mapped_column(String(12), index=True)
    channel: Mapped[str] = mapped_column(String(10))  # portal | sms | email
    text_vi: Mapped[str] = mapped_column(Text)
    dossier_id: Mapped[int | None] = mapped_column(ForeignKey("dossiers.id"), index=True)
    created_at: Mapped[datetime] = now_column()
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


__all__ = ["Dossier", "DossierEvent", "DossierFile", "Notification", "Payment"]
