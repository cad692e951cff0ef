"""`/docs` and `/redoc` work with no internet, under a script-src 'self' policy (issue 17).

The browser is cut off from everything but the loopback server: a request anywhere else fails
the test, as it would leave a blank page for a user without internet.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

import pytest

from nidb.sim.business import create_app as create_business
from nidb.sim.population.faults import FaultConfig
from nidb.sim.population.server import BackgroundServer
from tests.e2e.conftest import LiveServer

SHOTS = "/tmp/shots-experience"


def _offline(page: Any) -> list[str]:
    """Abort every request that leaves loopback; return the scripts, styles and data that tried
    (ReDoc's footer logo, an image from its CDN, is refused by the CSP and hides itself)."""
    outside: list[str] = []

    def route(r: Any) -> None:
        host = urlparse(r.request.url).hostname
        if host in ("127.0.0.1", "localhost") or r.request.url.startswith(("data:", "blob:")):
            r.continue_()
        else:
            if r.request.resource_type != "image":
                outside.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    return outside


def _watch_csp(page: Any) -> list[str]:
    refused: list[str] = []
    page.on(
        "console",
        lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None,
    )
    return refused


@pytest.mark.parametrize("width", [1280, 375])
def test_swagger_ui_lists_the_operations_offline(
    live_server: LiveServer, browser: Any, width: int
) -> None:
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        outside = _offline(page)
        refused = _watch_csp(page)
        page.goto(f"{live_server.url}/docs")
        page.locator(".opblock-summary-path", has_text="/health").first.wait_for(timeout=15_000)
        assert page.locator(".opblock").count() > 5
        assert "'self'" in (page.evaluate("document.title") and _csp(page, live_server.url))
        page.screenshot(path=f"{SHOTS}/docs-{width}.png")
        assert outside == []
        assert [m for m in refused if "script" in m] == []
    finally:
        context.close()


def _csp(page: Any, base: str) -> str:
    response = page.request.get(f"{base}/docs")
    policy = str(response.headers["content-security-policy"])
    assert "script-src 'self'" in policy and "unsafe-eval" not in policy
    assert "unsafe-inline" not in policy.split("script-src", 1)[1].split(";", 1)[0]
    return policy


def test_redoc_renders_offline(live_server: LiveServer, page: Any) -> None:
    outside = _offline(page)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/redoc")
    page.locator("h2", has_text="Tra cứu thẻ BHYT khi khám chữa bệnh").first.wait_for(
        timeout=20_000
    )
    assert page.get_by_text("Something went wrong").count() == 0
    page.screenshot(path=f"{SHOTS}/redoc-1280.png")
    assert outside == []


def test_a_stand_ins_docs_work_offline(page: Any) -> None:
    server = BackgroundServer(create_business(faults=FaultConfig())).start()
    try:
        outside = _offline(page)
        page.goto(f"{server.url}/docs")
        page.locator(".opblock").first.wait_for(timeout=15_000)
        assert page.locator(".opblock").count() >= 2
        assert outside == []
    finally:
        server.stop()
