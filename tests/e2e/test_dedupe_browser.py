"""A reviewer merges two records of one person from the console, in headless Chromium, on SQLite
and PostgreSQL: the records side by side, the merge, the undo; at 375 px and 1280 px."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

from nidb.web.console.dashboard_queries import clear_cache
from tests.conftest import LiveServer
from tests.e2e.conftest import SCREENSHOTS, staff_sign_in
from tests.identity.test_dedupe_register import load_small, queued_item
from tests.web.console_seed import seed_staff


def shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"dedupe_{name}.png"), full_page=True)


def merged_into(engine: Engine, record_id: str) -> str | None:
    with engine.connect() as conn:
        value = conn.execute(
            text("SELECT merged_into FROM persons WHERE record_id = :r"), {"r": record_id}
        ).scalar()
    return None if value is None else str(value)


def test_a_reviewer_merges_two_records_side_by_side_and_undoes_it(
    page: Any, live_server: LiveServer, tmp_path: Path
) -> None:
    engine = live_server.engine
    clear_cache()
    load_small(engine, tmp_path)
    item = queued_item(engine)
    seed_staff(engine, ("rv.tw", "rv.hn"))

    # a province reviewer does not see a merge whose records lie partly outside the province
    staff_sign_in(page, live_server.url, "rv.hn")
    response = page.goto(f"{live_server.url}/can-bo/doi-soat/{item}")
    assert response is not None and response.status == 404
    page.context.clear_cookies()

    staff_sign_in(page, live_server.url, "rv.tw")
    page.goto(f"{live_server.url}/can-bo/doi-soat/?loai=dedupe")
    page.get_by_role("link", name=f"Mục {item}").click()
    table = page.locator("table.compare")
    headers = table.locator("thead th").all_inner_texts()
    assert any("Hồ sơ R2" in h and "giữ lại" in h for h in headers)
    assert any("Hồ sơ R1" in h for h in headers)
    body = table.inner_text()
    assert "7900000002" in body and "0100000001" in body
    assert "theo hồ sơ R1" in body, "the birth province R2 lacks comes from R1"
    assert "17/05/1990" in body and "1990-05-17" not in body
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    shot(page, "item_375")
    page.set_viewport_size({"width": 1280, "height": 900})
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    shot(page, "item_1280")

    page.get_by_label("Gộp: các hồ sơ là của một người").check()
    page.get_by_label("Ghi chú").fill("Cùng một người: trùng họ tên, ngày sinh.")
    page.get_by_role("button", name="Ghi quyết định").click()
    page.wait_for_url(f"**/can-bo/doi-soat/{item}")
    assert (
        f"Đã gộp các hồ sơ trùng theo mục đối soát số {item}."
        in page.locator(".flashes").inner_text()
    )
    assert merged_into(engine, "R1") == "R2"
    assert "đã gộp" in page.locator("table.compare thead").inner_text()
    shot(page, "merged")

    page.get_by_role("button", name="Hoàn tác lần gộp").click()  # no reason: refused
    assert "Vui lòng ghi lý do hoàn tác" in page.content()
    assert merged_into(engine, "R1") == "R2"
    page.get_by_label("Lý do hoàn tác").fill("Gộp nhầm, hai anh em sinh đôi.")
    page.get_by_role("button", name="Hoàn tác lần gộp").click()
    page.wait_for_url(f"**/can-bo/doi-soat/{item}")
    assert merged_into(engine, "R1") is None
    assert page.get_by_label("Gộp: các hồ sơ là của một người").count() == 1, "open again"
    shot(page, "undone")
    clear_cache()
