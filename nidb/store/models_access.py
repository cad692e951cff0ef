"""Who may read how much: each partner's shared rate-limit bucket (``nidb.exchange.ratelimit``).

One row per partner, updated by one atomic statement per lease of tokens, so every worker
process and every machine on the database draws on the same budget. On PostgreSQL the table is
UNLOGGED (migration 0022): a lease writes no WAL and waits for no disk flush; after a crash the
table is empty and every partner starts again with a full bucket, as a restart did before. Joins
``nidb.store.base.Base.metadata`` through ``nidb.store.schema``.
"""

from __future__ import annotations

from sqlalchemy import Double, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from nidb.store.base import Base


class PartnerRateBucket(Base):
    """A partner's token bucket: the tokens left when it was last refilled, and when."""

    __tablename__ = "partner_rate_buckets"

    partner_code: Mapped[str] = mapped_column(String(100), primary_key=True)
    tokens: Mapped[float] = mapped_column(Double)
    refilled_at: Mapped[float] = mapped_column(Double)
    """Seconds since the Unix epoch (the servers' clock) of the last refill."""
    granted: Mapped[int] = mapped_column(Integer)
    """Tokens handed out by the last statement (what its RETURNING reports)."""
