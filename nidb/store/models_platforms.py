"""Where nidb stands with each national platform it reports to (issue 17, item 5).

``platform_cursors``: for each outbound stream (a dossier's status changes to the public
service portal, usage events to the EMC measurement system), the last ``dossier_events.id``
the platform acknowledged. A stream reads the events after its cursor, sends them, and moves
the cursor only once the platform has answered, in one short transaction: a crash in between
sends the same events again, which both platforms take as repeats.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from nidb.store.base import Base, now_column


class PlatformCursor(Base):
    """One outbound stream's position (con trỏ đồng bộ với nền tảng quốc gia)."""

    __tablename__ = "platform_cursors"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    updated_at: Mapped[datetime] = now_column()
