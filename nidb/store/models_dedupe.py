"""Dedupe proposals: a cluster of person records that look like one person, queued for staff.

``nidb dedupe`` with no file options clusters the register's person records (record-to-record
similarity and registry matches) and queues each cluster holding two or more BHXH codes as a
review item of kind ``dedupe``; its ``DedupeProposal`` keeps the members, the record proposed
to survive and, field by field, where the merged values come from. A staff member who makes the
merge from the console fills ``merged_*`` and ``merge_detail`` (the code merges made and every
value before), which is what ``nidb dedupe-undo`` reads to reverse it. Tables here join
``nidb.store.base.Base.metadata`` (all of them: ``nidb.store.schema``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from nidb.store.base import Base, BigId, now_column


class DedupeProposal(Base):
    """A proposed merge of one person's records (đề xuất gộp hồ sơ trùng)."""

    __tablename__ = "dedupe_proposals"

    item_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("review_items.id"), primary_key=True, autoincrement=False
    )
    cluster_key: Mapped[str] = mapped_column(String(64), unique=True)
    """sha256 of the members' sorted record ids: a rerun finds the cluster already queued."""
    survivor_record_id: Mapped[str] = mapped_column(String(40))
    members: Mapped[str] = mapped_column(Text)
    """JSON list of {record_id, bhxh_code} as they were when queued."""
    fields: Mapped[str] = mapped_column(Text)
    """JSON: per field, the proposed value and the record (or "registry") it comes from."""
    certain: Mapped[bool] = mapped_column(Boolean)
    """Whether the model linked the cluster automatically (``auto``) or only proposed it."""
    created_at: Mapped[datetime] = now_column()
    merged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    merged_by: Mapped[str | None] = mapped_column(String(100))
    merge_detail: Mapped[str | None] = mapped_column(Text)
    """JSON: code merge ids, records marked merged, the survivor's values before."""
    undone_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
