"""An auditor reads access-anomaly alerts in headless Chromium at 1280 px, on SQLite and
PostgreSQL: the list, then one alert with its explanation and reads. Screenshots go to
/tmp/anomaly-list-<engine>.png and /tmp/anomaly-alert-<engine>.png (and test-artifacts/)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, time
from typing import Any

from sqlalchemy import Engine

from nidb.detect import detect_access
from tests.conftest import LiveServer
from tests.detect.access_seed import code, log_reads
from tests.e2e.conftest import staff_sign_in

DAY = date(2026, 11, 18)


def test_an_auditor_reads_an_alert_and_the_reads_it_lists(
    page: Any, live_server: LiveServer, engine: Engine, make_staff_user: Callable[..., str]
) -> None:
    make_staff_user("canbo.hn", "reviewer", province_code="01")
    make_staff_user("kt.hn", "auditor", province_code="01")
    for n in range(6):
        make_staff_user(f"canbo.hn{n}", "reviewer", province_code="01")
    for day in (date(2026, 11, d) for d in (9, 10, 11, 12, 13, 16, 17)):
        for n in range(6):
            log_reads(
                engine, f"staff:canbo.hn{n}", day, [code("01", 100 * n + i) for i in range(12)]
            )
        log_reads(engine, "staff:canbo.hn", day, [code("01", 5000 + i) for i in range(15)])
    log_reads(engine, "staff:canbo.hn", DAY, [code("01", 9000 + i) for i in range(64)])
    log_reads(
        engine, "staff:canbo.hn", DAY, [code("79", 1), code("79", 2), code("48", 3)], time(21, 40)
    )
    assert detect_access(engine, [DAY]).new == 3  # volume, hours, area
    engine_name = engine.dialect.name

    page.set_viewport_size({"width": 1280, "height": 900})
    staff_sign_in(page, live_server.url, "kt.hn")
    page.goto(f"{live_server.url}/can-bo/kiem-toan/")
    page.get_by_role("link", name="Cảnh báo truy cập bất thường").click()
    page.wait_for_load_state()
    rows = page.locator("#bang-canh-bao tbody tr")
    assert rows.count() == 3
    assert page.get_by_text("Xem dữ liệu ngoài giờ làm việc").count() == 1
    page.screenshot(path=f"/tmp/anomaly-list-{engine_name}.png", full_page=True)

    page.get_by_role("row", name="Xem dữ liệu quá nhiều người trong ngày").get_by_role(
        "link"
    ).click()
    page.wait_for_load_state()
    explanation = page.locator("#giai-thich").inner_text()
    assert "đã xem dữ liệu của 67 người khác nhau trong ngày 18/11/2026" in explanation
    assert "phân vị 95 của 7 ngày" in explanation
    assert page.locator("#bang-luot-xem tbody tr").count() == 67
    page.screenshot(path=f"/tmp/anomaly-alert-{engine_name}.png", full_page=False)
