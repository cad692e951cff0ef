"""The access log: every partner request and every read of a person's data, hash-chained.

Each entry carries ``prev_hash`` (the previous entry's hash) and ``entry_hash`` = SHA-256 of the
canonical JSON of its own fields and ``prev_hash``, in ``seq`` order from 1. Editing, removing or
reordering any entry breaks the chain at that point (`nidb audit verify`); cutting the tail is
caught by checking a head (seq and hash) kept outside the database (`nidb audit head`). The
database refuses UPDATE and DELETE on the table by trigger as well.

Writes are group-committed: callers hand their entry to one writer thread per process and wait
until it is durable, so a busy service pays one transaction per batch, not per request. Entries
with a ``message_id`` claim it: a second entry with the same id is not written and its caller
learns the message is a replay.
"""

from __future__ import annotations

import hashlib
import queue
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, text
from sqlalchemy.exc import IntegrityError, OperationalError

from nidb.exchange.canonical import canonical_json
from nidb.store import models

GENESIS = "0" * 64
_LOCK_KEY = 0x6E696462  # "nidb": the PostgreSQL advisory lock that orders writers
_COLUMNS = (
    "seq",
    "occurred_at",
    "actor",
    "service",
    "purpose",
    "subject",
    "fields",
    "result",
    "message_id",
    "detail",
)


@dataclass(frozen=True, slots=True)
class AccessRecord:
    """What happened: who, which service, why, whose data, which fields, with what result."""

    actor: str
    service: str
    result: str
    purpose: str | None = None
    subject: str | None = None
    fields: str | None = None
    message_id: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


def entry_hash(row: dict[str, Any], prev_hash: str) -> str:
    """The hash that chains ``row`` (its stored column values) to ``prev_hash``."""
    values = [row[name] for name in _COLUMNS]
    return hashlib.sha256(canonical_json([*values, prev_hash])).hexdigest()


def _now_text() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _head(conn: Connection) -> tuple[int, str]:
    row = conn.execute(
        select(models.AccessLogEntry.seq, models.AccessLogEntry.entry_hash)
        .order_by(models.AccessLogEntry.seq.desc())
        .limit(1)
    ).first()
    return (0, GENESIS) if row is None else (row.seq, row.entry_hash)


def append(conn: Connection, records: list[AccessRecord]) -> list[bool]:
    """Chain and insert ``records`` in this transaction; False for each replayed message_id.

    The caller holds the transaction; on PostgreSQL an advisory lock orders concurrent writers,
    on SQLite the database's single writer does.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    claimed = [r.message_id for r in records if r.message_id]
    taken: set[str] = set()
    if claimed:
        taken = set(
            conn.execute(
                select(models.AccessLogEntry.message_id).where(
                    models.AccessLogEntry.message_id.in_(claimed)
                )
            ).scalars()
        )
    seq, prev = _head(conn)
    accepted: list[bool] = []
    rows: list[dict[str, Any]] = []
    for record in records:
        if record.message_id and record.message_id in taken:
            accepted.append(False)
            continue
        if record.message_id:
            taken.add(record.message_id)
        seq += 1
        row = {
            "seq": seq,
            "occurred_at": _now_text(),
            "actor": record.actor,
            "service": record.service,
            "purpose": record.purpose,
            "subject": record.subject,
            "fields": record.fields,
            "result": record.result,
            "message_id": record.message_id,
            "detail": canonical_json(record.detail).decode("utf-8"),
        }
        row["prev_hash"] = prev
        row["entry_hash"] = prev = entry_hash(row, prev)
        rows.append(row)
        accepted.append(True)
    if rows:
        conn.execute(insert(models.AccessLogEntry), rows)
    return accepted


class AccessLog:
    """Group-committing writer of the access log for one process."""

    def __init__(self, engine: Engine, max_batch: int = 500, attempts: int = 20) -> None:
        self.engine, self.max_batch, self.attempts = engine, max_batch, attempts
        self._queue: queue.SimpleQueue[tuple[AccessRecord, Future[bool]] | None] = (
            queue.SimpleQueue()
        )
        self._thread = threading.Thread(target=self._run, name="nidb-access-log", daemon=True)
        self._thread.start()

    def record(self, entry: AccessRecord, timeout: float = 30.0) -> bool:
        """Write ``entry`` durably; False if its message_id was already used. Blocks until done."""
        return self.submit(entry).result(timeout)

    def submit(self, entry: AccessRecord) -> Future[bool]:
        """Queue ``entry``; the future resolves once it is committed (or fails with the error)."""
        future: Future[bool] = Future()
        self._queue.put((entry, future))
        return future

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            stop = False
            while len(batch) < self.max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                batch.append(item)
            self._write(batch)
            if stop:
                return

    def _write(self, batch: list[tuple[AccessRecord, Future[bool]]]) -> None:
        records = [record for record, _ in batch]
        for attempt in range(self.attempts):
            try:
                with self.engine.begin() as conn:
                    results = append(conn, records)
            except (IntegrityError, OperationalError) as error:
                # another process wrote the same seq or held SQLite's lock: read the head again
                if attempt == self.attempts - 1:
                    for _, future in batch:
                        future.set_exception(error)
                    return
                time.sleep(min(0.002 * 2**attempt, 0.2))
                continue
            except Exception as error:  # the database is gone: every waiter must hear it
                for _, future in batch:
                    future.set_exception(error)
                return
            for (_, future), accepted in zip(batch, results, strict=True):
                future.set_result(accepted)
            return


@dataclass(frozen=True, slots=True)
class ChainProblem:
    seq: int
    kind: str  # gap | link | hash | head
    message_vi: str


@dataclass(frozen=True, slots=True)
class ChainReport:
    entries: int
    head_seq: int
    head_hash: str
    problems: tuple[ChainProblem, ...]

    @property
    def intact(self) -> bool:
        return not self.problems


def _stored(engine: Engine, chunk: int = 10_000) -> Iterator[dict[str, Any]]:
    after = 0
    table = models.AccessLogEntry.__table__
    while True:
        with engine.connect() as conn:
            rows = (
                conn.execute(
                    select(table).where(table.c.seq > after).order_by(table.c.seq).limit(chunk)
                )
                .mappings()
                .all()
            )
        if not rows:
            return
        yield from rows
        after = rows[-1]["seq"]


def verify_chain(
    engine: Engine, head: tuple[int, str] | None = None, max_problems: int = 100
) -> ChainReport:
    """Walk the whole log and report every entry that was edited, removed or moved."""
    problems: list[ChainProblem] = []
    expected_seq, prev, count = 1, GENESIS, 0
    seen_head = False
    for row in _stored(engine):
        count += 1
        seq = row["seq"]
        if seq != expected_seq:
            problems.append(ChainProblem(seq, "gap", f"thiếu bản ghi {expected_seq}..{seq - 1}"))
        if row["prev_hash"] != prev:
            problems.append(ChainProblem(seq, "link", "không nối với bản ghi liền trước"))
        if entry_hash(dict(row), row["prev_hash"]) != row["entry_hash"]:
            problems.append(ChainProblem(seq, "hash", "nội dung đã bị sửa"))
        if head is not None and seq == head[0]:
            seen_head = True
            if row["entry_hash"] != head[1]:
                problems.append(ChainProblem(seq, "head", "không khớp với mốc đã lưu ngoài CSDL"))
        prev, expected_seq = row["entry_hash"], seq + 1
        if len(problems) >= max_problems:
            break
    if head is not None and not seen_head and len(problems) < max_problems:
        problems.append(ChainProblem(head[0], "head", "bản ghi mốc không còn trong nhật ký"))
    return ChainReport(count, expected_seq - 1, prev, tuple(problems))


def chain_head(engine: Engine) -> tuple[int, str]:
    """The last entry's seq and hash, to be kept outside the database."""
    with engine.connect() as conn:
        return _head(conn)


@dataclass(frozen=True, slots=True)
class AccessView:
    """One line of a person's own access history."""

    occurred_at: str
    actor: str
    service: str
    purpose: str | None
    fields: str | None


def access_history(engine: Engine, bhxh_code: str, limit: int = 100) -> list[AccessView]:
    """Who read this person's data, most recent first (successful reads only)."""
    table = models.AccessLogEntry
    with engine.connect() as conn:
        rows = conn.execute(
            select(table.occurred_at, table.actor, table.service, table.purpose, table.fields)
            .where(table.subject == bhxh_code, table.result == "ok")
            .order_by(table.seq.desc())
            .limit(limit)
        ).all()
    return [AccessView(*row) for row in rows]


def count_entries(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(select(func.count()).select_from(models.AccessLogEntry)).scalar_one()
        )
