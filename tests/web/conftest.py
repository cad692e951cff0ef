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
from nidb.exchange.keys import SigningKey
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
