"""Issue 16: webhook receivers trust the set of keys nidb publishes, so nidb's key rotation
breaks no delivery; a key outside the set is refused with a coded error (real HTTP: nidb's
``/keys`` and the receiver each served by uvicorn)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from nidb.api.app import create_app as nidb_app
from nidb.exchange.partners import add_partner
from nidb.exchange.signing import rotate_signing_key
from nidb.outbox.admin import subscribe
from nidb.outbox.dispatcher import PURPOSE, Dispatcher
from nidb.protocol.envelope import NIDB_MEMBER, new_header, sign
from nidb.protocol.keys import KeyFile, SigningKey, previous_dir, rotate_key_file
from nidb.protocol.trusted import TrustedKeys, fetch_keys, keys_from_document
from nidb.settings import get_settings
from nidb.sim.population.server import BackgroundServer
from nidb.sim.webhook import SERVICE, UNKNOWN_KEY, Receiver, create_app
from tests.api.test_live_server import free_port
from tests.outbox.support import FAST, delivery_counts, emit

PATIENT = replace(FAST, timeout=30.0, connect_timeout=10.0)  # a loaded machine is no failure

MEMBER = "VN/GOV/BTC/THUE"


@pytest.fixture
def nidb_keys_url(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Path, str]]:
    """nidb's key file, and nidb's ``/keys`` served over HTTP from it."""
    key_file = tmp_path / "keys" / "nidb-signing.pem"
    monkeypatch.setenv("NIDB_SIGNING_KEY_FILE", str(key_file))
    with BackgroundServer(nidb_app(engine)) as nidb:
        yield key_file, f"{nidb.url}/keys"


def _receiver(engine: Engine, trusted: TrustedKeys) -> tuple[BackgroundServer, Receiver, int]:
    app = create_app(trusted, MEMBER)
    server = BackgroundServer(app).start()
    add_partner(engine, MEMBER, "Tổng cục Thuế", "other", SigningKey.generate().public_b64, "t")
    subscription = subscribe(engine, MEMBER, "*", "test", f"{server.url}/events")
    return server, app.state.receiver, subscription.id


def _post(url: str, key: SigningKey, n: int) -> httpx.Response:
    """An event notification signed by ``key``, as the dispatcher would send it."""
    header = new_header(NIDB_MEMBER, MEMBER, SERVICE, PURPOSE, datetime.now(UTC))
    body = {
        "event_id": 10_000 + n,
        "topic": "person.changed",
        "subject_key": f"person:x{n}",
        "occurred_at": datetime.now(UTC).isoformat(),
        "payload": {},
    }
    return httpx.post(
        f"{url}/events",
        content=json.dumps(sign(header, body, key)),
        headers={"content-type": "application/json", "idempotency-key": f"direct-{n}"},
        timeout=60,  # the machine running the tests may be loaded
    )


def test_deliveries_before_and_after_a_rotation_are_both_accepted(
    engine: Engine, nidb_keys_url: tuple[Path, str]
) -> None:
    key_file, keys_url = nidb_keys_url
    trusted = TrustedKeys(fetch_keys(keys_url, timeout=30), min_refresh=0.0)
    server, receiver, subscription = _receiver(engine, trusted)
    followed = KeyFile(key_file)  # what `nidb outbox dispatch` signs with
    dispatcher = Dispatcher(engine, followed, PATIENT, seed=1, key_check_interval=0.0)
    try:
        old = followed.current
        emit(engine, [("person.changed", "person:0001")])
        dispatcher.run(once=True)
        assert [e["kid"] for e in receiver.accepted] == [old.kid]

        new_kid = rotate_signing_key(engine, key_file, "test")[1]
        emit(engine, [("person.changed", "person:0001")])
        dispatcher.run(once=True)  # the dispatcher follows the file: signs with the new key
        assert [e["kid"] for e in receiver.accepted] == [old.kid, new_kid]
        assert trusted.kids == {old.kid, new_kid}  # fetched /keys again on the new kid
        assert delivery_counts(engine, subscription)["delivered"] == 2

        # a notification signed with the old key just before the switch still verifies
        assert _post(server.url, old, 1).status_code == 200

        # a key nidb does not publish is refused, with a coded, bilingual answer
        rogue = SigningKey.generate()
        refused = _post(server.url, rogue, 2)
        assert refused.status_code == 401
        answer = refused.json()
        assert answer["code"] == UNKNOWN_KEY and answer["kid"] == rogue.kid
        assert answer["message_vi"] and answer["message_en"]
        # and through the dispatcher: 401 is retried, never delivered
        emit(engine, [("person.changed", "person:0002")])
        Dispatcher(engine, rogue, PATIENT, seed=1).run(once=True)
        counts = delivery_counts(engine, subscription)
        assert counts["delivered"] == 2 and counts["pending"] == 1 and "dead" not in counts
        assert receiver.stats()["unknown_key"] >= 2
        assert [e["kid"] for e in receiver.accepted] == [old.kid, new_kid, old.kid]
    finally:
        server.stop()


def test_a_key_past_its_grace_period_is_no_longer_trusted(
    engine: Engine, nidb_keys_url: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    key_file, keys_url = nidb_keys_url
    trusted = TrustedKeys(fetch_keys(keys_url, timeout=30), min_refresh=0.0, max_age=0.0)
    server, _, _ = _receiver(engine, trusted)
    try:
        old = KeyFile(key_file).current
        rotate_signing_key(engine, key_file, "test")
        assert _post(server.url, old, 1).status_code == 200
        monkeypatch.setenv("NIDB_SIGNING_KEY_GRACE_DAYS", "1")
        get_settings.cache_clear()
        record_file = previous_dir(key_file) / f"{old.kid}.json"
        record = json.loads(record_file.read_text())
        record["retired_at"] = "2020-01-01T00:00:00+00:00"  # as if retired long ago
        written = record_file.with_suffix(".tmp")
        written.write_text(json.dumps(record))
        written.replace(record_file)  # a change of previous/ that servers see (not in place)
        gone = _post(server.url, old, 2)
        assert gone.status_code == 401 and gone.json()["code"] == UNKNOWN_KEY
    finally:
        server.stop()


def test_a_pinned_receiver_trusts_its_keys_only() -> None:
    one, two = SigningKey.generate(), SigningKey.generate()
    with BackgroundServer(create_app(TrustedKeys.pinned(one.public_b64), MEMBER)) as server:
        assert _post(server.url, one, 1).status_code == 200
        refused = _post(server.url, two, 2)
        assert refused.status_code == 401 and refused.json()["code"] == UNKNOWN_KEY


def test_a_keys_document_is_read_by_recomputed_kids() -> None:
    key = SigningKey.generate()
    forged = {"keys": [{"kid": "someone-else", "public_key": key.public_b64}, {"kid": "x"}]}
    assert list(keys_from_document(forged)) == [key.kid]
    with pytest.raises(ValueError):
        keys_from_document({"keys": [{"public_key": "not a key"}]})


def test_nidb_sim_webhook_follows_the_local_key_files_by_default(tmp_path: Path) -> None:
    """`nidb sim webhook` with neither --nidb-key nor --nidb-url trusts what `nidb keys`
    publishes, read again when a message names a new kid (a real process, real HTTP)."""
    key_file = tmp_path / "keys" / "nidb-signing.pem"
    first = SigningKey.generate()
    first.save(key_file)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "NIDB_SIGNING_KEY_FILE": str(key_file), "NIDB_DATA_DIR": str(tmp_path)}
    command = [sys.executable, "-m", "nidb", "sim", "webhook", "--port", str(port)]
    webhook = subprocess.Popen([*command, "--member", MEMBER], env=env, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert webhook.poll() is None and time.monotonic() < deadline, "did not start"
            time.sleep(0.1)
        assert _post(url, first, 1).status_code == 200
        second = SigningKey.generate()
        rotate_key_file(key_file, first.kid, second, datetime.now(UTC))
        # the stand-in reads the files again at most once a second: until then the new kid is
        # refused (401, which the dispatcher retries), from then on accepted
        deadline = time.monotonic() + 30
        n = 100
        while (answer := _post(url, second, n)).status_code != 200:
            assert answer.json()["code"] == UNKNOWN_KEY and time.monotonic() < deadline
            n += 1
            time.sleep(0.1)
        assert _post(url, first, 3).status_code == 200  # still published (grace period)
        rogue = _post(url, SigningKey.generate(), 4)
        assert rogue.status_code == 401 and rogue.json()["code"] == UNKNOWN_KEY
    finally:
        webhook.terminate()
        webhook.wait(timeout=30)
