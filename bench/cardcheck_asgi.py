"""CPU per signed card check through nidb serve's ASGI application, without sockets.

`bench/cardcheck_cpu.py` measures the runtime alone; this drives the application `nidb serve`
runs (`nidb.api.app.app_from_settings`: the partner fast path in front of FastAPI) with
``--concurrency`` requests in flight on one uvloop event loop, as one worker behind that many
connections, with the serve logging configuration writing its JSON lines to a file and the
metrics in multiprocess files: request id, metrics, log line, gate, look-up, signed reply and
access-log entry are all counted; uvicorn's HTTP parsing and the sockets are not. Envelopes are
signed beforehand (not counted). CPU of this process and of PostgreSQL's backends from /proc.

    PYTHONPATH=<checkout> python bench/cardcheck_asgi.py --requests 10000 --work /tmp/nidb-bench

Run it with ``PYTHONPATH`` at another checkout (this file copied in) to compare two versions on
the same cluster, alternating.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging.config
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# before prometheus_client is imported: the metrics in files, as under `nidb serve`
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="nidb-bench-metrics-"))

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.cardcheck_cpu import cli  # noqa: E402
from bench.exchange import HOSPITAL, person, prepare  # noqa: E402
from bench.soak import TICK, descendants, kib_fields  # noqa: E402
from nidb.api.app import create_app  # noqa: E402
from nidb.api.fastpath import PartnerFastPath  # noqa: E402
from nidb.api.logs import logging_config  # noqa: E402
from nidb.protocol.client import ExchangeClient  # noqa: E402
from nidb.protocol.keys import SigningKey  # noqa: E402

PATH = "/x/card.check/v1"


def backend_ticks(postmaster: int) -> int:
    return sum(kib_fields(pid).get("ticks", 0) for pid in descendants(postmaster)[1:])


def scope() -> dict[str, Any]:
    """What uvicorn hands the application for a partner's POST."""
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "scheme": "http",
        "method": "POST",
        "root_path": "",
        "path": PATH,
        "raw_path": PATH.encode(),
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1:8000"), (b"content-type", b"application/json")],
        "state": {},
    }


async def drive(app: PartnerFastPath, bodies: list[bytes], concurrency: int) -> dict[int, int]:
    statuses: dict[int, int] = {}
    pending = iter(bodies)

    async def one(body: bytes) -> None:
        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                statuses[message["status"]] = statuses.get(message["status"], 0) + 1

        await app(scope(), receive, send)

    async def client() -> None:
        for body in pending:
            await one(body)

    await asyncio.gather(*(client() for _ in range(concurrency)))
    return statuses


def main() -> None:
    cli(__doc__, run, requests=10_000)


def run(url: str, folder: Path, args: argparse.Namespace) -> None:
    config = logging_config("INFO")
    log_path = args.work / "cardcheck_asgi.log"
    config["handlers"]["stderr"]["stream"] = log_path.open("w", encoding="utf-8")
    logging.config.dictConfig(config)
    engine, key, _, _ = prepare(url, args.cards)
    postmaster = int((folder / "data" / "postmaster.pid").read_text().split()[0])
    client = ExchangeClient("http://unused.invalid", HOSPITAL, key)
    rng = random.Random(7)
    bodies = []
    for _ in range(args.warm + args.requests):
        code, holder, born, gender = person(rng.randrange(args.cards))
        body = {"card_code": code, "full_name": holder, "date_of_birth": born, "gender": gender}
        envelope = client.envelope("card.check/v1", "KCB", body)
        bodies.append(json.dumps(envelope, ensure_ascii=False).encode())
    fastapi_app = create_app(engine, SigningKey.generate())
    app = PartnerFastPath(fastapi_app)

    async def measured() -> tuple[float, float, float, dict[int, int]]:
        async with fastapi_app.router.lifespan_context(fastapi_app):
            await drive(app, bodies[: args.warm], args.concurrency)
            pg_before, cpu_before, wall_before = (
                backend_ticks(postmaster),
                time.process_time(),
                time.perf_counter(),
            )
            statuses = await drive(app, bodies[args.warm :], args.concurrency)
            return (
                time.process_time() - cpu_before,
                (backend_ticks(postmaster) - pg_before) / TICK,
                time.perf_counter() - wall_before,
                statuses,
            )

    import uvloop  # what uvicorn runs nidb serve on (uvicorn[standard])

    cpu, pg, wall, statuses = uvloop.run(measured())
    engine.dispose()
    assert statuses == {200: args.requests}, statuses
    n = args.requests
    print(
        f"{n:,} card checks through the ASGI app, {args.concurrency} in flight, {wall:.1f} s: "
        f"this process {cpu * 1000 / n:.3f} ms CPU per check, PostgreSQL {pg * 1000 / n:.3f} ms; "
        f"load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )


if __name__ == "__main__":
    main()
