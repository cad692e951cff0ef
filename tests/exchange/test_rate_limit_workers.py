"""Issue 16, item 5: a partner's rate limit holds across `nidb serve --workers 2`.

A real server with two worker processes, a hospital limited to 5 requests per second, and 40
signed card checks sent at once over 8 connections: about 5 are answered, the rest refused
E_RATE_LIMITED with the usual signed refusal. The same burst against the same server started
with the per-process limiter (NIDB_RATE_LIMIT_SHARED=false) gets more than one process's budget
through, which shows the burst does reach both workers.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import orjson

from nidb.exchange.partners import add_grant, add_partner
from nidb.protocol.client import ExchangeClient
from nidb.protocol.keys import SigningKey
from nidb.store.db import make_engine
from tests import seed
from tests.api.test_live_server import free_port

RATE = 5
REQUESTS = 40
CONNECTIONS = 8
CARD = {
    "card_code": f"DN401{seed.BHXH}",
    "full_name": "Nguyễn Văn An",
    "date_of_birth": "1985-03-17",
}


def serve(database_url: str, folder: Path, shared: bool) -> tuple[subprocess.Popen[bytes], str]:
    env = {
        **os.environ,
        "NIDB_DATABASE_URL": database_url,
        "NIDB_DATA_DIR": str(folder),
        "NIDB_ACTOR": "test",
        "NIDB_RATE_LIMIT_SHARED": "true" if shared else "false",
    }
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "nidb", "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/health").status_code == 200:
                return server, base
        except httpx.HTTPError:
            pass
        if server.poll() is not None or time.monotonic() >= deadline:
            server.terminate()  # a server still starting must not outlive the test
            server.wait(30)
            raise AssertionError("nidb serve did not start")
        time.sleep(0.2)


def burst(base: str, key: SigningKey) -> tuple[Counter[str], float]:
    """REQUESTS pre-signed card checks over CONNECTIONS connections at once: codes and seconds."""
    signer = ExchangeClient(base, seed.HOSPITAL, key)
    bodies = [
        orjson.dumps(signer.envelope("card.check/v1", "KCB", dict(CARD))) for _ in range(REQUESTS)
    ]
    signer.close()
    clients = [httpx.Client(base_url=base, timeout=30) for _ in range(CONNECTIONS)]
    for client in clients:  # connections open before the clock starts
        client.get("/health")

    def send(index: int) -> str:
        response = clients[index % CONNECTIONS].post("/x/card.check/v1", content=bodies[index])
        body: dict[str, Any] = response.json()["body"]
        return "ok" if response.status_code == 200 else str(body["error"]["code"])

    started = time.monotonic()
    with ThreadPoolExecutor(CONNECTIONS) as pool:
        codes = Counter(pool.map(send, range(REQUESTS)))
    elapsed = time.monotonic() - started
    for client in clients:
        client.close()
    return codes, elapsed


def test_two_workers_admit_one_partners_rate_not_twice_it(
    database_url: str, tmp_path: Path
) -> None:
    engine = make_engine(database_url)
    seed.insured_person(engine)
    key = SigningKey.generate()
    add_partner(engine, seed.HOSPITAL, "BV Bạch Mai", "hospital", key.public_b64, "t", RATE)
    add_grant(engine, seed.HOSPITAL, "card.check/v1", "KCB", "đ", "Luật BHYT Điều 28", "test")
    engine.dispose()
    results: dict[bool, tuple[Counter[str], float]] = {}
    for shared in (True, False):
        server, base = serve(database_url, tmp_path, shared)
        try:
            time.sleep(1.1)  # the bucket is full whatever the start-up's own requests took
            results[shared] = burst(base, key)
        finally:
            server.terminate()
            server.wait(timeout=30)

    codes, elapsed = results[True]
    assert set(codes) <= {"ok", "E_RATE_LIMITED"}, codes
    assert sum(codes.values()) == REQUESTS
    # one second's burst, plus what refilled while the 40 were being answered
    assert RATE <= codes["ok"] <= RATE + math.ceil(RATE * elapsed), (codes, elapsed)

    control, control_elapsed = results[False]
    assert set(control) <= {"ok", "E_RATE_LIMITED"}, control
    assert control["ok"] > RATE + math.ceil(RATE * control_elapsed), (control, control_elapsed)
