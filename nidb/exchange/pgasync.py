"""Card look-ups on the event loop (asyncpg), for `nidb serve`'s partner requests.

A card check is the hottest request of the system: a hospital checks a card at every visit.
Run the synchronous way, each one held its worker's event loop for the whole database round
trip. Here, while PostgreSQL looks up one card the loop verifies the next signature. asyncpg
also spends about a third of the driver CPU the synchronous path did per query
(bench/results/exchange.md). The access log's event-loop writer is `nidb.accesslog`'s
(``AccessLog.start_async``).

Only PostgreSQL: on SQLite the runtime keeps its synchronous path.
"""

from __future__ import annotations

import asyncio

import asyncpg

from nidb.exchange.cardcheck import CARDS_OF_CODES_ASYNCPG, CardRow
from nidb.store.pgasync import BROKEN_CONNECTION

MAX_BATCH = 200
"""Codes looked up by one statement at most."""

APPLICATION_NAME = "nidb card reader"
"""How these connections show in ``pg_stat_activity`` (bench/soak.py sums their memory)."""


class AsyncCardReader:
    """Card look-ups on up to ``size`` connections of this event loop, batched.

    The checks that reach their look-up while the loop is busy share one statement
    (``WHERE bhxh_code = ANY($1)``): a look-up waits for a connection, and the connection takes
    every code waiting when it is free (nothing waits on purpose: a lone check goes at once).
    Under load that is one round trip, one Bind and one Execute for a dozen checks instead of
    one each, which is what PostgreSQL and the driver spend their CPU on.

    The pool is a queue of ``size`` slots, each an open connection or None (a slot whose
    connection is yet to be opened, or was dropped): a waiter always gets either, so a broken
    connection never leaves a waiter without one.
    """

    def __init__(self, dsn: str, size: int = 4, max_batch: int = MAX_BATCH) -> None:
        self.dsn, self.size, self.max_batch = dsn, size, max_batch
        self._slots: asyncio.Queue[asyncpg.Connection | None] = asyncio.Queue()
        for _ in range(size):
            self._slots.put_nowait(None)
        self._waiting: dict[str, list[asyncio.Future[list[CardRow]]]] = {}
        self._runners = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self.opened = 0
        """Connections open now (in use or idle)."""
        self.statements = 0
        """Look-up statements run (each for one or more codes)."""

    async def cards(self, bhxh_code: str) -> list[CardRow]:
        """The cards of ``bhxh_code`` with their holder (a dropped connection is retried once)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[CardRow]] = loop.create_future()
        self._waiting.setdefault(bhxh_code, []).append(future)
        if self._runners < self.size:
            self._runners += 1
            task = loop.create_task(self._run())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await future

    async def _run(self) -> None:
        """Take a connection, then look up what is waiting until nothing is."""
        try:
            conn: asyncpg.Connection | None = None
            try:
                while self._waiting:
                    batch = self._take_batch()
                    # _look_up owns the connection until it returns: one it raises out of (a
                    # cancelled query) it has already discarded, so none is handed back here
                    held, conn = conn, None
                    conn = await self._look_up(held, batch)
            finally:
                if conn is not None:
                    self._slots.put_nowait(conn)
        finally:
            self._runners -= 1

    def _take_batch(self) -> dict[str, list[asyncio.Future[list[CardRow]]]]:
        batch: dict[str, list[asyncio.Future[list[CardRow]]]] = {}
        for code in list(self._waiting)[: self.max_batch]:
            batch[code] = self._waiting.pop(code)
        return batch

    async def _look_up(
        self,
        conn: asyncpg.Connection | None,
        batch: dict[str, list[asyncio.Future[list[CardRow]]]],
    ) -> asyncpg.Connection | None:
        """Answer every future of ``batch``; the connection to go on with (None: none held)."""
        for attempt in (1, 2):
            if conn is None:
                try:
                    conn = await self._take()
                except Exception as error:  # no connection to be had: these checks fail
                    _fail(batch, error)
                    return None
                except BaseException as error:
                    _fail(batch, error)
                    raise
            try:
                rows = await conn.fetch(CARDS_OF_CODES_ASYNCPG, list(batch))
            except BROKEN_CONNECTION as error:
                self._discard(conn)
                conn = None
                if attempt == 2:
                    _fail(batch, error)
                continue
            except Exception as error:  # the statement failed; the connection is fine
                _fail(batch, error)
                return conn
            except BaseException as error:  # cancelled mid-query: its state is unknown
                self._discard(conn)
                _fail(batch, error)
                raise
            self.statements += 1
            found: dict[str, list[CardRow]] = {code: [] for code in batch}
            for row in rows:
                found[row[12]].append(CardRow(*row[:12]))
            for code, futures in batch.items():
                for future in futures:
                    if not future.done():
                        future.set_result(found[code])
            return conn
        return conn

    async def _take(self) -> asyncpg.Connection:
        slot = await self._slots.get()
        if slot is not None:
            return slot
        try:
            conn = await asyncpg.connect(
                self.dsn, server_settings={"application_name": APPLICATION_NAME}
            )
        except BaseException:
            self._slots.put_nowait(None)  # the slot stays free for the next caller
            raise
        self.opened += 1
        return conn

    def _discard(self, conn: asyncpg.Connection) -> None:
        conn.terminate()
        self.opened -= 1
        self._slots.put_nowait(None)

    async def close(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        while not self._slots.empty():
            slot = self._slots.get_nowait()
            if slot is not None:
                await slot.close()
                self.opened -= 1


def _fail(batch: dict[str, list[asyncio.Future[list[CardRow]]]], error: BaseException) -> None:
    for futures in batch.values():
        for future in futures:
            if not future.done():
                if isinstance(error, asyncio.CancelledError):
                    future.cancel()
                else:
                    future.set_exception(error)
