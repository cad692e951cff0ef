"""Contributions: the monthly assessment of what employers owe, the debt ledger and payments.

Written by ``nidb.contributions`` from ``declared_wages`` (models_employment.py). Tables here join
``nidb.store.base.Base.metadata`` (all of them: ``nidb.store.schema``). Money is integer đồng.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from nidb.store.base import Base, BigId, now_column

CHARGE_KINDS = ("due", "adjustment", "interest")
"""What a charge on an employer's account is: the month's contributions (số phải đóng), the net
adjustment of earlier months (điều chỉnh), late-payment interest (lãi chậm đóng)."""

PAYMENT_SOURCES = ("gateway", "bank", "manual", "credit")
"""Where money came from: the payment gateway, a bank statement line, a staff entry, or a
downward adjustment turned into a credit."""


class EmployerRegion(Base):
    """The minimum-wage region (vùng I..IV, Decree 74/2024/NĐ-CP annex) an employer is in.

    The region follows the employer's district, which the register does not hold; staff set it
    (``nidb contributions region``). An employer without a row is assessed as region I.
    """

    __tablename__ = "employer_regions"
    __table_args__ = (CheckConstraint("region BETWEEN 1 AND 4", name="region_range"),)

    employer_code: Mapped[str] = mapped_column(String(20), primary_key=True)
    region: Mapped[int] = mapped_column(SmallInteger)


class AssessmentRun(Base):
    """One assessed month (kỳ đã tính): written once, in the month's one transaction."""

    __tablename__ = "contribution_runs"

    month: Mapped[date] = mapped_column(Date, primary_key=True)
    wages_watermark: Mapped[int] = mapped_column(BigInteger)  # max declared_wages.id seen
    workers: Mapped[int] = mapped_column(Integer)
    employers: Mapped[int] = mapped_column(Integer)
    total_due: Mapped[int] = mapped_column(BigInteger)
    total_adjustment: Mapped[int] = mapped_column(BigInteger)
    total_interest: Mapped[int] = mapped_column(BigInteger)
    actor: Mapped[str] = mapped_column(String(100))
    assessed_at: Mapped[datetime] = now_column()


class ContributionLine(Base):
    """One worker's contributions at one employer for one month, per fund and share.

    ``kind`` 'due' is written by the assessment of ``month`` itself (``assessed_month`` =
    ``month``); 'adjustment' lines are written by a later assessment (``assessed_month``) for a
    closed ``month`` whose declared wages changed, holding the difference (may be negative).
    """

    __tablename__ = "contribution_lines"
    __table_args__ = (
        UniqueConstraint("employer_code", "bhxh_code", "month", "assessed_month"),
        Index("ix_contribution_lines_assessed_employer", "assessed_month", "employer_code"),
        CheckConstraint("kind IN ('due', 'adjustment')", name="kind"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    employer_code: Mapped[str] = mapped_column(String(20))
    bhxh_code: Mapped[str] = mapped_column(String(10), index=True)
    month: Mapped[date] = mapped_column(Date)
    assessed_month: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(10))
    wage: Mapped[int] = mapped_column(BigInteger)  # declared wage (0 on an adjustment to none)
    region: Mapped[int] = mapped_column(SmallInteger)
    pension_employee: Mapped[int] = mapped_column(BigInteger)
    pension_employer: Mapped[int] = mapped_column(BigInteger)
    sickness_employer: Mapped[int] = mapped_column(BigInteger)
    occupational_employer: Mapped[int] = mapped_column(BigInteger)
    health_employee: Mapped[int] = mapped_column(BigInteger)
    health_employer: Mapped[int] = mapped_column(BigInteger)
    unemployment_employee: Mapped[int] = mapped_column(BigInteger)
    unemployment_employer: Mapped[int] = mapped_column(BigInteger)
    total: Mapped[int] = mapped_column(BigInteger)


class ContributionAssessment(Base):
    """An employer's month per fund: the month's contributions and the adjustments it carries."""

    __tablename__ = "contribution_assessments"
    __table_args__ = (UniqueConstraint("employer_code", "month", "fund"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    employer_code: Mapped[str] = mapped_column(String(20), index=True)
    month: Mapped[date] = mapped_column(Date, index=True)
    fund: Mapped[str] = mapped_column(String(20))
    workers: Mapped[int] = mapped_column(Integer)
    due_employee: Mapped[int] = mapped_column(BigInteger)
    due_employer: Mapped[int] = mapped_column(BigInteger)
    adjustment_employee: Mapped[int] = mapped_column(BigInteger)
    adjustment_employer: Mapped[int] = mapped_column(BigInteger)


class Charge(Base):
    """A debt on an employer's account raised by the assessment of ``month``; payments settle
    charges oldest month first (``settled`` grows, never past ``amount``)."""

    __tablename__ = "contribution_charges"
    __table_args__ = (
        UniqueConstraint("employer_code", "month", "kind"),
        CheckConstraint("kind IN (" + ", ".join(f"'{k}'" for k in CHARGE_KINDS) + ")", name="kind"),
        CheckConstraint("settled >= 0 AND settled <= amount", name="settled_range"),
        Index("ix_contribution_charges_open", "employer_code", "month"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    employer_code: Mapped[str] = mapped_column(String(20))
    month: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(10))
    amount: Mapped[int] = mapped_column(BigInteger)
    settled: Mapped[int] = mapped_column(BigInteger, default=0)


class Payment(Base):
    """Money received for an employer's account; ``unallocated`` is what no charge took yet."""

    __tablename__ = "contribution_payments"
    __table_args__ = (
        UniqueConstraint("source", "reference"),
        CheckConstraint(
            "source IN (" + ", ".join(f"'{s}'" for s in PAYMENT_SOURCES) + ")", name="source"
        ),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("unallocated >= 0 AND unallocated <= amount", name="unallocated_range"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    employer_code: Mapped[str] = mapped_column(String(20), index=True)
    source: Mapped[str] = mapped_column(String(10))
    reference: Mapped[str] = mapped_column(String(100))
    amount: Mapped[int] = mapped_column(BigInteger)
    unallocated: Mapped[int] = mapped_column(BigInteger)
    paid_on: Mapped[date] = mapped_column(Date)
    received_at: Mapped[datetime] = now_column()


class Allocation(Base):
    """Part of a payment settling part of a charge, on the day the money met the debt."""

    __tablename__ = "contribution_allocations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("contribution_payments.id"), index=True)
    charge_id: Mapped[int] = mapped_column(ForeignKey("contribution_charges.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    settled_on: Mapped[date] = mapped_column(Date)


class Recheck(Base):
    """Scratch list of the workers whose closed months an assessment re-prices (emptied by it,
    inside its transaction)."""

    __tablename__ = "contribution_recheck"

    employer_code: Mapped[str] = mapped_column(String(20), primary_key=True)
    bhxh_code: Mapped[str] = mapped_column(String(10), primary_key=True)


BANK_LINE_STATUSES = ("matched", "unmatched", "assigned")
"""A credit line of a bank statement: matched by nidb, waiting for staff, or assigned by staff."""


class BankLine(Base):
    """One credit entry of a bank statement (camt.053 Ntry), kept whether matched or not."""

    __tablename__ = "contribution_bank_lines"
    __table_args__ = (
        UniqueConstraint("entry_ref"),
        CheckConstraint(
            "status IN (" + ", ".join(f"'{s}'" for s in BANK_LINE_STATUSES) + ")", name="status"
        ),
        CheckConstraint("amount > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    statement_id: Mapped[str] = mapped_column(String(100), index=True)
    entry_ref: Mapped[str] = mapped_column(String(120))
    booked_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[int] = mapped_column(BigInteger)
    debtor_account: Mapped[str | None] = mapped_column(String(60))
    debtor_name: Mapped[str | None] = mapped_column(String(200))
    remittance: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(10), index=True)
    matched_by: Mapped[str | None] = mapped_column(String(20))  # reference, account, amount, staff
    employer_code: Mapped[str | None] = mapped_column(String(20))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("contribution_payments.id"))


class PayerAccount(Base):
    """A bank account an employer pays from, learned from matched lines and staff assignments."""

    __tablename__ = "contribution_payer_accounts"

    account: Mapped[str] = mapped_column(String(60), primary_key=True)
    employer_code: Mapped[str] = mapped_column(String(20), index=True)


class Reminder(Base):
    """A debt reminder to an employer for an assessed month; ``sent_at`` once e-mailed."""

    __tablename__ = "contribution_reminders"
    __table_args__ = (UniqueConstraint("employer_code", "month"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    employer_code: Mapped[str] = mapped_column(String(20))
    month: Mapped[date] = mapped_column(Date)
    email: Mapped[str | None] = mapped_column(String(200))
    debt: Mapped[int] = mapped_column(BigInteger)
    months: Mapped[int] = mapped_column(Integer)
    oldest: Mapped[date] = mapped_column(Date)
    closed: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = now_column()
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)


class GatewayOrder(Base):
    """A payment an employer ordered at the payment gateway; settled by its signed callback."""

    __tablename__ = "contribution_gateway_orders"
    __table_args__ = (CheckConstraint("status IN ('pending', 'paid', 'failed')", name="status"),)

    reference: Mapped[str] = mapped_column(String(64), primary_key=True)
    employer_code: Mapped[str] = mapped_column(String(20), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = now_column()
