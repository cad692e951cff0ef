"""The employers' sign-in lockout (the staff rule: 5 wrong passwords lock for 15 minutes), its
audit, and `nidb employer unlock` (SQLite and PostgreSQL, over HTTP)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update
from typer.testing import CliRunner

from nidb.cli import app
from nidb.domain.credentials import MAX_FAILURES
from nidb.employers.accounts import enrol, set_password
from nidb.employers.passwords import hash_password
from nidb.protocol.keys import SigningKey
from nidb.store.models import AuditEntry
from nidb.store.models_employers import EmployerAccount
from tests.employers.support import EMPLOYER, OTHER_EMPLOYER, seed_employers
from tests.employers.test_pages import PASSWORD, csrf_of, enrolled_with_password, sign_in

pytestmark = pytest.mark.usefixtures("cheaper_argon2")
WRONG = "Sai-mat-khau-2026"
LOCKED_TEXT = "Tài khoản tạm thời bị khóa do nhập sai mật khẩu nhiều lần."


def _audit(engine: Engine, *actions: str) -> list[AuditEntry]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                select(AuditEntry).where(AuditEntry.action.in_(actions)).order_by(AuditEntry.id)
            ).all()  # type: ignore[arg-type]
        )


def _account(engine: Engine) -> EmployerAccount:
    with engine.connect() as conn:
        return conn.execute(  # type: ignore[return-value]
            select(EmployerAccount).where(EmployerAccount.employer_code == EMPLOYER)
        ).one()


def _lock_by_wrong_passwords(client: TestClient) -> None:
    for attempt in range(MAX_FAILURES - 1):
        wrong = sign_in(client, WRONG)
        assert wrong.status_code == 401, attempt  # type: ignore[attr-defined]
        assert "Mã đơn vị hoặc mật khẩu không đúng." in wrong.text  # type: ignore[attr-defined]
    last = sign_in(client, WRONG)
    assert last.status_code == 401  # type: ignore[attr-defined]
    assert LOCKED_TEXT in last.text and "15 phút" in last.text  # type: ignore[attr-defined]


def test_five_wrong_passwords_lock_the_account_even_for_the_right_one(
    engine: Engine, client: TestClient
) -> None:
    enrolled_with_password(engine)
    _lock_by_wrong_passwords(client)
    right = sign_in(client)
    assert right.status_code == 401  # type: ignore[attr-defined]
    assert LOCKED_TEXT in right.text  # type: ignore[attr-defined]
    assert "Vui lòng thử lại sau 15 phút." in right.text  # type: ignore[attr-defined]
    assert "nidb_session" not in client.cookies
    assert client.get("/don-vi/").status_code == 303
    failures = _audit(engine, "employer.sign_in_failed")
    assert [e.detail["outcome"] for e in failures] == ["wrong_credentials"] * 4 + ["locked"] * 2
    assert {e.actor for e in failures} == {f"employer-web:{EMPLOYER}"}
    assert {e.subject_id for e in failures} == {EMPLOYER}
    assert all(set(e.detail) == {"outcome", "client"} for e in failures)
    assert all(WRONG not in str(e.detail) and PASSWORD not in str(e.detail) for e in failures)
    assert _account(engine).locked_until is not None


def test_the_lock_ends_after_its_time_and_the_right_password_then_opens(
    engine: Engine, client: TestClient
) -> None:
    enrolled_with_password(engine)
    _lock_by_wrong_passwords(client)
    with engine.begin() as conn:  # 15 minutes later
        conn.execute(
            update(EmployerAccount).values(locked_until=datetime.now(UTC) - timedelta(seconds=1))
        )
    done = sign_in(client)
    assert done.status_code == 303  # type: ignore[attr-defined]
    assert done.headers["location"] == "/don-vi/"  # type: ignore[attr-defined]
    assert client.get("/don-vi/").status_code == 200
    account = _account(engine)
    assert account.failed_attempts == 0 and account.locked_until is None
    assert account.last_sign_in_at is not None
    assert [e.detail["outcome"] for e in _audit(engine, "employer.sign_in")] == ["ok"]


def test_a_right_password_restarts_the_count_of_wrong_ones(
    engine: Engine, client: TestClient
) -> None:
    enrolled_with_password(engine)
    for _ in range(MAX_FAILURES - 1):
        sign_in(client, WRONG)
    assert sign_in(client).status_code == 303  # type: ignore[attr-defined]
    client.cookies.clear()
    for _ in range(MAX_FAILURES - 1):
        assert LOCKED_TEXT not in sign_in(client, WRONG).text  # type: ignore[attr-defined]
    assert _account(engine).failed_attempts == MAX_FAILURES - 1


def test_the_unlock_command_clears_the_lock_and_is_audited(
    engine: Engine, client: TestClient, cli: CliRunner
) -> None:
    enrolled_with_password(engine)
    _lock_by_wrong_passwords(client)
    done = cli.invoke(app, ["employer", "unlock", EMPLOYER])
    assert done.exit_code == 0, done.output
    assert f"Đã mở khoá đăng nhập của đơn vị {EMPLOYER}." in done.output
    assert sign_in(client).status_code == 303  # type: ignore[attr-defined]
    [entry] = _audit(engine, "employer.unlocked")
    assert entry.actor == "test:cli" and entry.subject_id == EMPLOYER
    assert entry.detail == {"was_locked": True}
    again = cli.invoke(app, ["employer", "unlock", EMPLOYER])
    assert again.exit_code == 0 and "không bị khoá" in again.output
    unknown = cli.invoke(app, ["employer", "unlock", OTHER_EMPLOYER])
    assert unknown.exit_code == 2 and "chưa đăng ký giao dịch điện tử" in unknown.output


def test_a_new_password_set_by_staff_clears_the_lock(engine: Engine, client: TestClient) -> None:
    enrolled_with_password(engine)
    _lock_by_wrong_passwords(client)
    with engine.begin() as conn:
        set_password(conn, EMPLOYER, hash_password("Mat-khau-moi-2026"), "test:staff")
    assert sign_in(client, "Mat-khau-moi-2026").status_code == 303  # type: ignore[attr-defined]


def test_an_unknown_code_and_a_suspended_account_get_the_same_answer(
    engine: Engine, client: TestClient
) -> None:
    seed_employers(engine)
    with engine.begin() as conn:
        enrol(conn, OTHER_EMPLOYER, SigningKey.generate().public_b64, "test")  # no password
    form = client.get("/don-vi/dang-nhap")
    unknown = sign_in(client, WRONG)
    assert unknown.status_code == 401  # type: ignore[attr-defined]
    assert "Mã đơn vị hoặc mật khẩu không đúng." in unknown.text  # type: ignore[attr-defined]
    no_password = client.post(
        "/don-vi/dang-nhap",
        data={"employer_code": OTHER_EMPLOYER, "password": WRONG, "csrf_token": csrf_of(form.text)},
    )
    assert no_password.status_code == 401
    assert "Mã đơn vị hoặc mật khẩu không đúng." in no_password.text
    entries = _audit(engine, "employer.sign_in_failed")
    assert [(e.actor, e.detail["outcome"]) for e in entries] == [
        ("anonymous", "wrong_credentials"),
        (f"employer-web:{OTHER_EMPLOYER}", "disabled"),
    ]


def test_an_empty_form_asks_for_both_fields_in_vietnamese(client: TestClient) -> None:
    form = client.get("/don-vi/dang-nhap")
    empty = client.post(
        "/don-vi/dang-nhap",
        data={"employer_code": "", "password": "", "csrf_token": csrf_of(form.text)},
    )
    assert empty.status_code == 400
    assert "Vui lòng nhập mã đơn vị và mật khẩu." in empty.text


def test_a_wrong_current_password_on_the_change_page_counts_towards_the_lock(
    engine: Engine, client: TestClient
) -> None:
    enrolled_with_password(engine)
    assert sign_in(client).status_code == 303  # type: ignore[attr-defined]
    form = client.get("/don-vi/doi-mat-khau")
    data = {
        "csrf_token": csrf_of(form.text),
        "current_password": WRONG,
        "new_password": "Mat-khau-moi-2026",
        "new_password_again": "Mat-khau-moi-2026",
    }
    for _ in range(MAX_FAILURES - 1):
        wrong = client.post("/don-vi/doi-mat-khau", data=data)
        assert wrong.status_code == 400 and "Mật khẩu hiện tại không đúng." in wrong.text
    locked = client.post("/don-vi/doi-mat-khau", data=data)
    assert locked.status_code == 303 and locked.headers["location"] == "/don-vi/dang-nhap"
    assert client.get("/don-vi/").status_code == 303  # the session ended with the lock
    assert LOCKED_TEXT in sign_in(client).text  # type: ignore[attr-defined]
    outcomes = [e.detail["outcome"] for e in _audit(engine, "employer.password_change_failed")]
    assert outcomes == ["wrong_credentials"] * 4 + ["locked"]
