"""Key rotation on both sides: a partner's keys (`nidb partner key add|retire`) and nidb's own
signing key (`nidb keys rotate`, the previous public key kept at /keys for a grace period)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from nidb.api.app import create_app
from nidb.cli import app as cli_app
from nidb.protocol.client import ExchangeClient, ReplyNotTrusted
from nidb.protocol.keys import SigningKey, VerifyKey, previous_dir
from nidb.store import models
from tests.conftest import HOSPITAL, Exchange
from tests.seed import BHXH

CARD = {"card_code": f"DN401{BHXH}", "full_name": "Nguyễn Văn An", "date_of_birth": "1985-03-17"}


def check_card(exchange: Exchange, key: SigningKey) -> str:
    reply = exchange.client(HOSPITAL, key).call("card.check/v1", "KCB", dict(CARD))
    return reply.error_code or "ok"


def audit_actions(engine: Engine) -> list[tuple[str, dict[str, object]]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(models.AuditEntry.action, models.AuditEntry.detail).order_by(
                models.AuditEntry.id
            )
        )
        return [(row.action, row.detail) for row in rows]


def test_partner_key_rotation(exchange: Exchange, cli: CliRunner) -> None:
    old, new = exchange.hospital_key, SigningKey.generate()
    assert check_card(exchange, new) == "E_BAD_SIGNATURE"  # not registered yet

    added = cli.invoke(cli_app, ["partner", "key", "add", HOSPITAL, "--public-key", new.public_b64])
    assert added.exit_code == 0, added.output
    assert new.kid in added.output
    exchange.http.app.state.exchange.directory.refresh()
    assert check_card(exchange, new) == "ok"
    assert check_card(exchange, old) == "ok"  # the overlap: both verify

    listed = cli.invoke(cli_app, ["partner", "list"], env={"COLUMNS": "250"})
    assert listed.exit_code == 0, listed.output
    assert old.kid in listed.output and new.kid in listed.output

    retired = cli.invoke(cli_app, ["partner", "key", "retire", HOSPITAL, old.kid])
    assert retired.exit_code == 0, retired.output
    exchange.http.app.state.exchange.directory.refresh()
    assert check_card(exchange, old) == "E_BAD_SIGNATURE"
    assert check_card(exchange, new) == "ok"
    listed = cli.invoke(cli_app, ["partner", "list"], env={"COLUMNS": "250"})
    assert new.kid in listed.output and old.kid not in listed.output

    # the last live key cannot go, and a retired key cannot come back
    last = cli.invoke(cli_app, ["partner", "key", "retire", HOSPITAL, new.kid])
    assert last.exit_code == 2
    assert "khóa cuối cùng" in last.output and "last live key" in last.output
    again = cli.invoke(cli_app, ["partner", "key", "add", HOSPITAL, "--public-key", old.public_b64])
    assert again.exit_code == 2 and "retired" in again.output
    exchange.http.app.state.exchange.directory.refresh()
    assert check_card(exchange, new) == "ok"

    actions = [(a, d.get("kid")) for a, d in audit_actions(exchange.engine)]
    assert ("partner.add_key", new.kid) in actions
    assert ("partner.retire_key", old.kid) in actions
    assert ("partner.retire_key", new.kid) not in actions


def test_retire_refuses_unknown_partner_and_key(exchange: Exchange, cli: CliRunner) -> None:
    unknown = cli.invoke(cli_app, ["partner", "key", "retire", "VN/GOV/BYT/BV-99999", "x"])
    assert unknown.exit_code == 2 and "no partner" in unknown.output
    other = cli.invoke(
        cli_app, ["partner", "key", "retire", "--", HOSPITAL, exchange.ministry_key.kid]
    )  # another partner's key ("--": a kid, base64url, may begin with "-")
    assert other.exit_code == 2 and "no live key" in other.output
    stolen = cli.invoke(
        cli_app,
        ["partner", "key", "add", HOSPITAL, "--public-key", exchange.ministry_key.public_b64],
    )
    assert stolen.exit_code == 2 and "another partner" in stolen.output


def test_nidb_key_rotation(
    exchange: Exchange, cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_file = tmp_path / "keys" / "nidb-signing.pem"
    monkeypatch.setenv("NIDB_SIGNING_KEY_FILE", str(key_file))
    shown = cli.invoke(cli_app, ["keys"])
    assert shown.exit_code == 0, shown.output
    old = SigningKey.from_pem(key_file.read_bytes())
    assert f"kid: {old.kid}" in shown.output and "previous" not in shown.output

    # a partner who fetched the old key from /keys before the rotation
    with TestClient(create_app(exchange.engine)) as before:
        partner = ExchangeClient("http://testserver", HOSPITAL, exchange.hospital_key, http=before)
        assert partner.call("card.check/v1", "KCB", dict(CARD)).error_code is None
        assert set(partner._server_keys) == {old.kid}
        old_reply = before.post(
            "/x/card.check/v1",
            content=json.dumps(partner.envelope("card.check/v1", "KCB", dict(CARD))),
            headers={"content-type": "application/json"},
        )

    rotated = cli.invoke(cli_app, ["keys", "rotate"])
    assert rotated.exit_code == 0, rotated.output
    new = SigningKey.from_pem(key_file.read_bytes())
    assert new.kid != old.kid and new.kid in rotated.output
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert [p.name for p in previous_dir(key_file).iterdir()] == [f"{old.kid}.json"]
    assert [p.name for p in key_file.parent.iterdir() if p.name.endswith(".tmp")] == []
    assert ("signing_key.rotate", {"previous_kid": old.kid, "kid": new.kid}) in audit_actions(
        exchange.engine
    )

    shown = cli.invoke(cli_app, ["keys"])
    assert f"kid: {new.kid}" in shown.output and f"previous: {old.kid}" in shown.output

    # the restarted server signs with the new key and publishes both
    with TestClient(create_app(exchange.engine)) as after:
        published = after.get("/keys").json()
        assert published["kid"] == new.kid
        assert [(k["kid"], k["use"]) for k in published["keys"]] == [
            (new.kid, "current"),
            (old.kid, "previous"),
        ]
        # the partner still holding only the old key refreshes on the new kid and verifies
        partner.http = after
        reply = partner.call("card.check/v1", "KCB", dict(CARD))
        assert reply.error_code is None
        assert set(partner._server_keys) == {old.kid, new.kid}
        # a reply signed before the rotation still verifies from what /keys publishes
        assert partner.check(old_reply.status_code, old_reply.json()).error_code is None
        # one pinned to the old key alone refuses the new signature
        pinned = ExchangeClient(
            "http://testserver",
            HOSPITAL,
            exchange.hospital_key,
            server_key=VerifyKey.from_b64(old.public_b64),
            http=after,
        )
        with pytest.raises(ReplyNotTrusted):
            pinned.call("card.check/v1", "KCB", dict(CARD))

    # after the grace period the old key is no longer published
    monkeypatch.setenv("NIDB_SIGNING_KEY_GRACE_DAYS", "1")
    from nidb.settings import get_settings

    get_settings.cache_clear()
    record = json.loads((previous_dir(key_file) / f"{old.kid}.json").read_text())
    record["retired_at"] = "2020-01-01T00:00:00+00:00"
    (previous_dir(key_file) / f"{old.kid}.json").write_text(json.dumps(record))
    shown = cli.invoke(cli_app, ["keys"])
    assert shown.exit_code == 0 and "previous" not in shown.output


def test_a_broken_previous_record_is_named(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_file = tmp_path / "keys" / "nidb-signing.pem"
    monkeypatch.setenv("NIDB_SIGNING_KEY_FILE", str(key_file))
    assert cli.invoke(cli_app, ["keys", "rotate"]).exit_code == 0
    (broken,) = previous_dir(key_file).iterdir()
    broken.write_text('{"kid": "x", "public_key": "AAAA", "retired_at": "now"}')
    shown = cli.invoke(cli_app, ["keys"])
    assert shown.exit_code != 0 and broken.name in shown.output
