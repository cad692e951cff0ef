"""Health-insurance claims (giám định BHYT): catalogues, claims as sent in XML 130, their lines,
the history of resubmissions, and what the automatic assessment decided.

Tables here join ``nidb.store.base.Base.metadata`` (all of them: ``nidb.store.schema``).
Money is whole đồng; quantities are thousandths of a unit (``quantity_milli``), since XML 130
allows three decimals (half a tablet is 500).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from nidb.store.base import Base, BigId, now_column

ITEM_KINDS = ("drug", "service")
OUTCOMES = ("accepted", "reduced", "rejected")


class ClaimFacility(Base):
    """A health facility (cơ sở KCB) under contract with the insurer, for a run of dates."""

    __tablename__ = "claim_facilities"
    __table_args__ = (
        UniqueConstraint("code", "contract_from"),
        CheckConstraint("level BETWEEN 1 AND 4", name="level_range"),
        CheckConstraint(
            "contract_to IS NULL OR contract_to >= contract_from", name="contract_ordered"
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(5), index=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[int] = mapped_column(SmallInteger)  # 1 trung ương, 2 tỉnh, 3 huyện, 4 xã
    province_code: Mapped[str] = mapped_column(String(2))
    contract_from: Mapped[date] = mapped_column(Date)
    contract_to: Mapped[date | None] = mapped_column(Date)


class ClaimCatalogueItem(Base):
    """A drug or a service (thuốc, dịch vụ kỹ thuật) the fund pays for, at a price capped by the
    insurer and a payment ratio, for a run of dates."""

    __tablename__ = "claim_catalogue"
    __table_args__ = (
        UniqueConstraint("kind", "code", "valid_from"),
        CheckConstraint("kind IN ('drug', 'service')", name="kind"),
        CheckConstraint("price >= 0", name="price_not_negative"),
        CheckConstraint("payment_ratio BETWEEN 0 AND 100", name="ratio_range"),
        CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="dates_ordered"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(8))
    code: Mapped[str] = mapped_column(String(50), index=True)
    name: Mapped[str] = mapped_column(String(300))
    unit: Mapped[str] = mapped_column(String(30))
    price: Mapped[int] = mapped_column(BigInteger)
    payment_ratio: Mapped[int] = mapped_column(SmallInteger)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)


class Claim(Base):
    """One visit's claim (hồ sơ, keyed by MA_LK at its facility), as last sent, and its outcome."""

    __tablename__ = "claims"
    __table_args__ = (
        UniqueConstraint("facility_code", "ma_lk"),
        CheckConstraint(
            "outcome IS NULL OR outcome IN ('accepted', 'reduced', 'rejected')", name="outcome"
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    facility_code: Mapped[str] = mapped_column(String(5), index=True)
    ma_lk: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)
    card_code: Mapped[str] = mapped_column(String(15), index=True)
    bhxh_code: Mapped[str] = mapped_column(String(10), index=True)
    registered_facility: Mapped[str | None] = mapped_column(String(5))
    admitted_at: Mapped[datetime] = mapped_column(DateTime)  # UTC
    discharged_at: Mapped[datetime] = mapped_column(DateTime)  # UTC
    inpatient: Mapped[bool] = mapped_column(Boolean)
    route: Mapped[str] = mapped_column(String(10))  # right, referral, emergency, wrong
    icd10: Mapped[str] = mapped_column(String(8))
    claimed_total: Mapped[int] = mapped_column(BigInteger)
    sick_leave: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # XML11, kept for benefits
    sender: Mapped[str] = mapped_column(String(100))
    received_at: Mapped[datetime] = now_column()
    outcome: Mapped[str | None] = mapped_column(String(10), index=True)
    accepted_total: Mapped[int | None] = mapped_column(BigInteger)
    insurer_total: Mapped[int | None] = mapped_column(BigInteger)
    reasons: Mapped[list[Any] | None] = mapped_column(JSON)
    assessed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    share_pct: Mapped[int | None] = mapped_column(SmallInteger)  # the fund's share, 80/95/100


class ClaimLine(Base):
    """One line of a claim: a drug (XML2) or a service or consumable (XML3)."""

    __tablename__ = "claim_lines"
    __table_args__ = (
        UniqueConstraint("claim_id", "line_no"),
        CheckConstraint("kind IN ('drug', 'service')", name="kind"),
        CheckConstraint("quantity_milli > 0", name="quantity_positive"),
        CheckConstraint("unit_price >= 0 AND amount >= 0", name="money_not_negative"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id", ondelete="CASCADE"), index=True)
    line_no: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(8))
    item_code: Mapped[str] = mapped_column(String(50))
    name: Mapped[str] = mapped_column(String(300))
    quantity_milli: Mapped[int] = mapped_column(BigInteger)
    unit_price: Mapped[int] = mapped_column(BigInteger)
    amount: Mapped[int] = mapped_column(BigInteger)
    accepted_amount: Mapped[int | None] = mapped_column(BigInteger)
    insurer_amount: Mapped[int | None] = mapped_column(BigInteger)
    reductions: Mapped[list[Any] | None] = mapped_column(JSON)
    payment_ratio: Mapped[int | None] = mapped_column(SmallInteger)  # the catalogue's, that day


class ClaimVersion(Base):
    """A claim as it was before a resubmission replaced it (the claim's history)."""

    __tablename__ = "claim_versions"
    __table_args__ = (UniqueConstraint("claim_id", "version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    replaced_at: Mapped[datetime] = now_column()


REVIEW_DECISIONS = ("accept", "adjust")


class ClaimReview(Base):
    """A staff member's review of a flagged claim (giám định viên xem xét): the automatic
    assessment accepted as it is, or adjusted line by line, always with a reason. ``before`` and
    ``after`` hold the money of the claim and of every line changed, so the review can be read
    back exactly."""

    __tablename__ = "claim_reviews"
    __table_args__ = (
        UniqueConstraint("claim_id", "version"),
        CheckConstraint("decision IN ('accept', 'adjust')", name="decision"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)  # the claim's version reviewed
    decision: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(String(1000))
    actor: Mapped[str] = mapped_column(String(100))
    before: Mapped[dict[str, Any]] = mapped_column(JSON)
    after: Mapped[dict[str, Any]] = mapped_column(JSON)
    decided_at: Mapped[datetime] = now_column()
