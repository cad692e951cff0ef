"""The employer channel: employer accounts, their signing keys, the messages they sent, and
their declarations (D02-LT / TK1-TS).

An employer known in ``employers`` (business-registry feed or import) is *enrolled* by staff:
it then has an account and one or more Ed25519 public keys, kept with their history (added,
revoked). Each signed submission's ``message_id`` is kept, so a replay is refused in any
process. A declaration is kept under the employer's own number with its outcome; a refused one
may be sent again, corrected, under the same number. Tables join ``Base.metadata``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from nidb.store.base import Base, BigId, now_column

DECLARATION_KINDS = ("register_unit", "increase", "decrease", "salary_change", "correction")
DECLARATION_STATUSES = ("applied", "refused")


class EmployerAccount(Base):
    """An enrolled employer (đơn vị đã đăng ký giao dịch điện tử)."""

    __tablename__ = "employer_accounts"
    __table_args__ = (CheckConstraint("status IN ('active', 'suspended')", name="status"),)

    employer_code: Mapped[str] = mapped_column(
        ForeignKey("employers.employer_code"), primary_key=True
    )
    status: Mapped[str] = mapped_column(String(10))
    enrolled_at: Mapped[datetime] = now_column()
    enrolled_by: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Wrong sign-ins in a row on the employer's pages (the rule of nidb.domain.credentials)."""
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_sign_in_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    password_must_change: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    """The password was issued by staff (shown once): the employer changes it at sign-in."""


class EmployerKey(Base):
    """An Ed25519 public key of an employer, named by its thumbprint (the JWS ``kid``)."""

    __tablename__ = "employer_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    employer_code: Mapped[str] = mapped_column(
        ForeignKey("employer_accounts.employer_code"), index=True
    )
    public_key: Mapped[str] = mapped_column(String(64))  # base64url of the raw 32 bytes
    added_at: Mapped[datetime] = now_column()
    added_by: Mapped[str] = mapped_column(String(100))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_by: Mapped[str | None] = mapped_column(String(100))
    revoke_reason: Mapped[str | None] = mapped_column(String(400))


class EmployerMessage(Base):
    """A signed submission admitted from an employer: its ``message_id`` is never admitted twice."""

    __tablename__ = "employer_messages"

    message_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    employer_code: Mapped[str] = mapped_column(String(20), index=True)
    kid: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = now_column()


class EmployerDeclaration(Base):
    """One declaration under the employer's own number, with its outcome and per-row errors."""

    __tablename__ = "employer_declarations"
    __table_args__ = (
        UniqueConstraint("employer_code", "declaration_no"),
        CheckConstraint(
            "kind IN (" + ", ".join(f"'{k}'" for k in DECLARATION_KINDS) + ")", name="kind"
        ),
        CheckConstraint(
            "status IN (" + ", ".join(f"'{s}'" for s in DECLARATION_STATUSES) + ")",
            name="status",
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    employer_code: Mapped[str] = mapped_column(String(20), index=True)
    declaration_no: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(10))
    body: Mapped[dict[str, object]] = mapped_column(JSON)
    errors: Mapped[list[dict[str, object]]] = mapped_column(JSON, default=list)
    flags: Mapped[list[dict[str, object]]] = mapped_column(JSON, default=list)
    results: Mapped[list[dict[str, object]]] = mapped_column(JSON, default=list)
    message_id: Mapped[str | None] = mapped_column(String(36))
    channel: Mapped[str] = mapped_column(String(10))  # api | ivan | web | cli
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    received_at: Mapped[datetime] = now_column()
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    note: Mapped[str | None] = mapped_column(Text)


class IssuedBhxhCode(Base):
    """Every BHXH code nidb has issued (cấp mã số BHXH): the primary key forbids a reuse."""

    __tablename__ = "issued_bhxh_codes"

    bhxh_code: Mapped[str] = mapped_column(String(10), primary_key=True)
    personal_id: Mapped[str] = mapped_column(String(12), index=True)
    issued_by: Mapped[str] = mapped_column(String(100))
    issued_at: Mapped[datetime] = now_column()
