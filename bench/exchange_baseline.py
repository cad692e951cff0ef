"""The peer of the card-check benchmark: the same card lookup without signatures or audit.

Same framework (FastAPI on uvicorn), same database, same look-up as nidb's server path
(``nidb.exchange.cardcheck.card_check_async`` on ``nidb.exchange.pgasync.AsyncCardReader``,
the event-loop reader `nidb serve` uses on PostgreSQL), plain JSON in and out, nothing logged.
The ratio of the two in one run is the cost of trust: signature checks, grants, signed replies
and the hash-chained access log.

    NIDB_DATABASE_URL=... uvicorn bench.exchange_baseline:app --workers 2
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from nidb.exchange.cardcheck import card_check_async
from nidb.exchange.pgasync import AsyncCardReader
from nidb.store.db import make_engine
from nidb.store.pgasync import asyncpg_dsn


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.cards = AsyncCardReader(asyncpg_dsn(make_engine()))
    try:
        yield
    finally:
        await app.state.cards.close()


app = FastAPI(lifespan=lifespan)


@app.post("/plain/card.check")
async def plain_card_check(request: Request) -> JSONResponse:
    body = json.loads(await request.body())
    answer = await card_check_async(
        request.app.state.cards,
        body["card_code"],
        body["full_name"],
        body["date_of_birth"],
        body.get("gender"),
        date.today(),
    )
    return JSONResponse(answer.body)
