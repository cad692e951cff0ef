"""Staff accounts, sign-in, sessions and CSRF over HTTP (TestClient), on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi import Depends
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, update
from typer.testing import CliRunner

from nidb.store.models import AuditEntry
from nidb.store.models_web import StaffUser, WebSession
from nidb.web.routing import web_router
from nidb.web.sessions import StaffPrincipal, require_role, utcnow
from nidb.web.staff_users import (
    StaffUserError,
    create_staff_user,
    password_problems,
)
from tests.web.conftest import STAFF_PASSWORD, csrf_of, staff_sign_in_http


def _audit(engine: Engine, action: str) -> list[AuditEntry]:
    with engine.connect() as conn:
        return list(conn.execute(select(AuditEntry).where(AuditEntry.action == action)).all())  # type: ignore[arg-type]


# --- password policy ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "ok"),
    [
        ("Mat-khau-2026!", True),
        ("matkhau2026!x", True),  # lower, digit, symbol: 3 of 4
        ("Short1!", False),  # too short
        ("onlylowercaseletters", False),  # 1 class
        ("lowercase2026only", False),  # 2 classes
        ("X-canbo.hn-2026", False),  # contains the username
    ],
)
def test_password_policy_needs_12_chars_3_classes_and_not_the_username(
    password: str, ok: bool
) -> None:
    assert (password_problems("canbo.hn", password) == []) is ok


def test_a_weak_password_or_bad_scope_stores_no_account(engine: Engine) -> None:
    with pytest.raises(StaffUserError) as weak:
        create_staff_user(
            engine, username="canbo.a", full_name="A", password="short", role="reviewer",
            actor="test",
        )  # fmt: skip
    assert weak.value.field == "password" and "12 ký tự" in weak.value.message_vi
    with pytest.raises(StaffUserError) as scope:
        create_staff_user(
            engine, username="canbo.b", full_name="B", password=STAFF_PASSWORD, role="reviewer",
            scope_level="province", province_code="99", actor="test",
        )  # fmt: skip
    assert scope.value.field == "province"
    with pytest.raises(StaffUserError) as role:
        create_staff_user(
            engine, username="canbo.c", full_name="C", password=STAFF_PASSWORD, role="boss",
            actor="test",
        )  # fmt: skip
    assert role.value.field == "role"
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(StaffUser)).scalar_one() == 0


def test_the_password_is_stored_as_an_argon2id_hash(
    engine: Engine, make_staff_user: Callable[..., str]
) -> None:
    make_staff_user()
    with engine.connect() as conn:
        stored = conn.execute(select(StaffUser.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$") and STAFF_PASSWORD not in stored


# --- sign-in, session, sign-out -----------------------------------------------------------------


def test_staff_sign_in_opens_the_home_and_sign_out_ends_the_session(
    client: TestClient, engine: Engine, make_staff_user: Callable[..., str]
) -> None:
    make_staff_user()
    assert client.get("/can-bo/").headers["location"].startswith("/can-bo/dang-nhap?next=/can-bo/")
    signed = staff_sign_in_http(client, "canbo.hn")
    assert signed.status_code == 303 and signed.headers["location"] == "/can-bo/"
    cookie = signed.headers["set-cookie"]
    assert "nidb_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    home = client.get("/can-bo/")
    assert home.status_code == 200
    assert "Nguyễn Thị Cán Bộ" in home.text and "Cán bộ thẩm định" in home.text
    assert "Tỉnh/thành phố mã 01" in home.text
    # the table holds the SHA-256 of the cookie, never the cookie
    token = client.cookies["nidb_session"]
    with engine.connect() as conn:
        stored = conn.execute(select(WebSession.token_hash, WebSession.kind)).one()
    assert stored == (hashlib.sha256(token.encode()).hexdigest(), "staff")
    assert len(_audit(engine, "staff.sign_in")) == 1

    out = client.post("/can-bo/dang-xuat", data={"csrf_token": csrf_of(home.text)})
    assert out.status_code == 303 and "da_dang_xuat=1" in out.headers["location"]
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(WebSession)).scalar_one() == 0
    client.cookies.set("nidb_session", token)  # a replayed cookie is worth nothing now
    assert client.get("/can-bo/").status_code == 303


def test_wrong_password_five_times_locks_the_account_even_for_the_right_one(
    client: TestClient, engine: Engine, make_staff_user: Callable[..., str]
) -> None:
    make_staff_user()
    for attempt in range(4):
        wrong = staff_sign_in_http(client, "canbo.hn", "Sai-mat-khau-123")
        assert wrong.status_code == 401, attempt
        assert "Tên đăng nhập hoặc mật khẩu không đúng." in wrong.text
    fifth = staff_sign_in_http(client, "canbo.hn", "Sai-mat-khau-123")
    assert fifth.status_code == 401 and "tạm thời bị khóa" in fifth.text and "15 phút" in fifth.text
    right = staff_sign_in_http(client, "canbo.hn")
    assert right.status_code == 401 and "tạm thời bị khóa" in right.text
    assert "nidb_session" not in client.cookies
    failures = _audit(engine, "staff.sign_in_failed")
    assert [e.detail["outcome"] for e in failures] == ["wrong_credentials"] * 4 + ["locked"] * 2
    assert all("Sai-mat-khau" not in str(e.detail) for e in failures)
    # 15 minutes later the lock has passed
    with engine.begin() as conn:
        conn.execute(update(StaffUser).values(locked_until=utcnow() - timedelta(seconds=1)))
    assert staff_sign_in_http(client, "canbo.hn").status_code == 303


def test_unknown_user_and_empty_fields_get_vietnamese_messages(
    client: TestClient, engine: Engine
) -> None:
    unknown = staff_sign_in_http(client, "khong.ton.tai", "Bat-ky-2026!!")
    assert unknown.status_code == 401 and "không đúng" in unknown.text
    form = client.get("/can-bo/dang-nhap")
    empty = client.post(
        "/can-bo/dang-nhap",
        data={"username": "", "password": "", "csrf_token": csrf_of(form.text)},
    )
    assert empty.status_code == 400
    assert "Vui lòng nhập tên đăng nhập." in empty.text and 'aria-invalid="true"' in empty.text
    assert 'aria-describedby="username-loi"' in empty.text
    assert [e.actor for e in _audit(engine, "staff.sign_in_failed")] == ["anonymous"]


def test_script_in_the_username_is_shown_escaped(client: TestClient) -> None:
    answer = staff_sign_in_http(client, "<script>alert(1)</script>", "x")
    assert "<script>alert(1)</script>" not in answer.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in answer.text


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(
    client: TestClient, engine: Engine, make_staff_user: Callable[..., str]
) -> None:
    make_staff_user()
    client.get("/can-bo/dang-nhap")  # has the pre-session cookie, but sends no token
    refused = client.post(
        "/can-bo/dang-nhap", data={"username": "canbo.hn", "password": STAFF_PASSWORD}
    )
    assert refused.status_code == 403 and "Yêu cầu bị từ chối" in refused.text
    forged = client.post(
        "/can-bo/dang-nhap",
        data={"username": "canbo.hn", "password": STAFF_PASSWORD, "csrf_token": "forged"},
    )
    assert forged.status_code == 403
    assert _audit(engine, "staff.sign_in") == [] and _audit(engine, "staff.sign_in_failed") == []
    # signed in, the session's token is required: the pre-session one no longer counts
    assert staff_sign_in_http(client, "canbo.hn").status_code == 303
    stale = client.post("/can-bo/dang-xuat", data={"csrf_token": client.cookies["nidb_csrf"]})
    assert stale.status_code == 403
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(WebSession)).scalar_one() == 1


def test_an_idle_session_expires_and_the_sign_in_page_says_why(
    client: TestClient, engine: Engine, make_staff_user: Callable[..., str]
) -> None:
    make_staff_user()
    staff_sign_in_http(client, "canbo.hn")
    with engine.begin() as conn:
        conn.execute(update(WebSession).values(last_seen_at=utcnow() - timedelta(minutes=16)))
    gone = client.get("/can-bo/")
    assert gone.status_code == 303 and "het_han=1" in gone.headers["location"]
    page = client.get(gone.headers["location"])
    assert "Phiên làm việc đã hết hạn" in page.text
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(WebSession)).scalar_one() == 0


def test_an_active_session_still_ends_after_its_absolute_lifetime(
    client: TestClient, engine: Engine, make_staff_user: Callable[..., str]
) -> None:
    make_staff_user()
    staff_sign_in_http(client, "canbo.hn")
    assert client.get("/can-bo/").status_code == 200
    with engine.begin() as conn:
        conn.execute(update(WebSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert client.get("/can-bo/").status_code == 303


def test_a_disabled_account_loses_its_open_session(
    client: TestClient, engine: Engine, make_staff_user: Callable[..., str]
) -> None:
    make_staff_user()
    staff_sign_in_http(client, "canbo.hn")
    with engine.begin() as conn:
        conn.execute(update(StaffUser).values(active=False))
    assert client.get("/can-bo/").status_code == 303
    assert staff_sign_in_http(client, "canbo.hn").status_code == 401


def test_sign_in_returns_only_to_local_paths(
    client: TestClient, make_staff_user: Callable[..., str]
) -> None:
    make_staff_user()
    signed = staff_sign_in_http(client, "canbo.hn", next="//evil.example/x")
    assert signed.headers["location"] == "/can-bo/"


def test_html_answers_carry_strict_security_headers(client: TestClient) -> None:
    page = client.get("/can-bo/dang-nhap")
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert '<html lang="vi">' in page.text and 'href="#noi-dung"' in page.text
    assert "content-security-policy" not in client.get("/health").headers  # JSON untouched
    assert client.get("/static/nidb.css").status_code == 200


def test_role_guard_answers_403_in_vietnamese(
    web_app: object, engine: Engine, make_staff_user: Callable[..., str]
) -> None:
    router = web_router("/can-bo")

    @router.get("/chi-quan-tri")
    def admin_only(staff: StaffPrincipal = Depends(require_role("admin"))) -> str:  # noqa: B008
        return "ok"

    web_app.include_router(router)  # type: ignore[attr-defined]
    make_staff_user()
    with TestClient(web_app, follow_redirects=False) as client:  # type: ignore[arg-type]
        staff_sign_in_http(client, "canbo.hn")
        refused = client.get("/can-bo/chi-quan-tri")
    assert refused.status_code == 403 and "không có quyền" in refused.text


def test_oversized_bodies_are_refused_before_parsing(client: TestClient) -> None:
    form = client.get("/can-bo/dang-nhap")
    big = client.post(
        "/can-bo/dang-nhap",
        data={"username": "x" * (7 * 1024 * 1024), "csrf_token": csrf_of(form.text)},
    )
    assert big.status_code == 413 and "quá lớn" in big.text


# --- the commands -------------------------------------------------------------------------------


def test_staff_user_commands_add_list_disable_set_password(web_env: object, engine: Engine) -> None:
    from nidb.cli import app

    runner = CliRunner()
    env: dict[str, str] = {}
    added = runner.invoke(
        app,
        ["staff-user", "add", "tran.van.b", "--role", "approver", "--province", "79",
         "--full-name", "Trần Văn B", "--password-stdin"],
        input="Mat-khau-2026!\n", env=env,
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    weak = runner.invoke(
        app,
        ["staff-user", "add", "le.c", "--role", "reviewer", "--password-stdin"],
        input="weak\n", env=env,
    )  # fmt: skip
    assert weak.exit_code == 2 and "12 ký tự" in weak.output
    listed = runner.invoke(app, ["staff-user", "list"], env=env)
    assert "tran.van.b" in listed.output and "le.c" not in listed.output
    assert "province 79" in listed.output
    assert runner.invoke(app, ["staff-user", "disable", "tran.van.b"], env=env).exit_code == 0
    reset = runner.invoke(
        app, ["staff-user", "set-password", "tran.van.b"],
        env={**env, "NIDB_STAFF_PASSWORD": "Mat-khau-moi-2027#"},
    )  # fmt: skip
    assert reset.exit_code == 0, reset.output
    missing = runner.invoke(app, ["staff-user", "disable", "khong.co"], env=env)
    assert missing.exit_code == 2
    with engine.connect() as conn:
        user = conn.execute(select(StaffUser)).one()
    assert (user.username, user.role, user.province_code, user.active) == (
        "tran.van.b", "approver", "79", False,
    )  # fmt: skip
    assert [e.actor for e in _audit(engine, "staff_user.create")] == ["test:admin"]
    assert len(_audit(engine, "staff_user.set_password")) == 1
