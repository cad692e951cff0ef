"""Staff two-factor sign-in over HTTP (TestClient), on SQLite and PostgreSQL: enrolment, the code
after the password, replay, recovery codes, lockout, the admin gate and ``reset-2fa``."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from nidb.store.models import AuditEntry
from nidb.store.models_web import StaffRecoveryCode, StaffUser, WebSession
from nidb.web import staff_totp
from nidb.web.staff_totp import STEP_SECONDS, SecondFactorError
from tests.web.conftest import (
    csrf_of,
    enrol_second_factor,
    fresh_totp_code,
    staff_code_http,
    staff_sign_in_http,
)

ENROL = "/can-bo/xac-thuc-hai-buoc"
CODE = "/can-bo/ma-xac-thuc"


def _audit(engine: Engine, action: str) -> list[AuditEntry]:
    with engine.connect() as conn:
        query = select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        return list(conn.execute(query).all())  # type: ignore[arg-type]


def _user(engine: Engine, username: str) -> Any:
    with engine.connect() as conn:
        return conn.execute(select(StaffUser).where(StaffUser.username == username)).one()


def _password_step(client: TestClient, username: str, next: str = "/can-bo/") -> Any:
    """The password form only (``staff_sign_in_http`` would go on to type the code)."""
    form = client.get("/can-bo/dang-nhap")
    return client.post(
        "/can-bo/dang-nhap",
        data={
            "username": username,
            "password": "Mat-khau-2026!",
            "next": next,
            "csrf_token": csrf_of(form.text),
        },
    )


def _sign_out(client: TestClient) -> None:
    page = client.get(CODE) if client.cookies.get("nidb_session") else None
    token = csrf_of(page.text) if page is not None and page.status_code == 200 else None
    if token is None:
        token = csrf_of(client.get("/can-bo/").text)
    client.post("/can-bo/dang-xuat", data={"csrf_token": token})
    client.cookies.clear()


def _submit_code(client: TestClient, code: str, next: str = "/can-bo/") -> Any:
    page = client.get(f"{CODE}?next={next}")
    return client.post(CODE, data={"code": code, "next": next, "csrf_token": csrf_of(page.text)})


# --- enrolment ----------------------------------------------------------------------------------


def test_an_admin_without_a_second_factor_reaches_no_console_page_until_enrolled(
    client: TestClient, engine: Engine, make_staff_user: Callable[..., str]
) -> None:
    make_staff_user("quan.tri", "admin", scope_level="central", province_code=None,
                    second_factor=False)  # fmt: skip
    signed = _password_step(client, "quan.tri", next="/can-bo/doi-soat/")
    assert signed.status_code == 303
    assert signed.headers["location"] == f"{ENROL}?next=/can-bo/doi-soat/"
    for path in ("/can-bo/", "/can-bo/doi-soat/", "/can-bo/bang-dieu-khien/", "/can-bo/kiem-toan/"):
        refused = client.get(path)
        assert refused.status_code == 303, path
        assert refused.headers["location"].startswith(f"{ENROL}?next="), path
    assert [e.action for e in _audit(engine, "staff.sign_in_password")] == [
        "staff.sign_in_password"
    ]
    assert _audit(engine, "staff.sign_in") == []

    page = client.get(f"{ENROL}?next=/can-bo/doi-soat/")
    assert page.status_code == 200
    assert "Vai trò của bạn bắt buộc xác thực hai bước" in page.text
    assert "<svg" in page.text and 'aria-label="Mã QR' in page.text
    grouped = re.search(r'id="khoa-bi-mat">([A-Z2-7 ]+)<', page.text)
    assert grouped and re.fullmatch(r"([A-Z2-7]{4} ){7}[A-Z2-7]{4}", grouped.group(1))
    secret = grouped.group(1).replace(" ", "")
    # the secret is stored encrypted, never in clear
    stored = _user(engine, "quan.tri").totp_secret
    assert stored.startswith("v1:") and secret not in stored
    # reloading shows the same secret (a phone that scanned it stays right)
    assert secret in client.get(ENROL).text.replace(" ", "")

    wrong = client.post(
        ENROL,
        data={"code": "000000", "next": "/can-bo/doi-soat/", "csrf_token": csrf_of(page.text)},
    )
    assert wrong.status_code == 400 and "Mã không đúng" in wrong.text
    assert client.get("/can-bo/").status_code == 303  # still gated

    right = client.post(
        ENROL,
        data={"code": pyotp.TOTP(secret).now(), "next": "/can-bo/doi-soat/",
              "csrf_token": csrf_of(page.text)},
    )  # fmt: skip
    assert right.status_code == 200 and "Đã bật xác thực hai bước" in right.text
    codes = re.findall(r"<code>([A-Z2-9]{5}-[A-Z2-9]{5})</code>", right.text)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert 'href="/can-bo/doi-soat/"' in right.text
    assert client.get("/can-bo/doi-soat/").status_code == 200  # the new session passed
    with engine.connect() as conn:
        hashes = conn.execute(select(StaffRecoveryCode.code_hash)).scalars().all()
    assert len(hashes) == 10 and all(h.startswith("$argon2id$") for h in hashes)
    assert not any(code.replace("-", "") in h for code in codes for h in hashes)
    assert [e.actor for e in _audit(engine, "staff_user.enrol_2fa")] == ["staff:quan.tri"]
    # never shown again: the enrolment page now only says it is on
    again = client.get(ENROL)
    assert again.status_code == 200 and "đang bật" in again.text
    assert secret not in again.text.replace(" ", "") and "<svg" not in again.text
    assert "10" in again.text  # recovery codes left


def test_other_roles_are_offered_the_second_factor_and_may_enrol(
    client: TestClient, engine: Engine, make_staff_user: Callable[..., str]
) -> None:
    make_staff_user()  # a reviewer
    assert staff_sign_in_http(client, "canbo.hn").headers["location"] == "/can-bo/"
    home = client.get("/can-bo/")
    assert home.status_code == 200 and "Bật xác thực hai bước" in home.text
    offer = client.get(ENROL)
    assert offer.status_code == 200 and "bắt buộc" not in offer.text and "Để sau" in offer.text
    secret = re.search(r'id="khoa-bi-mat">([A-Z2-7 ]+)<', offer.text)
    assert secret
    enrolled = client.post(
        ENROL,
        data={"code": pyotp.TOTP(secret.group(1).replace(" ", "")).now(), "next": "/can-bo/",
              "csrf_token": csrf_of(offer.text)},
    )  # fmt: skip
    assert enrolled.status_code == 200 and "mã khôi phục" in enrolled.text
    assert "Đang bật" in client.get("/can-bo/").text
    _sign_out(client)
    # from now on the reviewer's sign-in asks for the code too
    assert _password_step(client, "canbo.hn").headers["location"] == f"{CODE}?next=/can-bo/"


def test_the_setting_requires_the_second_factor_of_every_role(
    client: TestClient, web_env: Any, make_staff_user: Callable[..., str]
) -> None:
    web_env.setenv("NIDB_STAFF_TOTP_REQUIRED_FOR_ALL", "true")
    make_staff_user("kiem.toan", "auditor", second_factor=False)
    assert _password_step(client, "kiem.toan").headers["location"] == f"{ENROL}?next=/can-bo/"
    assert client.get("/can-bo/").headers["location"].startswith(ENROL)


# --- the code after the password ----------------------------------------------------------------


def test_an_approver_signs_in_with_password_then_code_in_a_new_session(
    client: TestClient, engine: Engine, make_staff_user: Callable[..., str]
) -> None:
    make_staff_user("duyet.hn", "approver")  # enrolled by the harness
    signed = _password_step(client, "duyet.hn", next="/can-bo/ho-so/")
    assert signed.status_code == 303 and signed.headers["location"] == f"{CODE}?next=/can-bo/ho-so/"
    half = client.cookies["nidb_session"]
    assert client.get("/can-bo/ho-so/").headers["location"] == f"{CODE}?next=/can-bo/ho-so/"
    page = client.get(signed.headers["location"])
    assert page.status_code == 200 and "Mã xác thực" in page.text
    assert 'autocomplete="one-time-code"' in page.text and 'inputmode="numeric"' in page.text
    done = staff_code_http(client, signed.headers["location"], "duyet.hn")
    assert done.status_code == 303 and done.headers["location"] == "/can-bo/ho-so/"
    assert client.cookies["nidb_session"] != half  # a new session once past the second factor
    assert client.get("/can-bo/ho-so/").status_code == 200
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(WebSession)).scalar_one() == 1
    [entry] = _audit(engine, "staff.sign_in")
    assert entry.detail["second_factor"] == "totp" and entry.detail["outcome"] == "ok"
    assert _user(engine, "duyet.hn").last_sign_in_at is not None


def test_a_wrong_code_is_refused_in_vietnamese_and_the_session_stays_gated(
    client: TestClient, engine: Engine, make_staff_user: Callable[..., str]
) -> None:
    make_staff_user("duyet.hn", "approver")
    _password_step(client, "duyet.hn")
    right = fresh_totp_code(engine, "duyet.hn")
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    answer = _submit_code(client, wrong)
    assert answer.status_code == 401 and "Mã xác thực không đúng" in answer.text
    empty = _submit_code(client, "   ")
    assert empty.status_code == 400 and "Vui lòng nhập mã" in empty.text
    too_long = _submit_code(client, "1" * 41)
    assert too_long.status_code == 400
    assert client.get("/can-bo/").headers["location"].startswith(CODE)
    assert _user(engine, "duyet.hn").failed_attempts == 1  # only the real attempt counts
    [failed] = _audit(engine, "staff.sign_in_failed")
    assert failed.detail["outcome"] == "wrong_code" and wrong not in str(failed.detail)


def test_a_code_works_once_a_replay_in_its_window_is_refused(
    client: TestClient, engine: Engine, make_staff_user: Callable[..., str]
) -> None:
    make_staff_user("duyet.hn", "approver")
    code = fresh_totp_code(engine, "duyet.hn")
    _password_step(client, "duyet.hn")
    assert _submit_code(client, code).status_code == 303
    _sign_out(client)
    _password_step(client, "duyet.hn")
    replay = _submit_code(client, code)
    assert replay.status_code == 401 and "vừa được dùng" in replay.text
    assert client.get("/can-bo/").status_code == 303
    assert _audit(engine, "staff.sign_in_failed")[-1].detail["outcome"] == "replayed_code"
    # an earlier code than the one used is refused as well, a later one passes
    assert _submit_code(client, fresh_totp_code(engine, "duyet.hn")).status_code == 303


def test_codes_one_step_off_are_accepted_two_steps_off_refused(
    engine: Engine, make_staff_user: Callable[..., str]
) -> None:
    make_staff_user("duyet.hn", "approver")
    secret = staff_totp._decrypt(_user(engine, "duyet.hn").totp_secret, "duyet.hn")
    at = 1_800_000_015.0  # the middle of a step
    step = int(at // STEP_SECONDS)
    totp = pyotp.TOTP(secret)
    for offset, accepted in ((-2, False), (-1, True), (0, True), (1, True), (2, False)):
        found = staff_totp._matching_step(secret, totp.generate_otp(step + offset), at)
        assert (found == step + offset) is accepted, offset


def test_a_recovery_code_signs_in_once_instead_of_the_app(
    client: TestClient, engine: Engine, make_staff_user: Callable[..., str]
) -> None:
    make_staff_user("quan.tri", "admin", scope_level="central", province_code=None,
                    second_factor=False)  # fmt: skip
    codes = enrol_second_factor(engine, "quan.tri")
    _password_step(client, "quan.tri")
    used = _submit_code(client, codes[3].lower().replace("-", " "))  # typed loosely
    assert used.status_code == 303
    home = client.get("/can-bo/")
    assert home.status_code == 200 and "mã khôi phục" in home.text and "Còn 9 mã" in home.text
    assert _audit(engine, "staff.sign_in")[-1].detail["second_factor"] == "recovery_code"
    _sign_out(client)
    _password_step(client, "quan.tri")
    again = _submit_code(client, codes[3])
    assert again.status_code == 401 and client.get("/can-bo/").status_code == 303
    with engine.connect() as conn:
        unused = conn.execute(
            select(func.count()).where(StaffRecoveryCode.used_at.is_(None))
        ).scalar_one()
    assert unused == 9


# --- lockout ------------------------------------------------------------------------------------


def test_wrong_codes_lock_the_account_and_the_password_does_not_clear_them(
    client: TestClient, engine: Engine, make_staff_user: Callable[..., str]
) -> None:
    make_staff_user("duyet.hn", "approver")
    right = fresh_totp_code(engine, "duyet.hn")
    wrong = f"{(int(right) + 500_000) % 1_000_000:06d}"
    _password_step(client, "duyet.hn")
    for _ in range(3):
        assert _submit_code(client, wrong).status_code == 401
    # starting over with the right password does not reset the count
    _sign_out(client)
    assert _password_step(client, "duyet.hn").headers["location"].startswith(CODE)
    assert _submit_code(client, wrong).status_code == 401
    fifth = _submit_code(client, wrong)
    assert fifth.status_code == 401 and "tạm thời bị khóa" in fifth.text and "15 phút" in fifth.text
    assert "nidb_session" not in client.cookies  # the half session ended
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(WebSession)).scalar_one() == 0
    locked = _password_step(client, "duyet.hn")
    assert locked.status_code == 401 and "tạm thời bị khóa" in locked.text
    outcomes = [e.detail["outcome"] for e in _audit(engine, "staff.sign_in_failed")]
    assert outcomes == ["wrong_code"] * 4 + ["locked", "locked"]


# --- the operator's reset -----------------------------------------------------------------------


def test_reset_2fa_removes_the_factor_ends_sessions_and_is_audited(
    client: TestClient, engine: Engine, web_env: Any, make_staff_user: Callable[..., str]
) -> None:
    from nidb.cli import app

    make_staff_user("duyet.hn", "approver")
    assert staff_sign_in_http(client, "duyet.hn").status_code == 303
    assert client.get("/can-bo/").status_code == 200
    runner = CliRunner()
    listed = runner.invoke(app, ["staff-user", "list"])
    assert "đã bật" in listed.output
    reset = runner.invoke(app, ["staff-user", "reset-2fa", "duyet.hn"])
    assert reset.exit_code == 0, reset.output
    assert "duyet.hn" in reset.output
    assert client.get("/can-bo/").status_code == 303  # the session is gone
    user = _user(engine, "duyet.hn")
    assert (user.totp_secret, user.totp_enrolled_at, user.totp_last_step) == (None, None, None)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(StaffRecoveryCode)).scalar_one() == 0
    [entry] = _audit(engine, "staff_user.reset_2fa")
    assert entry.actor == "test:admin" and entry.subject_id == "duyet.hn"
    assert entry.detail["was_enrolled"] is True and entry.detail["sessions_ended"] == 1
    # an approver must enrol again at the next sign-in
    assert _password_step(client, "duyet.hn").headers["location"] == f"{ENROL}?next=/can-bo/"
    missing = runner.invoke(app, ["staff-user", "reset-2fa", "khong.co"])
    assert missing.exit_code == 2 and "khong.co" in missing.output


# --- the secret at rest -------------------------------------------------------------------------


def test_a_secret_does_not_open_for_another_account_or_another_key(
    engine: Engine, make_staff_user: Callable[..., str], tmp_path: Any, web_env: Any
) -> None:
    make_staff_user("duyet.hn", "approver")
    stored = _user(engine, "duyet.hn").totp_secret
    assert len(staff_totp._decrypt(stored, "duyet.hn")) == 32
    with pytest.raises(SecondFactorError):
        staff_totp._decrypt(stored, "duyet.hcm")  # moved to another row
    web_env.setenv("NIDB_STAFF_TOTP_KEY_FILE", str(tmp_path / "other.key"))
    with pytest.raises(SecondFactorError):
        staff_totp._decrypt(stored, "duyet.hn")
    assert (tmp_path / "other.key").stat().st_mode & 0o777 == 0o600


def test_the_code_form_needs_the_csrf_token(
    client: TestClient, engine: Engine, make_staff_user: Callable[..., str]
) -> None:
    make_staff_user("duyet.hn", "approver")
    _password_step(client, "duyet.hn")
    forged = client.post(CODE, data={"code": fresh_totp_code(engine, "duyet.hn"), "next": "/"})
    assert forged.status_code == 403
    assert _audit(engine, "staff.sign_in") == []


def test_codes_follow_rfc_6238_test_vectors() -> None:
    """RFC 6238, appendix B (SHA-1, secret "12345678901234567890"), read as 6 digits."""
    secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
    for at, code in ((59, "287082"), (1111111109, "081804"), (1234567890, "005924")):
        assert staff_totp._matching_step(secret, code, at) == at // STEP_SECONDS
    assert staff_totp._matching_step(secret, "287083", 59) is None


def test_two_requests_racing_with_one_code_get_in_once(
    engine: Engine, make_staff_user: Callable[..., str]
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from sqlalchemy.exc import OperationalError

    make_staff_user("duyet.hn", "approver")
    code = fresh_totp_code(engine, "duyet.hn")

    def attempt(_: int) -> str:
        try:
            return staff_totp.check_code(engine, "duyet.hn", code, "test").outcome.value
        except OperationalError:  # SQLite: the loser's snapshot is stale, nothing written
            return "busy"

    with ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(attempt, range(4)))
    assert outcomes.count("ok") == 1, outcomes
    assert set(outcomes) <= {"ok", "replayed_code", "busy"}, outcomes
    if engine.dialect.name == "postgresql":
        assert sorted(outcomes) == ["ok", "replayed_code", "replayed_code", "replayed_code"]


def test_staff_api_tokens_are_not_an_interactive_sign_in_and_need_no_code(
    client: TestClient, engine: Engine, make_staff_user: Callable[..., str]
) -> None:
    from nidb.exchange.tokens import create_token

    make_staff_user("quan.tri", "admin", scope_level="central", province_code=None,
                    second_factor=False)  # fmt: skip
    token = create_token(engine, "quan.tri", "admin", scope_level="central")
    _password_step(client, "quan.tri")
    assert client.get("/can-bo/doi-soat/").status_code == 303  # the console waits for enrolment
    api = client.get("/staff/v1/review/items", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 200, api.text
