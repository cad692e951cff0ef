"""The access log's writer: every partner request and every read of a person's data, hash-chained.

Each writing process owns a lane while it runs (on PostgreSQL by a session advisory lock on
``(LANE_LOCK, lane)``), so writers in different processes never wait for each other, and its
lane's head stays in memory. Writes are group-committed: callers hand their entry to the
process's writer thread and wait until it is durable, so a busy service pays one transaction
per batch, not per request. On PostgreSQL, once `AccessLog.start_async` has run, entries
recorded on the server's event loop (`AccessLog.record_async`) are written by a task of that
loop instead (``pgasync``), with no thread hand-over. Entries with a ``message_id`` claim it
across all lanes (unique index): a second entry with the same id is not written and its caller
learns the message is a replay. The database refuses UPDATE and DELETE on the table by trigger
as well; the chain itself is described in ``chain``.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections.abc import Awaitable
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg.errors import UniqueViolation
from sqlalchemy import Connection, Engine, create_engine, insert, select
from sqlalchemy.exc import DataError, IntegrityError, OperationalError

from nidb.accesslog.chain import (
    ALL_COLUMNS,
    BUSY_SECONDS,
    GENESIS,
    LANE_LOCK,
    LANES,
    PG_COLUMN_TYPES,
    chain_rows,
    linger_seconds,
)
from nidb.accesslog.records import AccessRecord, EntryRefused
from nidb.store import models

if TYPE_CHECKING:
    from nidb.accesslog.pgasync import AsyncAccessLog


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
_PG_INSERT = (
    f"INSERT INTO access_log ({', '.join(ALL_COLUMNS)}) SELECT * FROM unnest("
    + ", ".join(f"%s::{kind}[]" for kind in PG_COLUMN_TYPES)
    + ")"
)
_PG_TAKEN = "SELECT message_id FROM access_log WHERE message_id = ANY(%(ids)s::text[])"


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
    # psycopg's own cursor (prepared statements), not the DB-API interface SQLAlchemy types
    cursor: Any = conn.connection.dbapi_connection.cursor() if postgres else None  # type: ignore[union-attr]
    taken: set[str] = set()
    if claimed and cursor is not None:
        cursor.execute(_PG_TAKEN, {"ids": claimed}, prepare=True)
        taken = {row[0] for row in cursor.fetchall()}
    elif claimed:
        found = conn.execute(
            select(models.AccessLogEntry.message_id).where(
                models.AccessLogEntry.message_id.in_(claimed)
            )
        ).scalars()
        taken = {message_id for message_id in found if message_id is not None}
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
        self._in_flight = 0
        self._thread = threading.Thread(target=self._run, name="nidb-access-log", daemon=True)
        self._thread.start()
        # the event-loop writer (start_async): PostgreSQL only, bound to the loop that started it
        self.loop_writer: AsyncAccessLog | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def record(self, entry: AccessRecord, timeout: float = 30.0) -> bool:
        """Write ``entry`` durably; False if its message_id was already used. Blocks until done."""
        return self.submit(entry).result(timeout)

    def pending(self) -> int:
        """Entries recorded in this process and not yet durable: the access log's lag (a reply
        waits for its entry, so a growing number means requests are waiting on the log)."""
        waiting = self._queue.qsize() + self._in_flight
        if self.loop_writer is not None:
            waiting += self.loop_writer.pending()
        return waiting

    def submit(self, entry: AccessRecord) -> Future[bool]:
        """Queue ``entry``; the future resolves once it is committed (or fails with the error)."""
        future: Future[bool] = Future()
        self._queue.put((entry, future))
        return future

    async def start_async(self) -> None:
        """Write what is recorded on the running event loop from that loop (PostgreSQL; the
        server's lifespan starts it). Without it, or on SQLite, `record_async` waits for the
        writer thread."""
        if self.engine.dialect.name != "postgresql" or self._loop is not None:
            return
        from nidb.accesslog.pgasync import AsyncAccessLog
        from nidb.store.pgasync import asyncpg_dsn

        self.loop_writer = AsyncAccessLog(asyncpg_dsn(self.engine))
        self._loop = asyncio.get_running_loop()

    async def stop_async(self) -> None:
        """Write what the event-loop writer holds and close its connection."""
        if self.loop_writer is not None:
            await self.loop_writer.close()
        self.loop_writer, self._loop = None, None

    def record_async(self, entry: AccessRecord) -> Awaitable[bool]:
        """Write ``entry``; resolves once it is durable (False: its message_id was already used).

        On the loop that ran `start_async` the event-loop writer takes it; anywhere else, the
        writer thread.
        """
        if self.loop_writer is not None and asyncio.get_running_loop() is self._loop:
            return self.loop_writer.submit(entry)
        return asyncio.wrap_future(self.submit(entry))

    def close(self) -> None:
        """Write what is queued, stop the writer thread and give the lane back."""
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
            self._in_flight = len(batch)
            try:
                self._write(batch)
            finally:
                self._in_flight = 0
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
            except (DataError, psycopg.DataError) as error:
                # the database refused what an entry says (too long, a NUL): nothing of the batch
                # was written; write the entries one by one so only the bad one fails
                self._head = None
                if len(batch) > 1:
                    for item in batch:
                        self._write([item])
                    return
                batch[0][1].set_exception(EntryRefused(type(error).__name__))
                return
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
