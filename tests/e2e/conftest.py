"""End-to-end tests: headless Chromium over the real app on a loopback port, and `nidb demo` in
its own process.

- ``browser`` (one per session) and ``page`` (a fresh context per test, 375 px wide by default,
  a screenshot kept in ``test-artifacts/screenshots/<test-id>.png`` after every test);
- ``snap`` for mid-journey screenshots; ``staff_sign_in`` / ``citizen_sign_in`` in the browser.

The app, the live server, staff accounts and the VNeID stand-in come from tests/conftest.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from tests import seed
from tests.conftest import (  # noqa: F401  (re-exported for the browser tests)
    CITIZEN_PASSWORD,
    STAFF_PASSWORD,
    WEB_KEY,
    LiveServer,
    Vneid,
    fresh_totp_code,
)

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
SCREENSHOT_TIMEOUT_MS = 60_000
"""A whole-page screenshot of a long page (Redoc's full API reference) took over 10 s, the pages'
default wait, with the other xdist worker busy beside it: a long deadline, not a failure."""
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(autouse=True)
def _cheaper_argon2(cheaper_argon2: None) -> None:
    """Every browser test hashes staff passwords at test-sized cost."""


@pytest.fixture
def register(engine: Engine) -> Engine:
    """``seed.portal``, as the web tests' ``register``."""
    seed.portal(engine, WEB_KEY.public_b64)
    return engine


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
                timeout=SCREENSHOT_TIMEOUT_MS,
            )
        finally:
            context.close()


@pytest.fixture
def snap(request: pytest.FixtureRequest) -> Callable[[Any, str], None]:
    """Keep a mid-journey screenshot: ``snap(page, "the-bhyt")`` →
    ``test-artifacts/screenshots/<test-id>-the-bhyt.png``."""

    def take(page: Any, step: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        name = f"{_artifact_name(request.node.nodeid)}-{step}.png"
        page.screenshot(path=str(SCREENSHOTS / name), full_page=True, timeout=SCREENSHOT_TIMEOUT_MS)

    return take


def open_menu(page: Any) -> None:
    """On a phone the navigation (and the sign-out button) is folded behind the "Danh mục"
    button: press it, as a person would; nothing to do on a wide screen."""
    toggle = page.locator(".menu-toggle")
    if toggle.is_visible() and toggle.get_attribute("aria-expanded") != "true":
        toggle.click()


def nav_link(page: Any, name: str, *, exact: bool = False) -> Any:
    """A link of the main navigation, the menu opened first when it is folded."""
    open_menu(page)
    return page.locator("#dieu-huong").get_by_role("link", name=name, exact=exact)


def staff_sign_in(
    page: Any,
    base_url: str,
    username: str,
    password: str = STAFF_PASSWORD,
    *,
    engine: Engine | None = None,
) -> None:
    """Sign in through the form in the browser, with the keyboard only; an account with a
    second factor then gets a fresh code typed on the code page (the harness plays the phone,
    reading the secret through ``engine``)."""
    page.goto(f"{base_url}/can-bo/dang-nhap")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(password)
    page.get_by_label("Mật khẩu").press("Enter")
    page.wait_for_load_state()
    if "/can-bo/ma-xac-thuc" in page.url:
        assert engine is not None, f"{username} has a second factor: pass engine="
        page.get_by_label("Mã xác thực").fill(fresh_totp_code(engine, username))
        page.get_by_label("Mã xác thực").press("Enter")
        page.wait_for_load_state()


def citizen_sign_in(
    page: Any, base_url: str, personal_id: str | None = None, password: str = CITIZEN_PASSWORD
) -> None:
    """Sign in through VNeID in the browser, keyboard-friendly (labels, Enter)."""
    page.goto(f"{base_url}/cong-dan/dang-nhap")
    page.get_by_role("link", name="Đăng nhập bằng tài khoản định danh điện tử VNeID").click()
    page.get_by_label("Số định danh cá nhân").fill(personal_id or seed.PID)
    page.get_by_label("Mật khẩu hoặc mã OTP").fill(password)
    page.get_by_label("Mật khẩu hoặc mã OTP").press("Enter")
    page.wait_for_load_state()
