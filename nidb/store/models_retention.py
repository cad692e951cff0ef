"""Models of retention (thời hạn lưu trữ): what pruning keeps so the access log still verifies.

When ``nidb retention apply`` removes access-log entries past their period, it removes a prefix
of each lane and keeps here the lane's *checkpoint*: the sequence number and hash of the last
entry removed. The first entry kept links to that hash, so the chain of what remains verifies
from the checkpoint instead of from the genesis hash (``nidb.accesslog.verify``). Tables join
``nidb.store.base.Base.metadata`` (all of them: ``nidb.store.schema``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from nidb.store.base import Base, now_column


class AccessLogCheckpoint(Base):
    """The head of a lane's removed prefix (mốc đã xoá của một làn nhật ký truy cập)."""

    __tablename__ = "access_log_checkpoints"

    lane: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    """The last removed entry's sequence number: the lane now starts at ``seq + 1``."""
    entry_hash: Mapped[str] = mapped_column(String(64))
    """The last removed entry's hash: the first kept entry's ``prev_hash``."""
    entries_removed: Mapped[int] = mapped_column(BigInteger)
    """How many entries of the lane were removed in all (``seq`` unless the lane began later)."""
    updated_at: Mapped[datetime] = now_column()


__all__ = ["AccessLogCheckpoint"]
