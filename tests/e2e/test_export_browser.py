"""Tải dữ liệu của tôi in headless Chromium at phone width: the page reads well at 375 px and the
button downloads the ZIP."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from tests.e2e.conftest import LiveServer, Vneid, citizen_sign_in


def test_a_citizen_downloads_their_data_from_the_portal(
    page: Any,
    live_server: LiveServer,
    register: Engine,
    vneid: Vneid,
    tmp_path: Path,
    snap: Callable[[Any, str], None],
) -> None:
    citizen_sign_in(page, live_server.url)
    page.wait_for_url(f"{live_server.url}/cong-dan/")
    # from the home page's list (the navigation keeps the everyday pages, to fit one line)
    page.locator("main").get_by_role("link", name="Tải dữ liệu của tôi").click()
    assert page.locator("h1").inner_text() == "Tải dữ liệu của tôi"
    assert page.locator("main").get_by_text("Thẻ BHYT", exact=True).is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    snap(page, "du-lieu")
    with page.expect_download() as info:
        page.get_by_role("button", name="Tải dữ liệu của tôi").click()
    download = info.value
    assert download.suggested_filename.startswith("du-lieu-cua-toi-")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    with zipfile.ZipFile(saved) as archive:
        assert "README.txt" in archive.namelist() and archive.testzip() is None
