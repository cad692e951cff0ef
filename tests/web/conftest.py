"""The web test harness: the real app on both engines, over HTTP and in headless Chromium.

- ``client``: FastAPI's TestClient over ``create_app(engine)`` (fast, no browser).
- ``live_server``: the same app under uvicorn on a free loopback port (``.url``, ``.engine``).
- ``browser`` (one per session) and ``page`` (a fresh context per test, 375 px wide by default,
  a screenshot kept in ``test-artifacts/screenshots/<test-id>.png`` after every test).
- ``make_staff_user`` / ``staff_sign_in`` / ``csrf_of``: helpers every web test uses.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from nidb.api.app import create_app
from nidb.protocol.keys import SigningKey
from nidb.sim.population.server import BackgroundServer
from nidb.web.staff_users import create_staff_user

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
STAFF_PASSWORD = "Mat-khau-2026!"
_KEY = SigningKey.generate()  # one signing key for every app the web tests build (fast)


@pytest.fixture(autouse=True)
def _cheaper_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real argon2id, with test-sized cost (the production parameters take ~0.1 s a hash on
    this machine and a lockout test needs a dozen)."""
    from argon2 import PasswordHasher

    from nidb.web import staff_users

    monkeypatch.setattr(staff_users, "_hasher", PasswordHasher(time_cost=1, memory_cost=8192))


def csrf_of(html: str) -> str:
    """The CSRF token of the first form in ``html``."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no csrf_token field on the page"
    return found.group(1)


@pytest.fixture
def web_app(engine: Engine) -> FastAPI:
    """The whole nidb app over the test engine."""
    return create_app(engine, _KEY)


@pytest.fixture
def client(web_app: FastAPI) -> Iterator[TestClient]:
    """A TestClient (runs the app's lifespan); redirects are not followed, so tests see them."""
    with TestClient(web_app, follow_redirects=False) as test_client:
        yield test_client


@dataclass
class LiveServer:
    """A running nidb app: its base URL and its engine."""

    url: str
    engine: Engine
    app: FastAPI


@pytest.fixture
def live_server(web_app: FastAPI, engine: Engine) -> Iterator[LiveServer]:
    """The real app under uvicorn on a free loopback port (SQLite and PostgreSQL)."""
    server = BackgroundServer(web_app, lifespan="on").start()
    try:
        yield LiveServer(server.url, engine, web_app)
    finally:
        server.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Debian Chromium for the whole session (Playwright never downloads one)."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is absent: install Debian's chromium package (CI does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def _artifact_name(nodeid: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid.split("::", 1)[-1]).strip("_")[:150]


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh browser context and page, phone-sized (375×812); screenshot kept at the end."""
    context = browser.new_context(viewport={"width": 375, "height": 812}, locale="vi-VN")
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        yield page
    finally:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        try:
            page.screenshot(
                path=str(SCREENSHOTS / f"{_artifact_name(request.node.nodeid)}.png"),
                full_page=True,
            )
        finally:
            context.close()


@pytest.fixture
def make_staff_user(engine: Engine) -> Callable[..., str]:
    """Create a staff account (password ``STAFF_PASSWORD`` unless given); returns the username."""

    def make(
        username: str = "canbo.hn",
        role: str = "reviewer",
        *,
        password: str = STAFF_PASSWORD,
        full_name: str = "Nguyễn Thị Cán Bộ",
        scope_level: str = "province",
        province_code: str | None = "01",
        district_code: str | None = None,
    ) -> str:
        create_staff_user(
            engine,
            username=username,
            full_name=full_name,
            password=password,
            role=role,
            scope_level=scope_level,
            province_code=province_code,
            district_code=district_code,
            actor="test",
        )
        return username

    return make


def staff_sign_in_http(
    client: TestClient, username: str, password: str = STAFF_PASSWORD, next: str = "/can-bo/"
) -> Any:
    """Sign in through the form with a TestClient; returns the POST's response."""
    form = client.get("/can-bo/dang-nhap")
    return client.post(
        "/can-bo/dang-nhap",
        data={
            "username": username,
            "password": password,
            "next": next,
            "csrf_token": csrf_of(form.text),
        },
    )


def staff_sign_in(page: Any, base_url: str, username: str, password: str = STAFF_PASSWORD) -> None:
    """Sign in through the form in the browser, with the keyboard only."""
    page.goto(f"{base_url}/can-bo/dang-nhap")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(password)
    page.get_by_label("Mật khẩu").press("Enter")
    page.wait_for_load_state()


@pytest.fixture
def web_env(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Point ``NIDB_*`` settings at the test register; ``web_env.setenv`` adds more (the
    settings cache is cleared before and after)."""
    from nidb.settings import get_settings

    monkeypatch.setenv("NIDB_DATABASE_URL", database_url)
    monkeypatch.setenv("NIDB_ACTOR", "test:admin")

    class Env:
        def setenv(self, name: str, value: str) -> None:
            monkeypatch.setenv(name, value)
            get_settings.cache_clear()

    get_settings.cache_clear()
    yield Env()
    get_settings.cache_clear()


# --- citizens: the VNeID stand-in and a small register -------------------------------------------

VNEID_CLIENT_SECRET = "bi-mat-cua-nidb-portal"
OTHER_PID = "079190001234"  # another citizen, whose data must never show on the first one's pages
OTHER_BHXH = "7912345678"
CITIZEN_PASSWORD = "123456"  # the stand-in's one-time code


@dataclass
class Vneid:
    """The running VNeID stand-in."""

    url: str
    server: BackgroundServer


@pytest.fixture
def vneid(web_env: Any) -> Iterator[Vneid]:
    """The VNeID stand-in on loopback, trusted by nidb (NIDB_VNEID_URL and client secret set);
    it knows the seeded citizen and another one, and accepts callbacks on loopback and on the
    TestClient's ``testserver``."""
    from nidb.sim.vneid.app import DEFAULT_REDIRECTS, RegisteredClient
    from nidb.sim.vneid.app import create_app as create_vneid
    from nidb.sim.vneid.people import ListPeople, VneidPerson
    from tests.exchange.conftest import PID

    people = ListPeople(
        [
            VneidPerson(PID, "Nguyễn Văn An", "1985-03-17", "M"),
            VneidPerson(OTHER_PID, "Trần Thị Bình", "1990-07-02", "F", password="Binh-2026"),
        ]
    )
    patterns = (*DEFAULT_REDIRECTS, r"^http://testserver/cong-dan/dang-nhap/vneid/callback$")
    app = create_vneid(people, [RegisteredClient("nidb-portal", VNEID_CLIENT_SECRET, patterns)])
    server = BackgroundServer(app).start()
    web_env.setenv("NIDB_VNEID_URL", server.url)
    web_env.setenv("NIDB_VNEID_CLIENT_SECRET", VNEID_CLIENT_SECRET)
    try:
        yield Vneid(server.url, server)
    finally:
        server.stop()


@pytest.fixture
def register(engine: Engine) -> Engine:
    """The exchange tests' register (one verified person, card, history) plus a benefit, a
    partner read of the person, and another person whose data must stay hidden."""
    from datetime import date

    from sqlalchemy import insert

    from nidb.accesslog import AccessRecord, append
    from nidb.exchange.partners import add_partner
    from nidb.store import models
    from tests.exchange.conftest import BHXH, seed_register

    seed_register(engine)
    add_partner(
        engine, "VN/GOV/BYT/BV-01001", "Bệnh viện Bạch Mai", "hospital", _KEY.public_b64, "t"
    )
    with engine.begin() as conn:
        conn.execute(
            insert(models.Benefit).values(
                bhxh_code=BHXH, kind="sickness", start_date=date(2025, 2, 3),
                end_date=date(2025, 2, 7), lump_sum=1_250_000, status="ended",
            )
        )  # fmt: skip
        conn.execute(
            insert(models.Person).values(
                record_id="R2", bhxh_code=OTHER_BHXH, full_name="Trần Thị Bình",
                name_base="tran thi binh", date_of_birth="1990-07-02", dob_precision="day",
                birth_year=1990, gender="F", declared_id=OTHER_PID,
                verification_status="verified", verified_personal_id=OTHER_PID,
            )
        )  # fmt: skip
        conn.execute(
            insert(models.Contribution).values(
                bhxh_code=OTHER_BHXH, employer_code="TA0001A", period=date(2025, 1, 1),
                wage=99_999_000, bhxh_amount=1, bhyt_amount=1, bhtn_amount=1,
            )
        )  # fmt: skip
        append(
            conn,
            [
                AccessRecord(
                    actor="VN/GOV/BYT/BV-01001", service="card.check/v1", result="ok",
                    purpose="KCB", subject=BHXH, fields="dd",
                ),
                AccessRecord(
                    actor="VN/GOV/BYT/BV-01001", service="person.summary/v1", result="ok",
                    purpose="GQCD", subject=OTHER_BHXH, fields="a",
                ),
            ],
        )  # fmt: skip
    return engine


def citizen_sign_in_http(
    client: TestClient, personal_id: str | None = None, password: str = CITIZEN_PASSWORD
) -> Any:
    """The whole VNeID round trip with a TestClient (nidb) and httpx (the stand-in); returns
    nidb's answer to the callback."""
    import httpx

    from tests.exchange.conftest import PID

    start = client.get("/cong-dan/dang-nhap/vneid")
    assert start.status_code == 303, start.text
    authorize = start.headers["location"]
    with httpx.Client() as http:
        page = http.get(authorize)
        assert page.status_code == 200, page.text
        hidden = dict(re.findall(r'type="hidden" name="([a-z_]+)" value="([^"]*)"', page.text))
        answer = http.post(
            authorize.split("?", 1)[0],
            data={
                **{k: _unescape(v) for k, v in hidden.items()},
                "personal_id": personal_id or PID,
                "password": password,
                "action": "login",
            },
        )
    assert answer.status_code == 303, answer.text
    back = answer.headers["location"]
    assert back.startswith("http://testserver/")
    return client.get(back.removeprefix("http://testserver"))


def _unescape(value: str) -> str:
    import html

    return html.unescape(value)


def citizen_sign_in(
    page: Any, base_url: str, personal_id: str | None = None, password: str = CITIZEN_PASSWORD
) -> None:
    """Sign in through VNeID in the browser, keyboard-friendly (labels, Enter)."""
    from tests.exchange.conftest import PID

    page.goto(f"{base_url}/cong-dan/dang-nhap")
    page.get_by_role("link", name="Đăng nhập bằng tài khoản định danh điện tử VNeID").click()
    page.get_by_label("Số định danh cá nhân").fill(personal_id or PID)
    page.get_by_label("Mật khẩu hoặc mã OTP").fill(password)
    page.get_by_label("Mật khẩu hoặc mã OTP").press("Enter")
    page.wait_for_load_state()


@pytest.fixture
def snap(request: pytest.FixtureRequest) -> Callable[[Any, str], None]:
    """Keep a mid-journey screenshot: ``snap(page, "the-bhyt")`` →
    ``test-artifacts/screenshots/<test-id>-the-bhyt.png``."""

    def take(page: Any, step: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        name = f"{_artifact_name(request.node.nodeid)}-{step}.png"
        page.screenshot(path=str(SCREENSHOTS / name), full_page=True)

    return take
