"""The employers' web pages over HTTP (the browser walk is in tests/e2e/test_employer_browser.py)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from nidb.employers.accounts import enrol
from nidb.employers.passwords import hash_password
from nidb.protocol.keys import SigningKey
from tests.employers.support import EMPLOYER, seed_employers

PASSWORD = "Don-vi-2026!"


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found
    return found.group(1)


def enrolled_with_password(engine: Engine) -> None:
    seed_employers(engine)
    with engine.begin() as conn:
        enrol(
            conn,
            EMPLOYER,
            SigningKey.generate().public_b64,
            "test",
            password_hash=hash_password(PASSWORD),
        )


def sign_in(client: TestClient, password: str = PASSWORD) -> object:
    form = client.get("/don-vi/dang-nhap")
    return client.post(
        "/don-vi/dang-nhap",
        data={
            "employer_code": EMPLOYER.lower(),
            "password": password,
            "csrf_token": csrf_of(form.text),
        },
    )


@pytest.fixture
def signed_in(engine: Engine, client: TestClient) -> TestClient:
    enrolled_with_password(engine)
    response = sign_in(client)
    assert response.status_code == 303  # type: ignore[attr-defined]
    return client


def test_pages_need_the_employers_sign_in(engine: Engine, client: TestClient) -> None:
    enrolled_with_password(engine)
    assert client.get("/don-vi/").headers["location"].startswith("/don-vi/dang-nhap")
    wrong = sign_in(client, "sai-mat-khau-1")
    assert wrong.status_code == 401  # type: ignore[attr-defined]
    assert "Mã đơn vị hoặc mật khẩu không đúng." in wrong.text  # type: ignore[attr-defined]


def test_an_increase_from_the_form_is_applied_and_listed(signed_in: TestClient) -> None:
    form = signed_in.get("/don-vi/bao-tang")
    number = re.search(r'name="declaration_no" value="([^"]+)"', form.text)
    assert number
    data = {
        "csrf_token": csrf_of(form.text),
        "declaration_no": number.group(1),
        "personal_id": "001090000101",
        "full_name": "Trần Thị Bình",
        "date_of_birth": "12/05/1990",
        "wage": "9.000.000",
        "contract_type": "indefinite",
        "full_time": "1",
        "facility_code": "01001",
        "month": "13/2026",
    }
    bad = signed_in.post("/don-vi/bao-tang", data=data)
    assert bad.status_code == 422
    assert "Tháng phải có dạng tháng/năm, ví dụ 11/2026." in bad.text
    done = signed_in.post("/don-vi/bao-tang", data={**data, "month": "11/2026"})
    assert done.status_code == 303 and done.headers["location"] == "/don-vi/ho-so"
    records = signed_in.get("/don-vi/ho-so").text
    assert number.group(1) in records and "Đã chấp nhận" in records
    assert "<td>2</td>" in records  # sent twice: refused, then corrected
    workers = signed_in.get("/don-vi/").text
    assert "Trần Thị Bình" in workers and "9.000.000 đồng" in workers and "11/2026" in workers


def test_an_uploaded_list_shows_each_refused_row(signed_in: TestClient) -> None:
    page = signed_in.get("/don-vi/nop-danh-sach")
    csv = (
        "personal_id,full_name,date_of_birth,wage,facility_code,month\n"
        "001090000101,Trần Thị Bình,1990-05-12,9000000,01001,2026-11\n"
        "001092000202,Lê Văn Cường,1992-11-03,9000000,01001,2026-11\n"
        "001099999999,Ai Đó,1990-01-01,9000000,01001,2026-11\n"
    )
    answer = signed_in.post(
        "/don-vi/nop-danh-sach",
        data={"csrf_token": csrf_of(page.text), "number": "DS-1"},
        files={"danh_sach": ("ds.csv", csv.encode(), "text/csv")},
    )
    assert answer.status_code == 200
    assert "2 dòng được chấp nhận, 1 dòng bị từ chối" in answer.text
    assert "<td>3</td><td>Số định danh cá nhân</td><td>001099999999</td>" in answer.text
    assert "không có trong CSDL quốc gia về dân cư" in answer.text
