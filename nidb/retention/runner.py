"""Showing and applying retention: counts of items past their period, and their removal in
batches, one transaction per batch, audited per kind.

A run is resumable: each batch commits on its own and the items past the period are found
anew by the next batch (and by the next run), so an interrupted run leaves nothing half-done
and a rerun removes the rest. Per kind, the transaction of the first batch that removes
anything writes a ``retention.started`` audit entry (what was due), and the end of the kind a
``retention.applied`` entry with the counts. A dry run counts and removes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from nidb import accesslog
from nidb.retention import files
from nidb.retention.kinds import ACCESS_LOG, KINDS, REJECTED_FILES, Kind, TableKind
from nidb.settings import Settings, actor_name, get_settings
from nidb.store.audit import write_audit

PURPOSE = "LUU_TRU"
Progress = Callable[[Kind, int], None]


@dataclass(frozen=True)
class KindStatus:
    """A kind's period in force and how many of its items are past it."""

    kind: Kind
    days: int
    cutoff: datetime
    past: int


@dataclass(frozen=True)
class KindResult:
    """What a run removed of a kind (or, dry, would remove)."""

    kind: Kind
    days: int
    cutoff: datetime
    removed: int
    batches: int
    failed: int = 0
    """Files that could not be removed (permissions): left for the next run."""


def _count(engine: Engine, kind: Kind, settings: Settings, cutoff: datetime) -> int:
    if kind is ACCESS_LOG:
        return accesslog.count_prunable(engine, cutoff)
    if kind is REJECTED_FILES:
        return len(files.past(engine, settings, cutoff))
    assert isinstance(kind, TableKind)
    with engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).select_from(kind.past(cutoff).subquery())
            ).scalar_one()
        )


def overview(
    engine: Engine, now: datetime | None = None, settings: Settings | None = None
) -> list[KindStatus]:
    """Every kind with its period and the number of its items past it (`nidb retention show`)."""
    settings = settings or get_settings()
    now = now or datetime.now(UTC)
    statuses = []
    for kind in KINDS:
        cutoff = kind.cutoff(settings, now)
        statuses.append(
            KindStatus(kind, kind.days(settings), cutoff, _count(engine, kind, settings, cutoff))
        )
    return statuses


def _audit(conn: Connection, actor: str, action: str, kind: Kind, detail: dict[str, Any]) -> None:
    write_audit(
        conn,
        actor=actor,
        action=action,
        subject_type="retention",
        subject_id=kind.key,
        purpose=PURPOSE,
        detail={"kind": kind.key, **detail},
    )


class _Starter:
    """Writes the kind's ``retention.started`` entry in the first batch that removes anything."""

    def __init__(self, actor: str, kind: Kind, days: int, cutoff: datetime, due: int) -> None:
        self.actor, self.kind, self.due = actor, kind, due
        self.detail = {"days": days, "cutoff": cutoff.isoformat(), "due": due}
        self.written = False

    def __call__(self, conn: Connection, removed: int) -> None:
        if not self.written:
            _audit(conn, self.actor, "retention.started", self.kind, self.detail)
            self.written = True


def _apply_table(
    engine: Engine, kind: TableKind, cutoff: datetime, batch: int, start: _Starter,
    progress: Callable[[int], None],
) -> tuple[int, int]:  # fmt: skip
    removed = batches = 0
    while True:
        with engine.begin() as conn:
            keys = list(conn.execute(kind.past(cutoff).limit(batch)).scalars())
            if not keys:
                break
            kind.remove(conn, keys)
            start(conn, len(keys))
        removed += len(keys)
        batches += 1
        progress(len(keys))
    return removed, batches


def _apply_files(
    engine: Engine, settings: Settings, cutoff: datetime, start: _Starter,
    progress: Callable[[int], None],
) -> tuple[int, int, int]:  # fmt: skip
    removed = failed = 0
    due = files.past(engine, settings, cutoff)
    if due:
        with engine.begin() as conn:
            start(conn, len(due))
    for path in due:
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError:
            failed += 1
            continue
        removed += 1
        progress(1)
    return removed, (1 if due else 0), failed


def apply(
    engine: Engine,
    *,
    kinds: Iterable[Kind] = KINDS,
    dry_run: bool = False,
    batch: int = 5_000,
    now: datetime | None = None,
    settings: Settings | None = None,
    actor: str | None = None,
    progress: Progress | None = None,
) -> list[KindResult]:
    """Remove the items of ``kinds`` past their period, ``batch`` per transaction; audited.

    ``progress(kind, n)`` is called after each committed batch (n items removed). A dry run
    returns what would be removed and changes nothing.
    """
    settings = settings or get_settings()
    now = now or datetime.now(UTC)
    actor = actor or actor_name()
    results = []
    for kind in kinds:
        days, cutoff = kind.days(settings), kind.cutoff(settings, now)
        due = _count(engine, kind, settings, cutoff)
        if dry_run:
            results.append(KindResult(kind, days, cutoff, due, 0))
            continue
        start = _Starter(actor, kind, days, cutoff, due)

        def step(n: int, kind: Kind = kind) -> None:
            if progress is not None:
                progress(kind, n)

        failed = 0
        if kind is ACCESS_LOG:
            report = accesslog.prune_before(
                engine, cutoff, batch=batch, on_batch=start, progress=step
            )
            removed, batches = report.total, report.batches
        elif kind is REJECTED_FILES:
            removed, batches, failed = _apply_files(engine, settings, cutoff, start, step)
        else:
            assert isinstance(kind, TableKind)
            removed, batches = _apply_table(engine, kind, cutoff, batch, start, step)
        with engine.begin() as conn:
            detail: dict[str, Any] = {**start.detail, "removed": removed, "batches": batches}
            if failed:
                detail["failed"] = failed
            _audit(conn, actor, "retention.applied", kind, detail)
        results.append(KindResult(kind, days, cutoff, removed, batches, failed))
    return results
