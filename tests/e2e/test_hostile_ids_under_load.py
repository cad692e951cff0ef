"""Issue 16, defect 1 under load: a real `nidb serve` (two workers) keeps answering every normal
card check with a signed 200 while other clients send hostile message ids and senders."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import select

from nidb.exchange.partners import add_grant, add_partner
from nidb.protocol.client import ExchangeClient
from nidb.protocol.envelope import new_header, sign
from nidb.protocol.keys import SigningKey
from nidb.store import models
from nidb.store.db import make_engine
from tests import seed
from tests.api.test_live_server import free_port

SECONDS = 6.0
CARD = {
    "card_code": f"DN401{seed.BHXH}",
    "full_name": "Nguyễn Văn An",
    "date_of_birth": "1985-03-17",
}
ROGUE = "VN/GOV/BYT/BV-99999"


def _hostile_ids(message_id: str) -> list[str]:
    bare = message_id.replace("-", "")
    return [
        "-" * 100 + bare,
        "urn:uuid:" * 12 + message_id,
        message_id.upper(),
        bare,
        "{" + message_id + "}",
    ]


def _serve(database_url: str, folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    env = {
        **os.environ,
        "NIDB_DATABASE_URL": database_url,
        "NIDB_DATA_DIR": str(folder),
        "NIDB_ACTOR": "test",
    }
    port = free_port()
    # to a file: a pipe nobody reads fills with the request log's lines and stops the server
    with (folder / "serve.log").open("wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "nidb", "serve", "--port", str(port), "--workers", "2"],
            env=env,
            stderr=log,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/health").status_code == 200:
                return server, base
        except httpx.HTTPError:
            pass
        assert server.poll() is None and time.monotonic() < deadline, "nidb serve did not start"
        time.sleep(0.2)


def test_hostile_ids_cannot_fail_other_partners_card_checks(
    database_url: str, tmp_path: Path
) -> None:
    engine = make_engine(database_url)
    seed.insured_person(engine)
    hospital, rogue = SigningKey.generate(), SigningKey.generate()
    add_partner(
        engine,
        seed.HOSPITAL,
        "BV Bạch Mai",
        "hospital",
        hospital.public_b64,
        "test",
        rate_limit=100_000,
    )
    add_grant(engine, seed.HOSPITAL, "card.check/v1", "KCB", "đ", "Luật BHYT Điều 28", "test")
    add_partner(engine, ROGUE, "BV thử", "hospital", rogue.public_b64, "test", rate_limit=100_000)
    add_grant(engine, ROGUE, "card.check/v1", "KCB", "đ", "Luật BHYT Điều 28", "test")
    server, base = _serve(database_url, tmp_path)
    normal: Counter[int] = Counter()
    hostile: Counter[int] = Counter()
    sent: list[str] = []
    failures: list[str] = []
    stop = time.monotonic() + SECONDS
    lock = threading.Lock()

    def normal_client() -> None:
        client = ExchangeClient(base, seed.HOSPITAL, hospital)
        try:
            while time.monotonic() < stop:
                message = client.envelope("card.check/v1", "KCB", dict(CARD))
                reply = client.send("card.check/v1", message)  # the reply's signature is checked
                with lock:
                    normal[reply.status] += 1
                    sent.append(message["header"]["message_id"])
        except Exception as error:
            failures.append(repr(error))
        finally:
            client.close()

    def hostile_client(make: Callable[[int], bytes]) -> None:
        with httpx.Client(base_url=base, timeout=10) as http:
            n = 0
            while time.monotonic() < stop:
                response = http.post("/x/card.check/v1", content=make(n))
                with lock:
                    hostile[response.status_code] += 1
                n += 1

    def odd_id(n: int) -> bytes:
        header = new_header(ROGUE, "VN/GOV/BHXH/CSDLBH", "card.check/v1", "KCB", datetime.now(UTC))
        choices = _hostile_ids(str(uuid.uuid4()))
        header["message_id"] = choices[n % len(choices)]
        return httpx.Request("POST", "/", json=sign(header, dict(CARD), rogue)).content

    def long_sender(n: int) -> bytes:
        key = SigningKey.generate()
        sender = "VN/GOVXXXXXXX/" + "M" * 40 + "/" + "S" * 40
        header = new_header(sender, "VN/GOV/BHXH/CSDLBH", "card.check/v1", "KCB", datetime.now(UTC))
        return httpx.Request("POST", "/", json=sign(header, dict(CARD), key)).content

    threads = [threading.Thread(target=normal_client) for _ in range(4)]
    threads += [
        threading.Thread(target=hostile_client, args=(odd_id,)),
        threading.Thread(target=hostile_client, args=(long_sender,)),
    ]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert not failures, failures[:3]
    assert set(normal) == {200} and normal[200] > 20, normal
    assert sum(hostile.values()) > 20 and set(hostile) <= {400, 401}, hostile
    with engine.connect() as conn:
        logged = set(
            conn.execute(
                select(models.AccessLogEntry.message_id).where(
                    models.AccessLogEntry.message_id.is_not(None)
                )
            ).scalars()
        )
    assert set(sent) <= logged  # every answered request reached the access log
    engine.dispose()
