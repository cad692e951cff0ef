"""Declared employment: what employers declare of each worker's contribution salary, month by month.

This is the hand-over between the employer channel (declarations D02-LT / TK1-TS, which write it)
and the monthly assessment of contributions (which reads it). Tables here join
``nidb.store.base.Base.metadata`` (all of them: ``nidb.store.schema``).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Date, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from nidb.store.base import Base, BigId, now_column

CONTRACT_TYPES = ("indefinite", "fixed_term", "short_term", "manager", "other")
"""Kinds of labour contract (hợp đồng lao động): không xác định thời hạn; xác định thời hạn;
dưới 12 tháng (from one month); người quản lý doanh nghiệp hưởng lương; khác."""


class DeclaredWage(Base):
    """One worker's declared contribution salary (tiền lương tháng đóng BHXH) at one employer over a
    run of whole months.

    ``from_month`` and ``to_month`` are first days of months; ``to_month`` is the last month
    covered (inclusive) and is null while the worker is still declared. A salary change closes the
    running row and opens the next; a decrease (leaving, maternity or unpaid leave, death) closes
    it. Rows are never rewritten in place once a month they cover is assessed: corrections add rows
    and the assessment turns them into adjustments.
    """

    __tablename__ = "declared_wages"
    __table_args__ = (
        UniqueConstraint("employer_code", "bhxh_code", "from_month"),
        # a declaration reads the employer's rows of its workers by personal ID: without this an
        # employer's every row was read (0.25 ms per declaration at 1,800 rows, growing with it)
        Index("ix_declared_wages_employer_person", "employer_code", "personal_id"),
        CheckConstraint("wage > 0", name="wage_positive"),
        CheckConstraint("to_month IS NULL OR to_month >= from_month", name="months_ordered"),
        CheckConstraint(
            "contract_type IN (" + ", ".join(f"'{c}'" for c in CONTRACT_TYPES) + ")",
            name="contract_type",
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    employer_code: Mapped[str] = mapped_column(String(20))
    bhxh_code: Mapped[str] = mapped_column(String(10), index=True)
    personal_id: Mapped[str | None] = mapped_column(String(12))
    from_month: Mapped[date] = mapped_column(Date)
    to_month: Mapped[date | None] = mapped_column(Date)
    wage: Mapped[int] = mapped_column(BigInteger)
    contract_type: Mapped[str] = mapped_column(String(12))
    full_time: Mapped[bool] = mapped_column(Boolean)
    position: Mapped[str | None] = mapped_column(String(200))  # chức danh, as declared
    social: Mapped[bool] = mapped_column(Boolean)  # BHXH: pension, sickness, accident funds
    health: Mapped[bool] = mapped_column(Boolean)  # BHYT
    unemployment: Mapped[bool] = mapped_column(Boolean)  # BHTN
    declaration_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    created_at: Mapped[datetime] = now_column()
