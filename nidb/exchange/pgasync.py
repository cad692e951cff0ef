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

from nidb.exchange.cardcheck import CARDS_WITH_HOLDER_ASYNCPG, CardRow
from nidb.store.pgasync import BROKEN_CONNECTION


class AsyncCardReader:
    """Card look-ups on up to ``size`` connections of this event loop.

    The pool is a queue of ``size`` slots, each an open connection or None (a slot whose
    connection is yet to be opened, or was dropped): a waiter always gets either, so a broken
    connection never leaves a waiter without one.
    """

    def __init__(self, dsn: str, size: int = 4) -> None:
        self.dsn = dsn
        self._slots: asyncio.Queue[asyncpg.Connection | None] = asyncio.Queue()
        for _ in range(size):
            self._slots.put_nowait(None)
        self.opened = 0
        """Connections open now (in use or idle)."""

    async def cards(self, bhxh_code: str) -> list[CardRow]:
        """The cards of ``bhxh_code`` with their holder (a dropped connection is retried once)."""
        for attempt in (1, 2):
            conn = await self._take()
            try:
                rows = await conn.fetch(CARDS_WITH_HOLDER_ASYNCPG, bhxh_code)
            except BROKEN_CONNECTION:
                self._discard(conn)
                if attempt == 2:
                    raise
                continue
            except Exception:  # the statement failed; the connection is fine
                self._slots.put_nowait(conn)
                raise
            except BaseException:  # cancelled mid-query: its state is unknown
                self._discard(conn)
                raise
            self._slots.put_nowait(conn)
            return [CardRow(*row) for row in rows]
        raise AssertionError("unreachable")

    async def _take(self) -> asyncpg.Connection:
        slot = await self._slots.get()
        if slot is not None:
            return slot
        try:
            conn = await asyncpg.connect(self.dsn)
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
        while not self._slots.empty():
            slot = self._slots.get_nowait()
            if slot is not None:
                await slot.close()
                self.opened -= 1
