"""The access log's writer on the event loop (asyncpg), for the server's partner requests.

Run the synchronous way, each access-log batch was handed to a writer thread and back. Here the
log is group-committed by a task of the worker's own event loop, so a reply waits for its entry
without any thread hand-over. The writer owns a lane (advisory lock, as the threaded
`nidb.accesslog.AccessLog` does), chains entries with the same code (``chain``), and writes a
batch as one autocommitted INSERT, or, when a message id in it was used before, the careful way
in a transaction so only the replayed entries are refused.

`AccessLog.start_async` starts it (PostgreSQL only); callers use `AccessLog.record_async`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Sequence
from typing import Any

import asyncpg

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
from nidb.store.pgasync import BROKEN_CONNECTION

log = logging.getLogger(__name__)

_INSERT = (
    f"INSERT INTO access_log ({', '.join(ALL_COLUMNS)}) SELECT * FROM unnest("
    + ", ".join(f"${n}::{kind}[]" for n, kind in enumerate(PG_COLUMN_TYPES, start=1))
    + ")"
)
_TAKEN = "SELECT message_id FROM access_log WHERE message_id = ANY($1::text[])"
_HEAD = "SELECT seq, entry_hash FROM access_log WHERE lane = $1 ORDER BY seq DESC LIMIT 1"


APPLICATION_NAME = "nidb access log"
"""How the writer's connection shows in ``pg_stat_activity`` (bench/soak.py sums its memory)."""

_CONTENT_ERRORS = (asyncpg.DataError, asyncpg.IntegrityConstraintViolationError)
"""What a statement fails with when an entry's content does not fit (a unique violation, a
replay, is caught before these)."""


class AsyncAccessLog:
    """Group-committing access-log writer on the event loop (one lane per process)."""

    def __init__(
        self,
        dsn: str,
        linger: float | None = None,
        max_batch: int = 500,
        attempts: int = 20,
    ) -> None:
        self.dsn, self.max_batch, self.attempts = dsn, max_batch, attempts
        self.linger = linger_seconds() if linger is None else linger
        self.lane = -1
        self._conn: asyncpg.Connection | None = None
        self._head: tuple[int, str] | None = None
        self._pending: deque[tuple[AccessRecord, asyncio.Future[bool]]] = deque()
        self._wake = asyncio.Event()
        self._last_write = 0.0
        self._closing = False
        self._task: asyncio.Task[None] | None = None
        self._in_flight = 0

    def pending(self) -> int:
        """Entries handed to this writer and not yet written (queued or in the batch being
        written)."""
        return len(self._pending) + self._in_flight

    def submit(self, record: AccessRecord) -> asyncio.Future[bool]:
        """Queue ``record``; the future is True once it is committed, False for a replayed
        message id, or fails with the error that kept it from being written."""
        if self._closing:
            raise RuntimeError("the access log is closed")
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pending.append((record, future))
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())
        self._wake.set()
        return future

    async def close(self) -> None:
        """Write what is queued, then give the lane back."""
        self._closing = True
        self._wake.set()
        if self._task is not None:
            await self._task
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            if not self._pending:
                if self._closing:
                    return
                continue
            busy = time.monotonic() - self._last_write < BUSY_SECONDS
            if busy and self.linger > 0 and not self._closing:
                await asyncio.sleep(self.linger)  # let more requests join this commit
            while self._pending:
                count = min(len(self._pending), self.max_batch)
                batch = [self._pending.popleft() for _ in range(count)]
                self._in_flight = count
                try:
                    await self._write(batch)
                finally:
                    self._in_flight = 0
            self._last_write = time.monotonic()
            if self._closing and not self._pending:
                return

    async def _claim_lane(self) -> asyncpg.Connection:
        conn = await asyncpg.connect(
            self.dsn, server_settings={"application_name": APPLICATION_NAME}
        )
        for lane in range(LANES):
            if await conn.fetchval("SELECT pg_try_advisory_lock($1, $2)", LANE_LOCK, lane):
                row = await conn.fetchrow(_HEAD, lane)
                self.lane, self._conn = lane, conn
                self._head = (0, GENESIS) if row is None else (row["seq"], row["entry_hash"])
                return conn
        await conn.close()
        raise RuntimeError(f"all {LANES} access-log lanes are in use")

    async def _write(self, batch: list[tuple[AccessRecord, asyncio.Future[bool]]]) -> None:
        records = [record for record, _ in batch]
        error: BaseException | None = None
        for attempt in range(self.attempts):
            try:
                conn = self._conn or await self._claim_lane()
                assert self._head is not None
                results = await self._append(conn, records)
            except asyncpg.UniqueViolationError as failure:
                # an id claimed in another lane between our look-up and our insert: the
                # transaction is undone and the head has not moved; look again
                error = failure
                await asyncio.sleep(min(0.002 * 2**attempt, 0.2))
                continue
            except (
                BROKEN_CONNECTION
            ) as failure:  # a dropped connection: reclaim the lane, reread its head
                error = failure
                if self._conn is not None:
                    self._conn.terminate()
                    self._conn, self._head = None, None
                await asyncio.sleep(min(0.002 * 2**attempt, 0.2))
                continue
            except _CONTENT_ERRORS as failure:
                # the database refused what an entry says: nothing of the batch was written and
                # the connection is sound; write the entries one by one so only the bad one fails
                if len(batch) > 1:
                    for item in batch:
                        await self._write([item])
                    return
                error = EntryRefused(type(failure).__name__)
                break
            except Exception as failure:  # anything else: every waiter must hear it
                error = failure
                if self._conn is not None and not isinstance(failure, asyncpg.PostgresError):
                    self._conn.terminate()  # in an unknown state: the next batch starts afresh
                    self._conn, self._head = None, None
                break
            for (_, future), accepted in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(accepted)
            return
        log.error("access log batch of %d not written: %s", len(batch), error)
        for _, future in batch:
            if not future.done():
                future.set_exception(error or RuntimeError("access log not written"))

    async def _append(self, conn: asyncpg.Connection, records: list[AccessRecord]) -> list[bool]:
        assert self._head is not None
        accepted, rows, head = chain_rows(records, set(), self.lane, self._head)
        try:
            if rows:  # one autocommitted statement: the bet that no message id was used
                await conn.execute(_INSERT, *_columns(rows))
        except asyncpg.UniqueViolationError:  # nothing was written; now the careful way
            claimed = [r.message_id for r in records if r.message_id]
            async with conn.transaction():
                taken = {row[0] for row in await conn.fetch(_TAKEN, claimed)}
                accepted, rows, head = chain_rows(records, taken, self.lane, self._head)
                if rows:
                    await conn.execute(_INSERT, *_columns(rows))
        self._head = head  # committed: the lane's head moves on
        return accepted


def _columns(rows: Sequence[dict[str, Any]]) -> list[list[Any]]:
    return [[row[column] for row in rows] for column in ALL_COLUMNS]
