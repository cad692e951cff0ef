"""The citizen and staff pages over HTTP: bad input on every form, scope, roles, decisions."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from nidb.services.claims import submit_one_time_claim
from nidb.store.models_services import Dossier, DossierFile
from nidb.web.sessions import COOKIE
from tests.seed import HEAD, LEFT, WIFE, citizen_session, household
from tests.web.conftest import csrf_of, staff_sign_in_http

PDF = b"%PDF-1.4\n%test\n"


def sign_in_citizen(client: TestClient, engine: Engine, pid: str, name: str = "Công Dân") -> None:
    client.cookies.set(COOKIE, citizen_session(engine, pid, name))


def as_staff(client: TestClient, username: str) -> None:
    client.cookies.clear()  # a new browser: the sign-in page redirects a signed-in one
    staff_sign_in_http(client, username)


def dossiers(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(Dossier)).scalar_one()


def post_form(
    client: TestClient,
    path: str,
    data: dict[str, str],
    files: dict[str, tuple[str, bytes, str]] | None = None,
):  # type: ignore[no-untyped-def]
    token = csrf_of(client.get(path).text)
    return client.post(path, data={**data, "csrf_token": token}, files=files)


@pytest.fixture
def seeded(engine: Engine) -> Engine:
    household(engine)
    return engine


@pytest.mark.parametrize(
    ("path", "data", "files", "message"),
    [
        ("/cong-dan/dich-vu/gia-han-bhyt", {"members": "12345", "months": "12"}, None, "12 chữ số"),
        (
            "/cong-dan/dich-vu/gia-han-bhyt",
            {"members": f"{HEAD}\n{HEAD}", "months": "12"},
            None,
            "khai hai lần",
        ),
        ("/cong-dan/dich-vu/gia-han-bhyt", {"members": HEAD, "months": "99"}, None, "3, 6 hoặc 12"),
        (
            "/cong-dan/dich-vu/bhxh-mot-lan",
            {
                "ground": "no_contribution_12_months",
                "bank_account": "123456",
                "note": "<script>alert('x')</script>",
            },
            None,
            "không được chứa ký tự &lt; &gt;",
        ),
        (
            "/cong-dan/dich-vu/bhxh-mot-lan",
            {"ground": "emigrating", "bank_account": "123456", "note": ""},
            {"attachment": ("virus.pdf", b"MZ\x90\x00", "application/pdf")},
            "chỉ nhận tệp PDF, JPEG hoặc PNG",
        ),
        (
            "/cong-dan/dich-vu/bhxh-mot-lan",
            {"ground": "emigrating", "bank_account": "123456", "note": ""},
            {"attachment": ("lon.pdf", PDF + b"0" * (5 * 1024 * 1024), "application/pdf")},
            "tệp quá lớn",
        ),
        (
            "/cong-dan/dich-vu/tro-cap-that-nghiep",
            {"termination_date": "2999-12-31", "bank_account": "123456", "note": ""},
            None,
            "ngày ở tương lai",
        ),
        (
            "/cong-dan/dich-vu/tro-cap-that-nghiep",
            {"termination_date": "31/12/2024", "bank_account": "12", "note": ""},
            None,
            "",
        ),
    ],
)
def test_bad_input_on_every_form_gets_a_vietnamese_message_and_stores_nothing(
    seeded: Engine,
    client: TestClient,
    path: str,
    data: dict[str, str],
    files: dict[str, tuple[str, bytes, str]] | None,
    message: str,
) -> None:
    sign_in_citizen(client, seeded, LEFT if "gia-han" not in path else HEAD)
    reply = post_form(client, path, data, files)
    assert reply.status_code == 422
    assert "Vui lòng sửa 1 lỗi" in reply.text
    assert message in reply.text
    assert "<script>alert" not in reply.text  # the value comes back escaped, never as markup
    assert dossiers(seeded) == 0
    with seeded.connect() as conn:
        assert conn.execute(select(func.count()).select_from(DossierFile)).scalar_one() == 0


def test_a_body_over_the_web_limit_is_refused_before_the_form(
    seeded: Engine, client: TestClient
) -> None:
    sign_in_citizen(client, seeded, LEFT)
    reply = post_form(
        client,
        "/cong-dan/dich-vu/bhxh-mot-lan",
        {"ground": "emigrating", "bank_account": "123456"},
        {"attachment": ("lon.pdf", PDF + b"0" * (7 * 1024 * 1024), "application/pdf")},
    )
    assert reply.status_code == 413 and dossiers(seeded) == 0


def test_a_citizen_files_a_claim_sees_it_and_cannot_see_anothers(
    seeded: Engine, client: TestClient
) -> None:
    sign_in_citizen(client, seeded, LEFT)
    reply = post_form(
        client,
        "/cong-dan/dich-vu/bhxh-mot-lan",
        {"ground": "emigrating", "bank_account": "0123456789", "note": "Định cư tại Úc"},
        {"attachment": ("thi-thuc.pdf", PDF, "application/pdf")},
    )
    assert reply.status_code == 303
    location = reply.headers["location"]
    page = client.get(location)
    assert "Đã tiếp nhận" in page.text and "thi-thuc.pdf" in page.text
    assert "Hưởng BHXH một lần" in client.get("/cong-dan/dich-vu/").text
    dossier_id = int(location.rsplit("/", 1)[1])
    client.cookies.set(COOKIE, citizen_session(seeded, WIFE, "Trần Thị Mai"))
    assert client.get(location).status_code == 404
    assert (
        client.post(
            f"/cong-dan/dich-vu/ho-so/{dossier_id}/huy",
            data={"csrf_token": csrf_of(client.get("/cong-dan/dich-vu/").text), "version": "1"},
        ).status_code
        == 303
    )
    with seeded.connect() as conn:
        assert conn.execute(select(Dossier.state)).scalar_one() == "submitted"  # not hers to cancel


def test_the_renewal_form_creates_a_dossier_waiting_for_payment(
    seeded: Engine, client: TestClient
) -> None:
    sign_in_citizen(client, seeded, HEAD)
    reply = post_form(
        client, "/cong-dan/dich-vu/gia-han-bhyt", {"members": f"{HEAD}\n{WIFE}", "months": "12"}
    )
    assert reply.status_code == 303
    page = client.get(reply.headers["location"])
    assert "Chờ thanh toán" in page.text and "2.148.120 đồng" in page.text  # 1,263,600 + 884,520


def test_staff_see_only_their_province_and_decide_on_the_version_they_saw(
    seeded: Engine, client: TestClient, make_staff_user: Callable[..., str]
) -> None:
    view = submit_one_time_claim(
        seeded, LEFT, "no_contribution_12_months", "123456789"
    )  # province 79
    make_staff_user("xet.hn", "reviewer", province_code="01")
    make_staff_user("xet.hcm", "reviewer", province_code="79")
    make_staff_user("duyet.hcm", "approver", province_code="79")
    make_staff_user("kiem.toan", "auditor", scope_level="central", province_code=None)
    as_staff(client, "xet.hn")
    assert "Không có hồ sơ nào" in client.get("/can-bo/ho-so/").text
    assert client.get(f"/can-bo/ho-so/{view.summary.id}").status_code == 404  # not revealed
    as_staff(client, "xet.hcm")
    listing = client.get("/can-bo/ho-so/")
    assert f"/can-bo/ho-so/{view.summary.id}" in listing.text
    detail = client.get(f"/can-bo/ho-so/{view.summary.id}")
    assert "Đã thẩm định" in detail.text and "Phê duyệt" not in detail.text
    checked = client.post(
        f"/can-bo/ho-so/{view.summary.id}/quyet-dinh",
        data={"csrf_token": csrf_of(detail.text), "version": "1", "action": "check"},
    )
    assert checked.status_code == 303
    as_staff(client, "duyet.hcm")
    detail = client.get(f"/can-bo/ho-so/{view.summary.id}")
    token = csrf_of(detail.text)
    stale = client.post(
        f"/can-bo/ho-so/{view.summary.id}/quyet-dinh",
        data={"csrf_token": token, "version": "1", "action": "approve"},
    )
    assert stale.status_code == 409 and "vừa được người khác xử lý" in stale.text
    script = client.post(
        f"/can-bo/ho-so/{view.summary.id}/quyet-dinh",
        data={
            "csrf_token": token,
            "version": "2",
            "action": "refuse",
            "note": "<script>x</script>",
        },
    )
    assert script.status_code == 422 and "không được chứa ký tự" in script.text
    no_reason = client.post(
        f"/can-bo/ho-so/{view.summary.id}/quyet-dinh",
        data={"csrf_token": token, "version": "2", "action": "refuse", "note": ""},
    )
    assert no_reason.status_code == 422 and "không được để trống" in no_reason.text
    version = re.search(r'name="version" value="(\d+)"', detail.text)
    assert version and version.group(1) == "2"
    done = client.post(
        f"/can-bo/ho-so/{view.summary.id}/quyet-dinh",
        data={"csrf_token": token, "version": "2", "action": "approve"},
    )
    assert done.status_code == 303
    assert "Đã phê duyệt" in client.get(f"/can-bo/ho-so/{view.summary.id}").text
    as_staff(client, "kiem.toan")
    assert (
        f"/can-bo/ho-so/{view.summary.id}" in client.get("/can-bo/ho-so/").text
    )  # central: all provinces
    forbidden = client.post(
        f"/can-bo/ho-so/{view.summary.id}/quyet-dinh",
        data={
            "csrf_token": csrf_of(client.get("/can-bo/ho-so/").text),
            "version": "3",
            "action": "refuse",
            "note": "x",
        },
    )
    assert forbidden.status_code == 403
    with seeded.connect() as conn:
        from nidb.store import models

        viewed = conn.execute(
            select(func.count())
            .select_from(models.AuditEntry)
            .where(models.AuditEntry.action == "dossier.viewed")
        ).scalar_one()
    assert viewed >= 3


def test_a_post_without_csrf_is_refused(seeded: Engine, client: TestClient) -> None:
    sign_in_citizen(client, seeded, HEAD)
    reply = client.post("/cong-dan/dich-vu/gia-han-bhyt", data={"members": HEAD, "months": "12"})
    assert reply.status_code == 403 and dossiers(seeded) == 0
