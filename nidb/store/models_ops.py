"""What the operators of nidb watch about its batch jobs (vận hành): one row per finished run.

A batch job (``nidb import``, ``nidb verify``, ``nidb match`` on the register) runs in its own
process, not in the server's; it writes one ``batch_runs`` row when it ends, ok or not, so that
``/metrics`` of ``nidb serve`` can show how long jobs take (``nidb_batch_job_duration_seconds``)
whichever process or machine ran them. A row says which kind of job, when, how long and how it
ended; nothing about whom the job was about.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, Float, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from nidb.store.base import Base, BigId


class BatchRun(Base):
    """One finished run of a batch job (lần chạy tác vụ lô)."""

    __tablename__ = "batch_runs"
    __table_args__ = (
        CheckConstraint("outcome IN ('ok', 'failed', 'stopped')", name="outcome"),
        Index("ix_batch_runs_kind_outcome", "kind", "outcome"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(20))
    """``import``, ``verify``, ``match``, ``dedupe``: a `nidb.store.runs.JobKind`."""
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    duration_seconds: Mapped[float] = mapped_column(Float)
    """Measured on the job's monotonic clock (not the difference of the two time stamps)."""
    outcome: Mapped[str] = mapped_column(String(10))
    """``ok``; ``failed`` (an error ended it); ``stopped`` (Ctrl-C)."""
