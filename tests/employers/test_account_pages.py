"""The employer's account pages over HTTP: one declaration and how to correct it, statements
(C12-TS on screen and as PDF), payments with their allocation, debt; and that employer A
never sees employer B's data by changing a number or a month in the URL."""

from __future__ import annotations

import re
import time
from datetime import date

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from nidb.api.app import create_app as create_nidb
from nidb.contributions.assess import assess_month
from nidb.contributions.ledger import record_payment
from nidb.employers.declarations import submit
from nidb.protocol.keys import SigningKey
from nidb.sim.payment.app import create_app as create_gateway
from nidb.sim.population.server import BackgroundServer
from tests.employers.support import EMPLOYER, OTHER_EMPLOYER, increase, new_worker
from tests.employers.test_pages import csrf_of, enrolled_with_password, sign_in


def _declare(engine: Engine, code: str, body: dict[str, object]) -> str:
    with engine.begin() as conn:
        return submit(conn, code, body, actor="test", channel="web").status


def seed_account(engine: Engine) -> None:
    """A: two workers from 10/2026 (positions Kế toán and Thủ kho); B: one part-time worker
    from 10/2026 and a refused declaration. October and November assessed; A paid 7,000,000
    by bank transfer on 20/11/2026 (October in full, part of November)."""
    enrolled_with_password(engine)
    a1 = new_worker("001090000101", position="Kế toán")
    a2 = new_worker("001092000202", wage=12_000_000, position="Thủ kho")
    assert _declare(engine, EMPLOYER, increase("A-1", a1, a2, month="2026-10")) == "applied"
    b1 = new_worker("079088000303", full_time=False, facility_code="79001")
    assert _declare(engine, OTHER_EMPLOYER, increase("B-1", b1, month="2026-10")) == "applied"
    wrong = new_worker("001090000101", full_name="Ai Đó", full_time=False)
    assert _declare(engine, OTHER_EMPLOYER, increase("B-SAI", wrong, month="2026-11")) == (
        "refused"
    )
    for month in (10, 11):
        assess_month(engine, date(2026, month, 1), actor="test")
    with engine.begin() as conn:
        record_payment(
            conn,
            employer_code=EMPLOYER,
            source="bank",
            reference="FT2611-0001",
            amount=7_000_000,
            paid_on=date(2026, 11, 20),
            actor="test",
        )


@pytest.fixture
def account(engine: Engine, client: TestClient) -> TestClient:
    """``seed_account``, signed in as A."""
    seed_account(engine)
    assert sign_in(client).status_code == 303  # type: ignore[attr-defined]
    return client


def test_the_workers_page_shows_position_start_month_and_card(account: TestClient) -> None:
    page = account.get("/don-vi/").text
    assert "Kế toán" in page and "Thủ kho" in page and "12.000.000 đồng" in page
    assert "10/2026" in page
    assert "Còn hạn đến" in page  # the card issued by the increase
    assert "Phạm Minh Đức" not in page  # B's worker


def test_statements_list_view_and_pdf(account: TestClient) -> None:
    listing = account.get("/don-vi/thong-bao").text
    assert "10/2026" in listing and "11/2026" in listing
    assert "/don-vi/thong-bao/2026-11/c12-ts.pdf" in listing
    october = account.get("/don-vi/thong-bao/2026-10").text
    assert "Thông báo kết quả đóng tháng 10/2026" in october
    assert "Hưu trí, tử tuất" in october and "Bảo hiểm y tế" in october
    assert "Số lao động: 2" in october
    # 32% of 21,000,000 for the two workers, employee and employer shares together
    assert "6.720.000 đồng" in october
    november = account.get("/don-vi/thong-bao/2026-11").text
    assert "Chuyển khoản ngân hàng, 7.000.000 đồng" in november
    pdf = account.get("/don-vi/thong-bao/2026-11/c12-ts.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-type"] == "application/pdf"
    assert "C12-TS-TA0001A-2026-11.pdf" in pdf.headers["content-disposition"]
    for bad in ("2026-13", "11-2026", "2026-09", "..%2F..%2Fetc"):
        assert account.get(f"/don-vi/thong-bao/{bad}").status_code == 404, bad


def test_payments_show_the_months_they_settled(account: TestClient) -> None:
    page = account.get("/don-vi/thanh-toan").text
    assert "Ngày 20/11/2026: 7.000.000 đồng" in page
    assert "FT2611-0001" in page and "Chuyển khoản ngân hàng" in page
    settled = re.findall(r"<tr><td>(\d\d/\d{4})</td><td>([^<]+)</td>", page)
    assert settled == [("10/2026", "Tiền đóng"), ("11/2026", "Tiền đóng")]  # oldest first
    assert "6.720.000 đồng" in page and "280.000 đồng" in page


def test_the_debt_page_says_what_is_owed_and_how_to_pay(account: TestClient) -> None:
    page = account.get("/don-vi/no").text
    # 2 × 6,720,000 charged, 7,000,000 paid: 6,440,000 left of November
    assert "Đơn vị còn nợ <strong>6.440.000 đồng</strong> của 1 tháng, từ tháng 11/2026" in page
    assert "31/12/2026" in page  # November is due by the end of December
    assert "0,03% mỗi ngày" in page and "Điều 40" in page
    assert "BHXH TA0001A" in page


def test_a_refused_declaration_shows_its_errors_and_opens_prefilled(
    engine: Engine, account: TestClient
) -> None:
    form = account.get("/don-vi/bao-tang").text
    number = re.search(r'name="declaration_no" value="([^"]+)"', form)
    assert number
    data = {
        "csrf_token": csrf_of(form),
        "declaration_no": number.group(1),
        "personal_id": "079088000303",
        "full_name": "Phạm Văn Đức",  # not the name in the population database
        "date_of_birth": "20/01/1988",
        "wage": "6.000.000",
        "contract_type": "indefinite",
        "full_time": "",
        "facility_code": "79001",
        "month": "12/2026",
    }
    assert account.post("/don-vi/bao-tang", data=data).status_code == 422
    detail = account.get(f"/don-vi/ho-so/{number.group(1)}").text
    assert "Bị từ chối" in detail and "Họ và tên" in detail and "Phạm Văn Đức" in detail
    assert "Họ tên không khớp với CSDL quốc gia về dân cư." in detail
    resend = f"/don-vi/bao-tang?so={number.group(1)}"
    assert resend in detail
    again = account.get(resend).text
    assert f'value="{number.group(1)}"' in again and 'value="Phạm Văn Đức"' in again
    assert 'value="12/2026"' in again and "field-error" in again
    done = account.post("/don-vi/bao-tang", data={**data, "full_name": "Phạm Minh Đức"})
    assert done.status_code == 303
    accepted = account.get(f"/don-vi/ho-so/{number.group(1)}").text
    assert "Đã chấp nhận" in accepted and "<dd>2</dd>" in accepted  # sent twice


def test_employer_a_cannot_see_b_by_changing_the_url(account: TestClient) -> None:
    for url in (
        "/don-vi/ho-so/B-1",
        "/don-vi/ho-so/B-SAI",
        "/don-vi/bao-tang?so=B-SAI",
        "/don-vi/thong-bao/2026-10?ma_don_vi=TB0002B",
        "/don-vi/thanh-toan?ma_don_vi=TB0002B",
    ):
        page = account.get(url)
        assert "Phạm Minh Đức" not in page.text and "Ai Đó" not in page.text, url
        assert "HTX Bình Minh" not in page.text, url
    assert account.get("/don-vi/ho-so/B-1").status_code == 404
    assert account.get("/don-vi/ho-so/A-1").status_code == 200
    assert "Số lao động: 2" in account.get("/don-vi/thong-bao/2026-10?ma_don_vi=TB0002B").text


def test_the_account_pages_need_the_employers_sign_in(engine: Engine, client: TestClient) -> None:
    enrolled_with_password(engine)
    for url in (
        "/don-vi/thong-bao",
        "/don-vi/thong-bao/2026-10",
        "/don-vi/no",
        "/don-vi/ho-so/A-1",
    ):
        assert client.get(url).headers["location"].startswith("/don-vi/dang-nhap"), url


def test_the_debt_is_paid_at_the_gateway_from_the_debt_page(
    engine: Engine, account: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "gateway-shared-secret"
    monkeypatch.setenv("NIDB_PAYMENT_GATEWAY_URL", "http://127.0.0.1:9")  # nothing listens
    monkeypatch.setenv("NIDB_PAYMENT_SECRET", secret)
    form = account.get("/don-vi/no").text
    assert "Nộp 6.440.000 đồng qua cổng thanh toán" in form
    down = account.post("/don-vi/no/thanh-toan", data={"csrf_token": csrf_of(form)})
    assert down.status_code == 502 and "Cổng thanh toán đang không phản hồi" in down.text
    with (
        BackgroundServer(create_gateway(secret)) as gateway,
        BackgroundServer(create_nidb(engine, SigningKey.generate()), lifespan="on") as nidb,
    ):
        monkeypatch.setenv("NIDB_PAYMENT_GATEWAY_URL", gateway.url)
        monkeypatch.setenv("NIDB_PAYMENT_PUBLIC_BASE_URL", nidb.url)
        sent = account.post("/don-vi/no/thanh-toan", data={"csrf_token": csrf_of(form)})
        assert sent.status_code == 303
        pay_page = sent.headers["location"]
        assert pay_page.startswith(f"{gateway.url}/pay/")
        assert httpx.post(f"{pay_page}/confirm", timeout=10).status_code == 303
        deadline = time.monotonic() + 10
        while "Đơn vị không còn nợ tháng nào." not in account.get("/don-vi/no").text:
            assert time.monotonic() < deadline, "the gateway's callback never settled the debt"
            time.sleep(0.1)
    paid = account.get("/don-vi/thanh-toan").text
    assert "Cổng thanh toán điện tử" in paid and "6.440.000 đồng" in paid
    none_left = account.post("/don-vi/no/thanh-toan", data={"csrf_token": csrf_of(form)})
    assert none_left.status_code == 422 and "Đơn vị không còn nợ." in none_left.text


def test_late_months_show_their_interest_on_the_debt_page(
    engine: Engine, client: TestClient
) -> None:
    """July unpaid: the October assessment charges interest for September's 30 days on it,
    2,880,000 × 0.03% × 30 = 25,920 đồng, carried by October."""
    enrolled_with_password(engine)
    worker = new_worker("001090000101")
    assert _declare(engine, EMPLOYER, increase("A-7", worker, month="2026-07")) == "applied"
    for month in (7, 8, 9, 10):
        assess_month(engine, date(2026, month, 1), actor="test")
    assert sign_in(client).status_code == 303  # type: ignore[attr-defined]
    page = client.get("/don-vi/no").text
    october = re.search(r"Tháng 10/2026</th>(.*?)</tr>", page, re.S)
    assert october
    cells = re.findall(r'data-label="([^"]+)" class="num">([^<]+)<', october.group(1))
    assert cells == [
        ("Tiền đóng còn nợ", "2.880.000 đồng"),
        ("Lãi chậm đóng", "25.920 đồng"),
        ("Cộng", "2.905.920 đồng"),
    ]
    assert "Đơn vị còn nợ <strong>11.545.920 đồng</strong> của 4 tháng, từ tháng 07/2026" in page
    statement_page = client.get("/don-vi/thong-bao/2026-10").text
    assert re.search(r"Lãi chậm đóng</dt><dd>25.920 đồng", statement_page)
