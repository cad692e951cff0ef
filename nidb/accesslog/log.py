"""The access log: every partner request and every read of a person's data, hash-chained.

The log is a set of lanes, each a hash chain: every entry carries ``prev_hash`` (the previous
entry's hash in its lane) and ``entry_hash`` = SHA-256 of the canonical JSON of its own fields
and ``prev_hash``, in ``seq`` order from 1 within the lane. Editing, removing or
reordering any entry breaks its lane's chain at that point (`nidb audit verify`); cutting a tail
is caught by checking heads kept outside the database (`nidb audit head`). The database refuses
UPDATE and DELETE on the table by trigger as well.

Each writing process owns a lane while it runs (on PostgreSQL by a session advisory lock on
``(LANE_LOCK, lane)``), so writers in different processes never wait for each other, and its
lane's head stays in memory. Writes are group-committed: callers hand their entry to the
process's writer thread and wait until it is durable, so a busy service pays one transaction
per batch, not per request. Entries with a ``message_id`` claim it across all lanes (unique
index): a second entry with the same id is not written and its caller learns the message is a
replay.
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

import psycopg
from psycopg.errors import UniqueViolation
from sqlalchemy import Connection, Engine, RowMapping, create_engine, func, insert, select
from sqlalchemy.exc import IntegrityError, OperationalError

from nidb.protocol.canonical import canonical_json
from nidb.settings import get_settings
from nidb.store import models
from nidb.store.drivers import psycopg_connection

GENESIS = "0" * 64
LANE_LOCK = 0x6E696462  # "nidb": advisory locks (LANE_LOCK, lane) mark the lanes in use
LANES = 64
BUSY_SECONDS = 0.01
"""A writer whose last batch ended this recently is busy: it lingers for more entries."""


def linger_seconds() -> float:
    """``NIDB_ACCESS_LOG_LINGER_MS`` in seconds (a busy PostgreSQL writer's batch window)."""
    return get_settings().access_log_linger_ms / 1000


# The lane is not hashed: entries written before lanes existed (all in lane 0) keep their hashes,
# and an entry moved to another lane breaks both chains' links anyway.
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


def staff_read(
    actor: str,
    role: str,
    service: str,
    subject: str | None,
    fields: str,
    detail: dict[str, Any],
) -> AccessRecord:
    """The access record of a staff member's read of a person's data (purpose GQCD: handling
    the person's case), as the staff API and the console both write it."""
    return AccessRecord(
        actor=actor,
        service=service,
        result="ok",
        purpose="GQCD",
        subject=subject,
        fields=fields,
        detail={"role": role, **detail},
    )


def entry_hash(row: dict[str, Any], prev_hash: str) -> str:
    """The hash that chains ``row`` (its stored column values) to ``prev_hash``."""
    values = [row[name] for name in _COLUMNS]
    return hashlib.sha256(canonical_json([*values, prev_hash])).hexdigest()


def _now_text() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _head(conn: Connection, lane: int) -> tuple[int, str]:
    table = models.AccessLogEntry
    row = conn.execute(
        select(table.seq, table.entry_hash)
        .where(table.lane == lane)
        .order_by(table.seq.desc())
        .limit(1)
    ).first()
    return (0, GENESIS) if row is None else (row.seq, row.entry_hash)


# On PostgreSQL the writer talks to the driver directly: an access-log batch is written for every
# few requests, and SQLAlchemy's per-row parameter handling cost more CPU than the request itself.
ALL_COLUMNS = ("lane", *_COLUMNS, "prev_hash", "entry_hash")
PG_COLUMN_TYPES = ("smallint", "bigint", *(["text"] * 9), "text", "text")
_PG_INSERT = (
    f"INSERT INTO access_log ({', '.join(ALL_COLUMNS)}) SELECT * FROM unnest("
    + ", ".join(f"%s::{kind}[]" for kind in PG_COLUMN_TYPES)
    + ")"
)
_PG_TAKEN = "SELECT message_id FROM access_log WHERE message_id = ANY(%(ids)s::text[])"


def chain_rows(
    records: list[AccessRecord], taken: set[str], lane: int, head: tuple[int, str]
) -> tuple[list[bool], list[dict[str, Any]], tuple[int, str]]:
    """The rows that chain ``records`` onto ``head``, skipping message ids in ``taken`` (and a
    second use of an id within ``records``); per record whether it was kept; the new head."""
    seq, prev = head
    accepted: list[bool] = []
    rows: list[dict[str, Any]] = []
    taken = set(taken)
    for record in records:
        if record.message_id and record.message_id in taken:
            accepted.append(False)
            continue
        if record.message_id:
            taken.add(record.message_id)
        seq += 1
        row = {
            "lane": lane,
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
    return accepted, rows, (seq, prev)


def _pg_insert(cursor: Any, rows: list[dict[str, Any]]) -> None:
    """One prepared statement, the columns as arrays."""
    cursor.execute(_PG_INSERT, [[row[c] for row in rows] for c in ALL_COLUMNS], prepare=True)


def append(
    conn: Connection,
    records: list[AccessRecord],
    lane: int = 0,
    head: tuple[int, str] | None = None,
) -> tuple[list[bool], tuple[int, str]]:
    """Chain and insert ``records`` in ``lane`` in this transaction.

    ``head`` is the lane's last (seq, hash) if the caller knows it (it owns the lane), else it is
    read. Returns, per record, False for a replayed message_id, and the lane's new head (valid
    once the caller commits).
    """
    claimed = [r.message_id for r in records if r.message_id]
    postgres = conn.dialect.name == "postgresql"
    cursor = psycopg_connection(conn).cursor() if postgres else None
    taken: set[str] = set()
    if claimed and cursor is not None:
        cursor.execute(_PG_TAKEN, {"ids": claimed}, prepare=True)
        taken = {row[0] for row in cursor.fetchall()}
    elif claimed:
        taken = {
            message_id
            for message_id in conn.execute(
                select(models.AccessLogEntry.message_id).where(
                    models.AccessLogEntry.message_id.in_(claimed)
                )
            ).scalars()
            if message_id is not None  # IN (claimed) matches no NULL
        }
    accepted, rows, head = chain_rows(records, taken, lane, head or _head(conn, lane))
    if rows and cursor is not None:
        _pg_insert(cursor, rows)
    elif rows:  # executemany: SQLAlchemy sends one multi-row INSERT ("insertmanyvalues")
        conn.execute(insert(models.AccessLogEntry), rows)
    return accepted, head


def append_optimistic(
    conn: Connection, records: list[AccessRecord], lane: int, head: tuple[int, str]
) -> tuple[list[bool], tuple[int, str]] | None:
    """Write ``records`` as one autocommitted statement, betting no message id is taken.

    The busy path on PostgreSQL: one round trip per batch instead of four (BEGIN, look-up,
    INSERT, COMMIT). The unique index on ``message_id`` keeps the bet honest: if any id was
    used before, the statement fails as a whole, nothing is written, and None tells the caller
    to write the batch the careful way (`append`). ``conn`` must not be in a transaction.
    """
    accepted, rows, new_head = chain_rows(records, set(), lane, head)
    if not rows:
        return accepted, new_head
    raw = conn.connection.dbapi_connection
    assert raw is not None
    raw.autocommit = True
    try:
        _pg_insert(raw.cursor(), rows)
    except UniqueViolation:
        return None
    finally:
        if not raw.broken:
            raw.autocommit = False
    return accepted, new_head


class AccessLog:
    """Group-committing writer of the access log for one process."""

    def __init__(
        self,
        engine: Engine,
        max_batch: int = 500,
        attempts: int = 20,
        linger: float | None = None,
    ) -> None:
        self.max_batch, self.attempts = max_batch, attempts
        # How long a busy writer keeps its batch open for more entries. Each commit costs a WAL
        # flush and ~0.3 ms of CPU on each side whatever its size; a few milliseconds of waiting
        # turns one commit per request into one per dozen (bench/results/exchange.md).
        self.linger = (
            linger
            if linger is not None
            else (linger_seconds() if engine.dialect.name == "postgresql" else 0.0)
        )
        self._last_write = 0.0
        # one connection, no ping per batch: a dead connection fails one batch, which is retried
        self.engine = (
            create_engine(engine.url, pool_size=1, max_overflow=1, pool_pre_ping=False)
            if engine.dialect.name == "postgresql"
            else engine
        )
        self._own_engine = self.engine is not engine
        self.lane = 0
        self._conn: Connection | None = None
        self._head: tuple[int, str] | None = None
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
        if self._conn is not None:
            self._conn.close()  # ends the session: the lane is free again
        if self._own_engine:
            self.engine.dispose()

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            stop = False
            # linger only while busy (the last batch was written moments ago): a lone request
            # is written at once
            busy = time.monotonic() - self._last_write < BUSY_SECONDS
            deadline = time.monotonic() + (self.linger if busy else 0.0)
            while len(batch) < self.max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    try:
                        item = self._queue.get(timeout=left)
                    except queue.Empty:
                        break
                if item is None:
                    stop = True
                    break
                batch.append(item)
            self._write(batch)
            self._last_write = time.monotonic()
            if stop:
                return

    def _claim_lane(self) -> None:
        """Own a lane for this process (PostgreSQL); SQLite's single writer shares lane 0."""
        self._head = None
        if self.engine.dialect.name != "postgresql":
            self.lane, self._conn = 0, None
            return
        conn = self.engine.connect()
        for lane in range(LANES):
            got = conn.exec_driver_sql(
                "SELECT pg_try_advisory_lock(%(key)s, %(lane)s)", {"key": LANE_LOCK, "lane": lane}
            ).scalar()
            conn.commit()
            if got:
                self.lane, self._conn = lane, conn
                return
        conn.close()
        raise RuntimeError(f"all {LANES} access-log lanes are in use")

    def _write(self, batch: list[tuple[AccessRecord, Future[bool]]]) -> None:
        records = [record for record, _ in batch]
        for attempt in range(self.attempts):
            try:
                if self._conn is None and self.engine.dialect.name == "postgresql":
                    self._claim_lane()
                if self._conn is not None:
                    done = (
                        append_optimistic(self._conn, records, self.lane, self._head)
                        if self._head is not None
                        else None
                    )
                    if done is None:  # head unknown, or a message id seen before
                        with self._conn.begin():
                            done = append(self._conn, records, self.lane, self._head)
                    results, head = done
                    self._head = head  # committed: the lane's head moves on
                else:
                    with self.engine.begin() as conn:  # SQLite: read the head under the lock
                        results, _ = append(conn, records, 0, None)
            except (
                IntegrityError,
                OperationalError,
                psycopg.IntegrityError,  # raised by the driver's cursor, unwrapped
                psycopg.OperationalError,
            ) as error:
                # a replay racing in another lane, SQLite's lock, or a dropped connection:
                # forget the cached head (and the lane's connection if it broke) and try again
                self._head = None
                broken = isinstance(error, OperationalError | psycopg.OperationalError)
                if broken and self._conn is not None:
                    self._conn.invalidate()
                    self._conn = None
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
    lane: int = 0


@dataclass(frozen=True, slots=True)
class ChainReport:
    entries: int
    heads: dict[int, tuple[int, str]]
    """Each lane's last (seq, hash) as found."""
    problems: tuple[ChainProblem, ...]

    @property
    def intact(self) -> bool:
        return not self.problems


def _stored(engine: Engine, chunk: int = 10_000) -> Iterator[RowMapping]:
    """Every entry in (lane, seq) order, read in chunks."""
    after = (-1, 0)
    table = models.AccessLogEntry.__table__
    while True:
        lane, seq = after
        with engine.connect() as conn:
            rows = (
                conn.execute(
                    select(table)
                    .where((table.c.lane > lane) | ((table.c.lane == lane) & (table.c.seq > seq)))
                    .order_by(table.c.lane, table.c.seq)
                    .limit(chunk)
                )
                .mappings()
                .all()
            )
        if not rows:
            return
        yield from rows
        after = (rows[-1]["lane"], rows[-1]["seq"])


def verify_chain(
    engine: Engine,
    anchors: dict[int, tuple[int, str]] | None = None,
    max_problems: int = 100,
) -> ChainReport:
    """Walk every lane and report each entry that was edited, removed or moved.

    ``anchors`` are heads kept outside the database (lane → (seq, hash), from `chain_head`):
    each must still be there with that hash, which also catches a cut tail or a lane rewritten
    from scratch.
    """
    problems: list[ChainProblem] = []
    heads: dict[int, tuple[int, str]] = {}
    count = 0
    seen: set[int] = set()
    for row in _stored(engine):
        count += 1
        lane, seq = row["lane"], row["seq"]
        last_seq, prev = heads.get(lane, (0, GENESIS))
        if seq != last_seq + 1:
            problems.append(
                ChainProblem(seq, "gap", f"thiếu bản ghi {last_seq + 1}..{seq - 1}", lane)
            )
        if row["prev_hash"] != prev:
            problems.append(ChainProblem(seq, "link", "không nối với bản ghi liền trước", lane))
        if entry_hash(dict(row), row["prev_hash"]) != row["entry_hash"]:
            problems.append(ChainProblem(seq, "hash", "nội dung đã bị sửa", lane))
        anchor = (anchors or {}).get(lane)
        if anchor is not None and seq == anchor[0]:
            seen.add(lane)
            if row["entry_hash"] != anchor[1]:
                problems.append(
                    ChainProblem(seq, "head", "không khớp với mốc đã lưu ngoài CSDL", lane)
                )
        heads[lane] = (seq, row["entry_hash"])
        if len(problems) >= max_problems:
            break
    for lane, (seq, _) in (anchors or {}).items():
        if lane not in seen and len(problems) < max_problems:
            problems.append(ChainProblem(seq, "head", "bản ghi mốc không còn trong nhật ký", lane))
    return ChainReport(count, heads, tuple(problems))


def chain_head(engine: Engine) -> dict[int, tuple[int, str]]:
    """Each lane's last seq and hash, to be kept outside the database."""
    table = models.AccessLogEntry
    with engine.connect() as conn:
        last = select(table.lane, func.max(table.seq).label("seq")).group_by(table.lane).subquery()
        rows = conn.execute(
            select(table.lane, table.seq, table.entry_hash).join(
                last, (table.lane == last.c.lane) & (table.seq == last.c.seq)
            )
        ).all()
    return {row.lane: (row.seq, row.entry_hash) for row in rows}


def format_heads(heads: dict[int, tuple[int, str]]) -> str:
    """``LANE:SEQ:HASH`` per lane, comma-separated (what `nidb audit head` prints)."""
    return ",".join(f"{lane}:{seq}:{digest}" for lane, (seq, digest) in sorted(heads.items()))


def parse_heads(text: str) -> dict[int, tuple[int, str]]:
    """Read `format_heads` output back; raises ValueError naming the bad part."""
    heads: dict[int, tuple[int, str]] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        pieces = part.split(":")
        if len(pieces) == 2:  # SEQ:HASH of lane 0
            pieces = ["0", *pieces]
        lane, seq, digest = pieces if len(pieces) == 3 else ("", "", "")
        if not (lane.isdigit() and seq.isdigit() and len(digest) == 64):
            raise ValueError(f"{part!r} is not LANE:SEQ:HASH")
        heads[int(lane)] = (int(seq), digest.lower())
    return heads


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
            .order_by(table.occurred_at.desc(), table.seq.desc())
            .limit(limit)
        ).all()
    return [AccessView(*row) for row in rows]


def count_entries(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(select(func.count()).select_from(models.AccessLogEntry)).scalar_one()
        )
