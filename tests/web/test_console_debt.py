"""The staff page of employers in debt (``/can-bo/no-dong/``): per province, amounts and
months, closed enterprises flagged; scoped by role (``can(role, "debt.read")``) and area."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from nidb.domain.staff import StaffRole, roles_allowed
from tests.contributions.test_debt import in_debt
from tests.web.conftest import staff_sign_in_http


def sign_in(client: TestClient, username: str) -> None:
    client.cookies.clear()
    assert staff_sign_in_http(client, username).status_code == 303


@pytest.fixture
def debt(engine: Engine, make_staff_user: Callable[..., str]) -> None:
    """DN001 and DN002 (closed) in Hà Nội, DN079 in TP. Hồ Chí Minh, all owing September at
    the assessed month 10/2026; staff of Hà Nội, of the centre, and an approver."""
    in_debt(engine)
    make_staff_user("rv.hn", "reviewer", province_code="01")
    make_staff_user("kt.tw", "auditor", scope_level="central", province_code=None)
    make_staff_user("pd.hn", "approver", province_code="01")


def test_the_rule_table_lets_reviewers_auditors_and_admins_read_debtors() -> None:
    assert roles_allowed("debt.read") == (StaffRole.REVIEWER, StaffRole.AUDITOR, StaffRole.ADMIN)


def test_central_staff_see_every_province_and_its_employers(client: TestClient, debt: None) -> None:
    sign_in(client, "kt.tw")
    page = client.get("/can-bo/no-dong/")
    assert page.status_code == 200
    assert "Nợ theo tỉnh đến tháng 10/2026" in page.text
    summary = re.search(r'<table id="no-theo-tinh"[^>]*>(.*?)</table>', page.text, re.S)
    assert summary
    rows = re.findall(r"<tr>\s*<th scope=\"row\">(.*?)</th>(.*?)</tr>", summary.group(1), re.S)
    assert len(rows) == 2
    assert "Hà Nội" in rows[0][0] and "Hồ Chí Minh" in rows[1][0]  # equal debts: by code
    hanoi = re.findall(r'<td[^>]*class="num">([^<]+)</td>', rows[0][1])
    assert hanoi == ["2", "6.400.000 đồng", "1", "3.200.000 đồng"]  # one of two closed
    saigon = re.findall(r'<td[^>]*class="num">([^<]+)</td>', rows[1][1])
    assert saigon == ["1", "6.400.000 đồng", "0", "0 đồng"]
    listing = re.search(r'<table id="bang-don-vi-no"[^>]*>(.*?)</table>', page.text, re.S)
    assert listing
    assert re.findall(r'<th scope="row">(DN\d+)</th>', listing.group(1))[0] == "DN079"
    closed = re.search(r"DN002</th>(.*?)</tr>", listing.group(1), re.S)
    assert closed and "Doanh nghiệp đã đóng cửa" in closed.group(1)
    assert "09/2026" in closed.group(1)  # owed since September


def test_filters_by_province_and_closed_enterprises(client: TestClient, debt: None) -> None:
    sign_in(client, "kt.tw")
    page = client.get("/can-bo/no-dong/?thang=2026-10&tinh=01&da_dong=1").text
    listing = re.search(r'<table id="bang-don-vi-no"[^>]*>(.*?)</table>', page, re.S)
    assert listing
    assert re.findall(r'<th scope="row">(DN\d+)</th>', listing.group(1)) == ["DN002"]
    assert "1 đơn vị, 3.200.000 đồng" in page
    september = client.get("/can-bo/no-dong/?thang=2026-09").text  # nothing late yet
    assert "Không có đơn vị nào nợ đến tháng 09/2026" in september


def test_province_staff_see_only_their_province(client: TestClient, debt: None) -> None:
    sign_in(client, "rv.hn")
    page = client.get("/can-bo/no-dong/")
    assert page.status_code == 200
    assert "DN001" in page.text and "DN002" in page.text
    assert "DN079" not in page.text and "Sài Gòn" not in page.text
    assert client.get("/can-bo/no-dong/?tinh=79").status_code == 404
    assert 'href="/can-bo/no-dong/"' in client.get("/can-bo/").text  # in the navigation


def test_an_approver_may_not_read_debtors(client: TestClient, debt: None) -> None:
    sign_in(client, "pd.hn")
    assert client.get("/can-bo/no-dong/").status_code == 403
    assert 'href="/can-bo/no-dong/"' not in client.get("/can-bo/").text
