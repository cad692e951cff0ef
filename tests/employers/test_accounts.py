"""Employer accounts and keys, and the gate of signed submissions (SQLite and PostgreSQL)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from nidb.cli import app
from nidb.employers.accounts import add_key, enrol, get_account, list_accounts, revoke_key
from nidb.employers.errors import EmployerError
from nidb.employers.gate import admit
from nidb.protocol.errors import RefusalCode, Refused
from nidb.protocol.keys import SigningKey
from nidb.store import models
from tests.employers.support import EMPLOYER, OTHER_EMPLOYER, enrolled, seed_employers, signed

BODY = {"declaration_no": "X-1", "kind": "increase", "workers": []}


@pytest.fixture
def employers(engine: Engine) -> Engine:
    seed_employers(engine)
    return engine


def _refusal(engine: Engine, raw: object) -> Refused:
    with engine.begin() as conn, pytest.raises(Refused) as caught:
        admit(conn, raw)
    return caught.value


def test_an_unknown_employer_cannot_enrol(employers: Engine) -> None:
    with employers.begin() as conn, pytest.raises(EmployerError) as caught:
        enrol(conn, "ZZ9999Z", SigningKey.generate().public_b64, "test")
    assert caught.value.rule == "EMPLOYER_UNKNOWN"
    assert "chưa có" in caught.value.message_vi


def test_enrolment_is_audited_and_announced_and_refused_twice(employers: Engine) -> None:
    key = enrolled(employers)
    with employers.begin() as conn:
        audit = (
            conn.execute(
                select(models.AuditEntry.action).where(models.AuditEntry.subject_id == EMPLOYER)
            )
            .scalars()
            .all()
        )
        events = (
            conn.execute(
                select(models.OutboxEvent.topic).where(models.OutboxEvent.subject_key == EMPLOYER)
            )
            .scalars()
            .all()
        )
        assert audit == ["employer.enrolled"] and events == ["employer.enrolled"]
        with pytest.raises(EmployerError) as caught:
            enrol(conn, EMPLOYER, key.public_b64, "test")
        assert caught.value.rule == "EMPLOYER_ENROLLED"


def test_a_bad_public_key_is_refused_naming_the_field(employers: Engine) -> None:
    with employers.begin() as conn, pytest.raises(EmployerError) as caught:
        enrol(conn, EMPLOYER, "not-a-key", "test")
    assert (caught.value.field, caught.value.rule) == ("public_key", "PUBLIC_KEY_FORMAT")


def test_keys_keep_their_history(employers: Engine) -> None:
    first = enrolled(employers)
    second = SigningKey.generate()
    with employers.begin() as conn:
        add_key(conn, EMPLOYER, second.public_b64, "test")
        revoke_key(conn, EMPLOYER, first.kid, "test", "lost token")
        with pytest.raises(EmployerError):
            revoke_key(conn, EMPLOYER, first.kid, "test", "twice")
        with pytest.raises(EmployerError) as reused:
            add_key(conn, EMPLOYER, first.public_b64, "test")
        assert reused.value.rule == "PUBLIC_KEY_REUSED"
        account = get_account(conn, EMPLOYER)
        assert account is not None
        assert set(account.active_keys) == {second.kid}
        revoked = next(k for k in account.keys if k["kid"] == first.kid)
        assert revoked["revoke_reason"] == "lost token" and revoked["revoked_by"] == "test"
        assert list_accounts(conn)[0]["active_keys"] == 1


def test_a_signed_submission_is_admitted_once(employers: Engine) -> None:
    key = enrolled(employers)
    envelope = signed(key, BODY)
    with employers.begin() as conn:
        admission = admit(conn, envelope)
    assert admission.employer_code == EMPLOYER and admission.kid == key.kid
    assert _refusal(employers, envelope).code is RefusalCode.REPLAY


def test_unsigned_tampered_and_wrong_key_submissions_are_refused(employers: Engine) -> None:
    key = enrolled(employers)
    unsigned = signed(key, BODY)
    unsigned["signature"] = ""
    assert _refusal(employers, unsigned).code is RefusalCode.UNSIGNED
    tampered = signed(key, BODY)
    tampered["body"] = {**BODY, "declaration_no": "X-2"}
    assert _refusal(employers, tampered).code is RefusalCode.BAD_SIGNATURE
    stranger = signed(SigningKey.generate(), BODY)
    refused = _refusal(employers, stranger)
    assert refused.code is RefusalCode.BAD_SIGNATURE
    assert refused.message_vi.startswith("Chữ ký số") and refused.status == 401


def test_another_employers_key_does_not_sign_for_this_one(employers: Engine) -> None:
    enrolled(employers)
    other_key = enrolled(employers, OTHER_EMPLOYER)
    assert _refusal(employers, signed(other_key, BODY, EMPLOYER)).code is RefusalCode.BAD_SIGNATURE


def test_a_revoked_key_and_an_unenrolled_employer_are_refused(employers: Engine) -> None:
    key = enrolled(employers)
    with employers.begin() as conn:
        revoke_key(conn, EMPLOYER, key.kid, "test", "left the company")
    refused = _refusal(employers, signed(key, BODY))
    assert refused.code is RefusalCode.BAD_SIGNATURE and refused.detail == "the key was revoked"
    other = SigningKey.generate()
    assert _refusal(employers, signed(other, BODY, OTHER_EMPLOYER)).code is (
        RefusalCode.UNKNOWN_SENDER
    )


def test_stale_and_future_submissions_are_refused(employers: Engine) -> None:
    key = enrolled(employers)
    now = datetime.now(UTC)
    stale = signed(key, BODY, issued=now - timedelta(minutes=10))
    future = signed(key, BODY, issued=now + timedelta(minutes=10))
    assert _refusal(employers, stale).code is RefusalCode.STALE
    assert _refusal(employers, future).code is RefusalCode.FUTURE


def test_a_refused_message_is_not_burnt_and_a_malformed_one_is_named(employers: Engine) -> None:
    key = enrolled(employers)
    assert _refusal(employers, {"header": {}, "body": {}}).code is RefusalCode.MALFORMED
    wrong_service = signed(key, BODY, service="card.check/v1")
    assert _refusal(employers, wrong_service).code is RefusalCode.WRONG_SERVICE
    with employers.connect() as conn:
        assert conn.execute(select(func.count()).select_from(models.AuditEntry)).scalar() == 1
    envelope = signed(key, BODY)
    envelope["header"] = {**envelope["header"], "message_id": str(uuid.uuid4())}
    assert _refusal(employers, envelope).code is RefusalCode.BAD_SIGNATURE


def test_commands_enrol_list_show_and_revoke(employers: Engine, cli: CliRunner) -> None:
    runner = cli
    key = SigningKey.generate()
    done = runner.invoke(app, ["employer", "enrol", EMPLOYER, "--public-key", key.public_b64])
    assert done.exit_code == 0, done.output
    assert key.kid in done.output
    listed = runner.invoke(app, ["employer", "list"])
    assert EMPLOYER in listed.output
    revoked = runner.invoke(
        app, ["employer", "revoke-key", EMPLOYER, key.kid, "--reason", "mất thiết bị ký"]
    )
    assert revoked.exit_code == 0, revoked.output
    shown = runner.invoke(app, ["employer", "show", EMPLOYER])
    assert "mất thiết bị ký" in shown.output
    unknown = runner.invoke(app, ["employer", "enrol", "ZZ9", "--public-key", key.public_b64])
    assert unknown.exit_code == 2 and "ZZ9" in unknown.output
