"""Links written by register-mode matching (``nidb match`` with no files), so a run can be undone.

``nidb match`` run on the register links a person record with no verified personal ID to a
citizen when the model is sure (``auto``): it verifies the record, opens an identity link
(source ``match``) and keeps here what it changed — the run, the record, the link and the status
the record had before — so ``nidb unmatch RUN`` closes exactly those links and restores exactly
those records. Tables here join ``nidb.store.base.Base.metadata`` (all of them: ``nidb.store.schema``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Float, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from nidb.store.base import Base, BigId, now_column


class MatchLink(Base):
    """One automatic link of a register-mode match run (liên kết tự động khi đối sánh)."""

    __tablename__ = "match_links"
    __table_args__ = (Index("ix_match_links_run", "run_id", "record_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(String(32))
    record_id: Mapped[str] = mapped_column(String(40), index=True)
    bhxh_code: Mapped[str] = mapped_column(String(10))
    personal_id: Mapped[str] = mapped_column(String(12))
    score: Mapped[float] = mapped_column(Float)
    previous_status: Mapped[str] = mapped_column(String(16))
    link_id: Mapped[int] = mapped_column(BigId)
    """The ``identity_links`` row this run opened."""
    created_at: Mapped[datetime] = now_column()
    undone_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
