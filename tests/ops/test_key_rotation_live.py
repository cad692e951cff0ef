"""Issue 16: `nidb keys rotate` reaches a running `nidb serve --workers N` without a restart.

Every worker looks at the key file once a second (`nidb.protocol.keys.KeyFile`); replies are
signed with the old key, then with the new one, and none fails during the switch because
``/keys`` publishes whatever a worker may still sign with (the new key, and the old one for
the grace period)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from nidb.api.app import create_app
from nidb.exchange.partners import add_grant, add_partner
from nidb.exchange.signing import rotate_signing_key
from nidb.protocol.client import ExchangeClient
from nidb.protocol.envelope import parse_envelope, signature_kid, verify_signature
from nidb.protocol.keys import KeyFile, SigningKey, VerifyKey, rotate_key_file
from tests import seed
from tests.ops.serving import children, nidb_serve, serve_env

CARD = {
    "card_code": f"DN401{seed.BHXH}",
    "full_name": "Nguyễn Văn An",
    "date_of_birth": "1985-03-17",
}


@dataclass
class Answer:
    sent_at: float
    status: int
    kid: str | None
    envelope: dict[str, Any] | None
    problem: str | None  # anything but a verified, granted reply


def _hospital(engine: Engine) -> SigningKey:
    seed.insured_person(engine)
    hospital = SigningKey.generate()
    add_partner(engine, seed.HOSPITAL, "Bệnh viện Bạch Mai", "hospital", hospital.public_b64, "t")
    add_grant(engine, seed.HOSPITAL, "card.check/v1", "KCB", "dd", "Luật BHYT Điều 28", "t")
    return hospital


def _ask(base: str, client: ExchangeClient) -> Answer:
    """One card check on a new connection (so that the kernel spreads them over the workers),
    verified as a partner verifies it: by the key /keys publishes under the reply's kid."""
    sent_at = time.monotonic()
    envelope = client.envelope("card.check/v1", "KCB", dict(CARD))
    try:
        response = httpx.post(
            f"{base}/x/card.check/v1",
            content=json.dumps(envelope),
            headers={"content-type": "application/json", "connection": "close"},
            timeout=30,
        )
        raw = response.json()
        reply = client.check(response.status_code, raw)
    except Exception as error:  # every failure is the test's finding
        return Answer(sent_at, -1, None, None, f"{type(error).__name__}: {error}")
    problem = None if response.status_code == 200 and reply.error_code is None else "refused"
    return Answer(sent_at, response.status_code, signature_kid(raw["signature"]), raw, problem)


def _verifies(raw: dict[str, Any], key: SigningKey) -> bool:
    try:
        verify_signature(parse_envelope(raw), VerifyKey.from_b64(key.public_b64))
    except Exception:
        return False
    return True


@pytest.mark.slow
def test_running_workers_sign_with_the_new_key_after_a_rotation_without_a_restart(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    hospital = _hospital(engine)
    key_file = tmp_path / "keys" / "nidb-signing.pem"
    env = serve_env(database_url, tmp_path, NIDB_SIGNING_KEY_FILE=str(key_file))
    with nidb_serve(env, 2, tmp_path / "serve.log") as served:
        workers = children(served.process.pid)
        old = SigningKey.from_pem(key_file.read_bytes())
        client = ExchangeClient(served.base, seed.HOSPITAL, hospital)  # not pinned: reads /keys
        answers: list[Answer] = []
        stop = threading.Event()

        def partner() -> None:
            while not stop.is_set():
                answers.append(_ask(served.base, client))

        sender = threading.Thread(target=partner, name="partner", daemon=True)
        sender.start()
        try:
            deadline = time.monotonic() + 60
            while len(answers) < 20:
                assert time.monotonic() < deadline and sender.is_alive()
                time.sleep(0.05)
            rotated = subprocess.run(
                [sys.executable, "-m", "nidb", "keys", "rotate"],
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
            )
            rotated_at = time.monotonic()
            assert rotated.returncode == 0, rotated.stderr
            new = SigningKey.from_pem(key_file.read_bytes())
            assert new.kid != old.kid and new.kid in rotated.stdout
            # forty replies in a row on new connections with the new key: both workers switched
            # (all forty from one worker of two has odds 2 ** -39)
            deadline = time.monotonic() + 60
            while not (len(answers) > 40 and {a.kid for a in answers[-40:]} == {new.kid}):
                assert time.monotonic() < deadline, "the workers did not switch to the new key"
                assert sender.is_alive()
                time.sleep(0.05)
        finally:
            stop.set()
            sender.join(timeout=60)
        assert children(served.process.pid) == workers, "no worker was restarted"
        readiness = [httpx.get(f"{served.base}/readyz", headers={"connection": "close"}).json()]
        readiness += [
            httpx.get(f"{served.base}/readyz", headers={"connection": "close"}).json()
            for _ in range(9)
        ]
        published = httpx.get(f"{served.base}/keys").json()

    failed = [a for a in answers if a.problem]
    assert failed == [], failed[:3]
    kids = [a.kid for a in answers]
    assert kids[:20] == [old.kid] * 20
    assert set(kids) == {old.kid, new.kid}
    for answer in answers:
        assert answer.envelope is not None
        assert _verifies(answer.envelope, old if answer.kid == old.kid else new)
        assert not _verifies(answer.envelope, new if answer.kid == old.kid else old)
    # the switch is bounded: no reply sent 5 s after the rotation is signed with the old key
    # (each worker looks once a second; 5 s leaves room for a loaded machine)
    late_old = [
        a.sent_at - rotated_at for a in answers if a.kid == old.kid and a.sent_at > rotated_at
    ]
    assert max(late_old, default=0.0) < 5.0, late_old
    assert {r["signing_kid"] for r in readiness} == {new.kid}
    assert all(r["status"] == "ready" and r["signing_key_file"] == "ok" for r in readiness)
    assert [(k["kid"], k["use"]) for k in published["keys"]] == [
        (new.kid, "current"),
        (old.kid, "previous"),
    ]


def test_a_key_file_that_cannot_be_read_leaves_the_loaded_key_signing(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_file = tmp_path / "keys" / "nidb-signing.pem"
    monkeypatch.setenv("NIDB_SIGNING_KEY_FILE", str(key_file))
    with TestClient(create_app(engine)) as http:
        loaded = SigningKey.from_pem(key_file.read_bytes())
        key_file.write_bytes(b"-----BEGIN PRIVATE KEY-----\nnot a key\n")
        ready = http.get("/readyz").json()
        assert ready["status"] == "ready" and ready["signing_kid"] == loaded.kid
        assert ready["signing_key_file"].startswith("ValueError")
        assert http.get("/keys").json()["kid"] == loaded.kid
        assert http.app.state.exchange.key.kid == loaded.kid
        # put right, it is read again
        new = SigningKey.generate()
        key_file.unlink()
        new.save(key_file)
        ready = http.get("/readyz").json()
        assert ready["signing_kid"] == new.kid and ready["signing_key_file"] == "ok"
        assert http.app.state.exchange.key.kid == new.kid


def test_a_key_file_is_read_again_only_when_it_changed(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "keys" / "nidb-signing.pem"
    followed = KeyFile(path)
    first = followed.current
    assert not followed.refresh() and followed.retired == ()
    rotate_signing_key(engine, path, "test")
    assert followed.refresh()
    assert followed.current.kid != first.kid
    assert [old.kid for old in followed.retired] == [first.kid]
    assert not followed.refresh()
    second = followed.current
    rotate_key_file(path, second.kid, SigningKey.generate(), followed.retired[0].retired_at)
    assert followed.refresh()
    assert {old.kid for old in followed.retired} == {first.kid, second.kid}
