"""Merge duplicate BHXH codes (gộp sổ) and undo a merge exactly.

A merge moves every row held under the retired code — person records, identity links,
participation periods, contributions, cards, benefits, visits — to the kept code, and writes
down each row it moved. Nothing is deleted, so no day of contribution history is lost, and an
undo moves back exactly the rows the merge moved (rows added to the kept code afterwards stay).
Each merge and undo is one transaction with its audit entry and its outbox event. Two rows that
would collide under one code (the same month's contribution through the same employer twice)
stop the merge: a person must decide which is right.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, insert, select, text, update

from nidb.domain.identifiers import BhxhCode
from nidb.store import models
from nidb.store.audit import write_audit, write_event

MOVED_TABLES: tuple[tuple[str, str], ...] = (
    ("persons", "record_id"),
    ("identity_links", "id"),
    ("participation_periods", "id"),
    ("contributions", "id"),
    ("health_cards", "id"),
    ("benefits", "id"),
    ("health_visits", "visit_id"),
    ("claims", "id"),
    ("contribution_lines", "id"),
    ("declared_wages", "id"),
)
"""Every table holding rows under a BHXH code, with its primary key."""

COLLISIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("contributions", ("employer_code", "period")),
    ("participation_periods", ("scheme", "start_month")),
    ("benefits", ("kind", "start_date")),
    ("contribution_lines", ("employer_code", "month", "assessed_month")),
    ("declared_wages", ("employer_code", "from_month")),
)
"""Unique keys that include the BHXH code: rows of both codes with the same rest collide."""


class MergeError(ValueError):
    """A merge or undo that cannot be done, with the reason in Vietnamese and English."""


@dataclass(frozen=True)
class MergeResult:
    """What a merge or an undo moved."""

    merge_id: int
    moved: dict[str, int]


def merge_codes(engine: Engine, keep: str, retire: str, *, actor: str, reason: str) -> MergeResult:
    """Move everything held under ``retire`` to ``keep``; returns the merge id and row counts."""
    keep, retire = BhxhCode.parse(keep, "keep").value, BhxhCode.parse(retire, "retire").value
    if keep == retire:
        raise MergeError("hai mã BHXH giống nhau (the two BHXH codes are the same)")
    if not reason.strip():
        raise MergeError("cần ghi lý do gộp (a reason is required)")
    with engine.begin() as conn:
        return merge_in(conn, keep, retire, actor=actor, reason=reason)


def merge_in(conn: Connection, keep: str, retire: str, *, actor: str, reason: str) -> MergeResult:
    """``merge_codes`` inside the caller's transaction (a dedupe merge makes several at once)."""
    if keep == retire:
        raise MergeError("hai mã BHXH giống nhau (the two BHXH codes are the same)")
    _lock(conn, keep, retire)
    if not _holds_anything(conn, retire):
        raise MergeError(f"mã {retire} không có dữ liệu để gộp (nothing is held under {retire})")
    collisions = _collisions(conn, keep, retire)
    if collisions:
        raise MergeError(
            "không gộp được vì trùng dữ liệu (rows would collide): " + "; ".join(collisions)
        )
    merge_id = int(
        conn.execute(
            insert(models.CodeMerge)
            .values(
                kept_code=keep,
                retired_code=retire,
                actor=actor,
                reason=reason,
                merged_at=datetime.now(UTC),
            )
            .returning(models.CodeMerge.id)
        ).scalar_one()
    )
    moved: dict[str, int] = {}
    for table, key in MOVED_TABLES:
        conn.execute(
            text(
                f"INSERT INTO code_merge_moves (merge_id, table_name, row_key) "
                f"SELECT :merge_id, :table, CAST({key} AS VARCHAR(100)) FROM {table} "
                f"WHERE bhxh_code = :retire"
            ),
            {"merge_id": merge_id, "table": table, "retire": retire},
        )
        moved[table] = conn.execute(
            text(f"UPDATE {table} SET bhxh_code = :keep WHERE bhxh_code = :retire"),
            {"keep": keep, "retire": retire},
        ).rowcount
    _record(conn, actor, "merge", merge_id, reason, keep, retire, moved)
    return MergeResult(merge_id, moved)


def unmerge(engine: Engine, merge_id: int, *, actor: str, reason: str) -> MergeResult:
    """Undo merge ``merge_id``: every row it moved goes back to the retired code."""
    if not reason.strip():
        raise MergeError("cần ghi lý do hoàn tác (a reason is required)")
    with engine.begin() as conn:
        return unmerge_in(conn, merge_id, actor=actor, reason=reason)


def unmerge_in(conn: Connection, merge_id: int, *, actor: str, reason: str) -> MergeResult:
    """``unmerge`` inside the caller's transaction."""
    merge = conn.execute(
        select(models.CodeMerge.__table__).where(models.CodeMerge.id == merge_id)
    ).first()
    if merge is None:
        raise MergeError(f"không có lần gộp số {merge_id} (no merge {merge_id})")
    if merge.undone_at is not None:
        raise MergeError(
            f"lần gộp {merge_id} đã được hoàn tác (merge {merge_id} was already undone)"
        )
    moved: dict[str, int] = {}
    for table, key in MOVED_TABLES:
        moved[table] = conn.execute(
            text(
                f"UPDATE {table} SET bhxh_code = :retire WHERE bhxh_code = :keep AND "
                f"CAST({key} AS VARCHAR(100)) IN (SELECT row_key FROM code_merge_moves "
                f"WHERE merge_id = :merge_id AND table_name = :table)"
            ),
            {
                "retire": merge.retired_code,
                "keep": merge.kept_code,
                "merge_id": merge_id,
                "table": table,
            },
        ).rowcount
    conn.execute(
        update(models.CodeMerge)
        .where(models.CodeMerge.id == merge_id)
        .values(undone_at=datetime.now(UTC), undone_by=actor, undo_reason=reason)
    )
    _record(conn, actor, "unmerge", merge_id, reason, merge.kept_code, merge.retired_code, moved)
    return MergeResult(merge_id, moved)


def _lock(conn: Connection, keep: str, retire: str) -> None:
    """Serialise merges touching these codes (PostgreSQL row locks; SQLite locks the file)."""
    if conn.dialect.name == "postgresql":
        conn.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:a)), pg_advisory_xact_lock(hashtext(:b))"),
            {"a": min(keep, retire), "b": max(keep, retire)},
        )


def _holds_anything(conn: Connection, code: str) -> bool:
    return any(
        conn.execute(
            text(f"SELECT 1 FROM {table} WHERE bhxh_code = :code LIMIT 1"), {"code": code}
        ).first()
        is not None
        for table, _ in MOVED_TABLES
    )


def _collisions(conn: Connection, keep: str, retire: str) -> list[str]:
    found = []
    for table, rest in COLLISIONS:
        on = " AND ".join(f"a.{c} = b.{c}" for c in rest)
        for row in conn.execute(
            text(
                f"SELECT {', '.join('a.' + c for c in rest)} FROM {table} a JOIN {table} b ON {on} "
                f"WHERE a.bhxh_code = :keep AND b.bhxh_code = :retire LIMIT 20"
            ),
            {"keep": keep, "retire": retire},
        ):
            found.append(
                f"{table}({', '.join(f'{c}={v}' for c, v in zip(rest, row, strict=True))})"
            )
    return found


def _record(
    conn: Connection,
    actor: str,
    action: str,
    merge_id: int,
    reason: str,
    keep: str,
    retire: str,
    moved: dict[str, int],
) -> None:
    detail = {"kept_code": keep, "retired_code": retire, "reason": reason, "moved": moved}
    write_audit(
        conn,
        actor=actor,
        action=action,
        subject_type="code_merge",
        subject_id=str(merge_id),
        purpose="GOP_SO",
        detail=detail,
    )
    write_event(conn, f"identity.codes_{action}d", f"bhxh:{keep}", {"merge_id": merge_id, **detail})
