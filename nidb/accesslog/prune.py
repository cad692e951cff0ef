"""Removing the oldest access-log entries past their retention period, keeping the chain whole.

Each lane loses a *prefix*: the entries before its first entry that is still within the period,
and never its last entry (the writers continue a lane from its last stored entry). Each batch
is one transaction that moves the lane's checkpoint (``access_log_checkpoints``: the last
removed entry's seq and hash) to the last of its entries, then deletes them: the database's
append-only guard lets an entry go only at or before its lane's checkpoint, and checkpoints only
move forward (migration 0023). An interrupted run leaves a log that verifies, and a rerun goes
on where it stopped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, delete, func, insert, select, update

from nidb.store import models
from nidb.store.models_retention import AccessLogCheckpoint

_LOG = models.AccessLogEntry


@dataclass
class PruneReport:
    """What a prune removed (or, dry, would remove), per lane."""

    removed: dict[int, int] = field(default_factory=dict)
    batches: int = 0

    @property
    def total(self) -> int:
        return sum(self.removed.values())


def _cutoff_text(cutoff: datetime) -> str:
    """``cutoff`` as the log stores times (ISO UTC text, compared as text)."""
    return cutoff.astimezone(UTC).isoformat(timespec="microseconds")


def prunable_end(conn: Connection, lane: int, cutoff: datetime) -> int:
    """The last seq of ``lane`` that may go: before its first entry at or after ``cutoff`` and
    before its last entry; 0 if none may."""
    last = conn.execute(select(func.max(_LOG.seq)).where(_LOG.lane == lane)).scalar()
    if last is None:
        return 0
    first_kept = conn.execute(
        select(func.min(_LOG.seq)).where(
            _LOG.lane == lane, _LOG.occurred_at >= _cutoff_text(cutoff)
        )
    ).scalar()
    return int(min(last, first_kept if first_kept is not None else last)) - 1


def count_prunable(engine: Engine, cutoff: datetime) -> int:
    """How many entries ``prune_before(cutoff)`` would remove."""
    total = 0
    with engine.connect() as conn:
        lanes = conn.execute(select(_LOG.lane).distinct()).scalars().all()
        for lane in lanes:
            end = prunable_end(conn, lane, cutoff)
            if end > 0:
                total += int(
                    conn.execute(
                        select(func.count()).where(_LOG.lane == lane, _LOG.seq <= end)
                    ).scalar_one()
                )
    return total


def _move_checkpoint(conn: Connection, lane: int, seq: int, digest: str, removed: int) -> None:
    updated = conn.execute(
        update(AccessLogCheckpoint)
        .where(AccessLogCheckpoint.lane == lane)
        .values(
            seq=seq,
            entry_hash=digest,
            entries_removed=AccessLogCheckpoint.entries_removed + removed,
            updated_at=func.now(),
        )
    )
    if updated.rowcount == 0:
        conn.execute(
            insert(AccessLogCheckpoint).values(
                lane=lane, seq=seq, entry_hash=digest, entries_removed=removed
            )
        )


def prune_before(
    engine: Engine,
    cutoff: datetime,
    *,
    batch: int = 5_000,
    on_batch: Callable[[Connection, int], None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> PruneReport:
    """Remove each lane's entries older than ``cutoff`` (a prefix, never the lane's last entry),
    ``batch`` entries per transaction; ``on_batch(conn, n)`` runs in each batch's transaction
    (the caller's audit), ``progress(n)`` after each commit."""
    report = PruneReport()
    with engine.connect() as conn:
        lanes = list(conn.execute(select(_LOG.lane).distinct().order_by(_LOG.lane)).scalars())
        # found once per lane: what is past the cutoff now stays past it, and new entries are new
        ends = {lane: prunable_end(conn, lane, cutoff) for lane in lanes}
    for lane, end in ends.items():
        while end > 0:
            with engine.begin() as conn:
                rows = conn.execute(
                    select(_LOG.seq, _LOG.entry_hash)
                    .where(_LOG.lane == lane, _LOG.seq <= end)
                    .order_by(_LOG.seq)
                    .limit(batch)
                ).all()
                if not rows:
                    break
                last_seq, last_hash = rows[-1]
                # the checkpoint first: the database lets only a checkpointed prefix go
                _move_checkpoint(conn, lane, int(last_seq), str(last_hash), len(rows))
                conn.execute(delete(_LOG).where(_LOG.lane == lane, _LOG.seq <= last_seq))
                if on_batch is not None:
                    on_batch(conn, len(rows))
            report.removed[lane] = report.removed.get(lane, 0) + len(rows)
            report.batches += 1
            if progress is not None:
                progress(len(rows))
    return report


def checkpoints(conn: Connection) -> dict[int, tuple[int, str]]:
    """Each pruned lane's checkpoint: lane → (seq, hash) of its last removed entry."""
    rows = conn.execute(
        select(AccessLogCheckpoint.lane, AccessLogCheckpoint.seq, AccessLogCheckpoint.entry_hash)
    ).all()
    return {int(lane): (int(seq), str(digest)) for lane, seq, digest in rows}
