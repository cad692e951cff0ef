"""Models of data-quality measures (đúng, đủ, sạch, sống).

Tables here join ``nidb.store.base.Base.metadata`` (all of them: ``nidb.store.schema``).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from nidb.store.base import Base, BigId, now_column


class QualityMeasure(Base):
    """One data-quality measure (chỉ số chất lượng dữ liệu) of one information group in one
    province on one day, kept so that ``nidb quality --trend`` and the reports show its trend.

    A measure is a ratio kept as numerator and denominator, so that provinces add up to the
    country exactly. Saving the same day again replaces that day's rows.
    """

    __tablename__ = "quality_measures"
    __table_args__ = (
        UniqueConstraint("as_of", "province", "info_group", "measure"),
        CheckConstraint("measure IN ('correct', 'complete', 'clean', 'alive')", name="measure"),
        CheckConstraint("numerator >= 0 AND numerator <= denominator", name="ratio"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    as_of: Mapped[date] = mapped_column(Date, index=True)
    province: Mapped[str] = mapped_column(String(2))  # 34-province code; "00": not known
    info_group: Mapped[str] = mapped_column(String(12))
    measure: Mapped[str] = mapped_column(String(8))
    numerator: Mapped[int] = mapped_column(BigInteger)
    denominator: Mapped[int] = mapped_column(BigInteger)
    computed_at: Mapped[datetime] = now_column()
    computed_by: Mapped[str] = mapped_column(String(100))
