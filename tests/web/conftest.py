"""The web tests over HTTP (no browser: those are in tests/e2e).

The harness they share with e2e/ (``web_app``, ``client``, ``live_server``, ``make_staff_user``,
``web_env``, ``vneid``) is in tests/conftest.py; here are the form helpers and the citizen's
register.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests import seed
from tests.conftest import (  # noqa: F401  (re-exported for the web tests)
    CITIZEN_PASSWORD,
    STAFF_PASSWORD,
    VNEID_CLIENT_SECRET,
    WEB_KEY,
    LiveServer,
    Vneid,
    enrol_second_factor,
    fresh_totp_code,
    totp_code,
)
from tests.seed import OTHER_BHXH, OTHER_PID  # noqa: F401


@pytest.fixture(autouse=True)
def _cheaper_argon2(cheaper_argon2: None) -> None:
    """Every web test hashes staff passwords at test-sized cost."""


def csrf_of(html: str) -> str:
    """The CSRF token of the first form in ``html``."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no csrf_token field on the page"
    return found.group(1)


def staff_sign_in_http(
    client: TestClient, username: str, password: str = STAFF_PASSWORD, next: str = "/can-bo/"
) -> Any:
    """Sign in through the form with a TestClient; returns the POST's response.

    An account with a second factor is asked for its code next: the harness types a fresh
    one (``fresh_totp_code``) and returns that POST's response instead.
    """
    form = client.get("/can-bo/dang-nhap")
    answer = client.post(
        "/can-bo/dang-nhap",
        data={
            "username": username,
            "password": password,
            "next": next,
            "csrf_token": csrf_of(form.text),
        },
    )
    if answer.status_code == 303 and answer.headers["location"].startswith("/can-bo/ma-xac-thuc"):
        return staff_code_http(client, answer.headers["location"], username)
    return answer


def staff_code_http(client: TestClient, location: str, username: str, code: str = "") -> Any:
    """Answer the code page at ``location`` (a fresh TOTP code unless ``code`` is given)."""
    page = client.get(location)
    assert page.status_code == 200, page.text
    next_path = re.search(r'name="next" value="([^"]*)"', page.text)
    assert next_path
    engine = client.app.state.engine  # type: ignore[attr-defined]
    return client.post(
        "/can-bo/ma-xac-thuc",
        data={
            "code": code or fresh_totp_code(engine, username),
            "next": _unescape(next_path.group(1)),
            "csrf_token": csrf_of(page.text),
        },
    )


@pytest.fixture
def register(engine: Engine) -> Engine:
    """``seed.portal``: the insured person (card, history) plus a benefit, a partner read of
    the person, and another person whose data must stay hidden."""
    seed.portal(engine, WEB_KEY.public_b64)
    return engine


def citizen_sign_in_http(
    client: TestClient, personal_id: str | None = None, password: str = CITIZEN_PASSWORD
) -> Any:
    """The whole VNeID round trip with a TestClient (nidb) and httpx (the stand-in); returns
    nidb's answer to the callback."""
    import httpx

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
                "personal_id": personal_id or seed.PID,
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
