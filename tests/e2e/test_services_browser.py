"""Browser journeys (headless Chromium through Playwright; screenshots in
test-artifacts/screenshots/): a household renewal paid at the gateway stand-in, and a one-time
claim filed by a citizen, checked by a reviewer and approved by an approver."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import select

from nidb.sim.payment.app import create_app as create_gateway
from nidb.sim.population.server import BackgroundServer
from nidb.store import models
from nidb.web.sessions import COOKIE
from tests.e2e.conftest import LiveServer, staff_sign_in
from tests.seed import HEAD, LEFT, LEFT_CODE, SON, citizen_session, household

SECRET = "browser-secret"


def as_citizen(page: Any, server: LiveServer, pid: str, name: str) -> None:
    page.context.clear_cookies()
    page.context.add_cookies(
        [{"name": COOKIE, "value": citizen_session(server.engine, pid, name), "url": server.url}]
    )


@pytest.fixture
def gateway(live_server: LiveServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    household(live_server.engine)
    with BackgroundServer(create_gateway(SECRET)) as server:
        monkeypatch.setenv("NIDB_PAYMENT_GATEWAY_URL", server.url)
        monkeypatch.setenv("NIDB_PAYMENT_SECRET", SECRET)
        monkeypatch.setenv("NIDB_PAYMENT_PUBLIC_BASE_URL", live_server.url)
        yield server.url


def reload_until(page: Any, text: str, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while text not in page.inner_text("#trang-thai"):
        if time.monotonic() > deadline:
            raise AssertionError(f"{text!r} never shown")
        time.sleep(0.2)
        page.reload()


def test_a_household_renews_and_pays_online(
    page: Any, live_server: LiveServer, gateway: str
) -> None:
    as_citizen(page, live_server, HEAD, "Nguyễn Văn Hùng")
    page.goto(f"{live_server.url}/cong-dan/dich-vu/")
    page.get_by_role("link", name="Gia hạn thẻ BHYT hộ gia đình (thanh toán trực tuyến)").click()
    page.get_by_label("Số định danh cá nhân của các thành viên tham gia").fill(f"{HEAD}\n{SON}")
    page.get_by_label("Thời hạn gia hạn").select_option("6")
    page.get_by_role("button", name="Nộp hồ sơ").click()
    assert "Chờ thanh toán" in page.inner_text("#trang-thai")
    assert page.inner_text("#tong-tien") == "1.074.060 đồng"  # (4.5% × 2,340,000 × 6) × (1 + 0.7)
    page.get_by_role("button", name="Thanh toán trực tuyến").click()
    page.wait_for_url(f"{gateway}/pay/*")
    assert "1.074.060 đ" in page.inner_text("#amount")
    page.get_by_role("button", name="Thanh toán").click()
    page.wait_for_url(f"{live_server.url}/cong-dan/dich-vu/ho-so/*")
    reload_until(page, "Hoàn thành")
    assert "đã thanh toán" in page.content()
    page.goto(f"{live_server.url}/cong-dan/dich-vu/thong-bao")
    assert "thẻ BHYT mới đã được cấp" in page.inner_text("#thong-bao")


def test_a_one_time_claim_is_filed_checked_and_approved(
    page: Any, live_server: LiveServer, gateway: str, make_staff_user: Callable[..., str]
) -> None:
    make_staff_user("xet.hcm", "reviewer", province_code="79", full_name="Lê Thị Xét")
    make_staff_user("duyet.hcm", "approver", province_code="79", full_name="Phan Văn Duyệt")
    as_citizen(page, live_server, LEFT, "Phạm Văn Bình")
    page.goto(f"{live_server.url}/cong-dan/dich-vu/bhxh-mot-lan")
    page.get_by_label("Căn cứ đề nghị").select_option("no_contribution_12_months")
    page.get_by_label("Số tài khoản ngân hàng nhận tiền").fill("0123456789")
    page.get_by_label("Ghi chú").fill("<b>gấp</b>")
    page.get_by_role("button", name="Nộp hồ sơ").click()
    assert "không được chứa ký tự" in page.inner_text(".error-summary")  # refused, in Vietnamese
    page.get_by_label("Ghi chú").fill("Đã nghỉ việc từ năm ngoái")
    page.get_by_role("button", name="Nộp hồ sơ").click()
    assert "Đã tiếp nhận" in page.inner_text("#trang-thai")
    dossier_id = page.url.rsplit("/", 1)[1]
    dossier_url = f"{live_server.url}/can-bo/ho-so/{dossier_id}"

    page.context.clear_cookies()
    staff_sign_in(page, live_server.url, "xet.hcm")
    page.goto(f"{live_server.url}/can-bo/ho-so/")
    page.get_by_role("link", name=dossier_id, exact=True).click()
    page.get_by_role("button", name="Đã thẩm định").click()
    assert "Đã thẩm định, chờ phê duyệt" in page.inner_text("#trang-thai")

    page.context.clear_cookies()
    staff_sign_in(page, live_server.url, "duyet.hcm", engine=live_server.engine)
    page.goto(dossier_url)
    page.get_by_role("button", name="Phê duyệt").click()
    assert "Đã phê duyệt" in page.inner_text("#trang-thai")
    with live_server.engine.connect() as conn:
        assert (
            conn.execute(
                select(models.Benefit.kind).where(models.Benefit.bhxh_code == LEFT_CODE)
            ).scalar_one()
            == "one_time"
        )
