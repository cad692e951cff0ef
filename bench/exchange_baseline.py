"""The peer of the card-check benchmark: the same card lookup without signatures or audit.

Same framework (FastAPI on uvicorn), same database, same query code
(``nidb.exchange.services.card_check``), plain JSON in and out, nothing logged. The ratio of
the two in one run is the cost of trust: signature checks, grants, signed replies and the
hash-chained access log.

    NIDB_DATABASE_URL=... uvicorn bench.exchange_baseline:app --workers 2
"""

from __future__ import annotations

import json
from datetime import date

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from nidb.exchange.runtime import reader_engine
from nidb.exchange.services import card_check
from nidb.store.db import make_engine

app = FastAPI()
engine = reader_engine(make_engine())  # the same autocommit, ping-free reader pool nidb reads with


@app.post("/plain/card.check")
async def plain_card_check(request: Request) -> JSONResponse:
    body = json.loads(await request.body())
    with engine.connect() as conn:
        answer = card_check(
            conn,
            body["card_code"],
            body["full_name"],
            body["date_of_birth"],
            body.get("gender"),
            date.today(),
        )
    return JSONResponse(answer.body)
