"""Notifications that arrive (thông báo): where to reach a citizen or employer, and every
delivery by e-mail or SMS with its outcome (migration 0026_notify).

A delivery is keyed by the event it tells of and the channel (``event_key``, ``channel``), so
building the deliveries again adds none: each event reaches each address once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from nidb.store.base import Base, BigId, now_column


class NotifyContact(Base):
    """How to reach a citizen or an employer (địa chỉ nhận thông báo), and an employer's
    opt-outs. A citizen's choice of channels is a consent (``consent_choices`` topics
    ``notify_email``, ``notify_sms``, ``notify_access``: opt-in, Decree 13/2023); an employer's
    statutory reminders go by default to the e-mail and phone of its register row, unless it
    gave other addresses here or opted out of a channel."""

    __tablename__ = "notify_contacts"
    __table_args__ = (CheckConstraint("party_kind IN ('citizen', 'employer')", name="party_kind"),)

    party_kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    party_id: Mapped[str] = mapped_column(String(20), primary_key=True)
    """The personal ID of a citizen, the employer code of an employer."""
    email: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(20))
    email_off: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    sms_off: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    updated_at: Mapped[datetime] = now_column()


class NotifyDelivery(Base):
    """One message to one address by one channel (lần gửi thông báo) and what became of it."""

    __tablename__ = "notify_deliveries"
    __table_args__ = (
        UniqueConstraint("event_key", "channel"),
        CheckConstraint("channel IN ('email', 'sms')", name="channel"),
        CheckConstraint("status IN ('pending', 'sent', 'failed')", name="status"),
        Index("ix_notify_deliveries_status_due", "status", "next_attempt_at"),
        Index("ix_notify_deliveries_party", "party_kind", "party_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_key: Mapped[str] = mapped_column(String(120))
    """What it tells of: ``notification:ID``, ``reminder:ID``, ``access:PID:UNTIL``."""
    channel: Mapped[str] = mapped_column(String(5))
    party_kind: Mapped[str] = mapped_column(String(8))
    party_id: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str | None] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(7), default="pending", server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(String(500))
    provider_ref: Mapped[str | None] = mapped_column(String(100))
    """The SMS gateway's message id."""
    created_at: Mapped[datetime] = now_column()
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class NotifyCursor(Base):
    """How far a source of notices was read: per citizen, the time of the last access-log entry
    a "who read your data" notice covered (``access:PID``)."""

    __tablename__ = "notify_cursors"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    position: Mapped[str] = mapped_column(String(40))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


__all__ = ["NotifyContact", "NotifyCursor", "NotifyDelivery"]
