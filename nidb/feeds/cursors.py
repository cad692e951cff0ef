"""Feed cursors: read where a feed stopped, and move it in the transaction that applies a page.

Because the cursor moves in the same transaction as the page's effects, a follower stopped at
any point resumes exactly after the last page whose effects were kept: nothing is applied
twice and nothing is skipped. Effects are idempotent as well, so even a re-read page is safe.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection, insert, select, update

from nidb.store import models


def read_cursor(conn: Connection, source: str) -> str | None:
    """The cursor to read ``source`` after (None: from the beginning)."""
    return conn.execute(
        select(models.FeedCursor.cursor).where(models.FeedCursor.source == source)
    ).scalar()


def advance_cursor(conn: Connection, source: str, cursor: str, applied: int) -> None:
    """Record that ``applied`` more changes of ``source`` are in, up to ``cursor``."""
    table = models.FeedCursor
    now = datetime.now(UTC)
    moved = conn.execute(
        update(table)
        .where(table.source == source)
        .values(cursor=cursor, changes_applied=table.changes_applied + applied, updated_at=now)
    )
    if moved.rowcount == 0:
        conn.execute(
            insert(table).values(
                source=source, cursor=cursor, changes_applied=applied, updated_at=now
            )
        )
