"""The citizen portal over HTTP (TestClient for nidb, the real VNeID stand-in on loopback), on
SQLite and PostgreSQL: sign-in, own data only, e-card QR, access history, forms, bad input."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, insert, select, update

from nidb.exchange.cardcheck import card_check
from nidb.store.models import AuditEntry, Person
from nidb.store.models_claims import ClaimFacility
from nidb.store.models_web import (
    ConsentChoice,
    CorrectionEvidence,
    CorrectionRequest,
    WebSession,
)
from nidb.web.sessions import utcnow
from tests.seed import BHXH, PID
from tests.web.conftest import OTHER_PID, Vneid, citizen_sign_in_http, csrf_of

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
PDF = b"%PDF-1.7\n" + b"x" * 300


def _count(engine: Engine, table: type) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


@pytest.fixture
def signed_in(client: TestClient, register: Engine, vneid: Vneid) -> TestClient:
    """A TestClient signed in as the seeded citizen through VNeID."""
    done = citizen_sign_in_http(client)
    assert done.status_code == 303 and done.headers["location"] == "/cong-dan/"
    return client


def test_sign_in_through_vneid_opens_the_citizens_own_home(
    signed_in: TestClient, register: Engine
) -> None:
    home = signed_in.get("/cong-dan/")
    assert home.status_code == 200
    assert "Xin chào, Nguyễn Văn An" in home.text and BHXH in home.text
    assert f"DN401{BHXH}" in home.text
    with register.connect() as conn:
        session = conn.execute(select(WebSession.kind, WebSession.subject)).one()
        audit = conn.execute(
            select(AuditEntry.actor).where(AuditEntry.action == "citizen.sign_in")
        ).scalars().all()  # fmt: skip
    assert tuple(session) == ("citizen", PID)
    assert audit == [f"citizen:{PID}"]
    # a citizen session is no staff session
    assert signed_in.get("/can-bo/").status_code == 303


def test_pages_need_a_citizen_session(client: TestClient) -> None:
    for path in ("/cong-dan/", "/cong-dan/ho-so", "/cong-dan/the-bhyt", "/cong-dan/truy-cap"):
        answer = client.get(path)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/cong-dan/dang-nhap?next=")


def test_my_record_shows_identity_history_by_month_contributions_and_benefits_only_mine(
    signed_in: TestClient,
) -> None:
    page = signed_in.get("/cong-dan/ho-so").text
    assert "Đã xác thực với CSDL quốc gia về dân cư" in page
    assert "Nguyễn Văn An" in page and "17/03/1985" in page
    this_year = date.today().year
    assert f"Năm {this_year}" in page and "Năm 2015" in page
    assert "Năm 2014" not in page  # participation starts in January 2015
    assert "Năm 2025 — BHXH 12 tháng, BHYT 12 tháng, BHTN 12 tháng" in page
    assert "10.000.000 đồng" in page and "3.150.000 đồng" in page  # wage; the month's contributions
    assert "Công ty TNHH An Bình" in page
    assert "Ốm đau" in page and "1.250.000 đồng" in page
    assert "Trần Thị Bình" not in page and "99.999.000" not in page


def test_the_e_card_qr_holds_what_card_check_needs_and_checks_valid(
    signed_in: TestClient, register: Engine
) -> None:
    page = signed_in.get("/cong-dan/the-bhyt").text
    assert '<svg role="img" aria-label="Mã QR thẻ BHYT"' in page
    # the card as citizens know it: words, not codes; the QR's content is not printed raw
    assert "Người lao động trong doanh nghiệp" in page and "80% chi phí khám chữa bệnh" in page
    assert "card.check/v1" not in re.sub(r'data-payload="[^"]*"', "", page)
    assert "Cơ sở khám chữa bệnh mã số 01001" in page  # not in the facility catalogue yet
    with register.begin() as conn:
        conn.execute(
            insert(ClaimFacility).values(
                code="01001", name="Bệnh viện Đa khoa Hà Nội", level=2, province_code="01",
                contract_from=date(2020, 1, 1),
            )
        )  # fmt: skip
    assert "Bệnh viện Đa khoa Hà Nội" in signed_in.get("/cong-dan/the-bhyt").text
    start = page.index('data-payload="') + len('data-payload="')
    import html

    payload = json.loads(html.unescape(page[start : page.index('"', start)]))
    assert payload == {
        "v": 1, "svc": "card.check/v1", "card_code": f"DN401{BHXH}",
        "full_name": "Nguyễn Văn An", "date_of_birth": "1985-03-17", "gender": "M",
    }  # fmt: skip
    with register.connect() as conn:
        answer = card_check(
            conn, payload["card_code"], payload["full_name"], payload["date_of_birth"],
            payload["gender"], date.today(),
        )  # fmt: skip
    assert answer.body["result_code"] == "000"
    assert "còn giá trị hôm nay" in page


def test_access_history_names_the_hospital_and_purpose_and_hides_others_reads(
    signed_in: TestClient,
) -> None:
    page = signed_in.get("/cong-dan/truy-cap").text
    assert "Bệnh viện Bạch Mai" in page
    assert "Tra cứu thẻ BHYT khi khám chữa bệnh" in page
    assert "Khám bệnh, chữa bệnh BHYT" in page and "insured health care" not in page
    assert "Bảo hiểm y tế: thẻ, mức hưởng, nơi KCB ban đầu" in page  # the groups read, in words
    assert "Thông tin tóm tắt của người tham gia" not in page  # the other person's read


def _correction(client: TestClient, *, files: dict | None = None, **fields: str):  # type: ignore[no-untyped-def]
    form = client.get("/cong-dan/dieu-chinh")
    data = {"csrf_token": csrf_of(form.text), **fields}
    return client.post("/cong-dan/dieu-chinh", data=data, files=files or {})


def test_a_correction_request_with_evidence_is_stored_audited_and_shown(
    signed_in: TestClient, register: Engine
) -> None:
    sent = _correction(
        signed_in,
        field="date_of_birth",
        new_value="18/03/1985",
        reason="Giấy khai sinh ghi ngày 18/03/1985",
        files={"evidence": ("giay khai sinh.png", PNG, "image/png")},
    )
    assert sent.status_code == 303
    with register.connect() as conn:
        stored = conn.execute(select(CorrectionRequest)).one()
        evidence = conn.execute(select(CorrectionEvidence)).one()
        audit = conn.execute(
            select(AuditEntry.detail).where(AuditEntry.action == "citizen.correction_request")
        ).scalar_one()
    assert (stored.personal_id, stored.field, stored.new_value, stored.status) == (
        PID, "date_of_birth", "1985-03-18", "submitted",
    )  # fmt: skip
    assert stored.current_value == "1985-03-17"  # from the register, not from the form
    assert evidence.sha256 == hashlib.sha256(PNG).hexdigest() and evidence.content == PNG
    assert (evidence.content_type, evidence.filename) == ("image/png", "giay khai sinh.png")
    assert audit["evidence_sha256"] == evidence.sha256
    page = signed_in.get("/cong-dan/dieu-chinh").text
    assert "Đã gửi yêu cầu điều chỉnh số" in page and "Đã tiếp nhận" in page
    assert "Đã gửi yêu cầu" not in signed_in.get("/cong-dan/dieu-chinh").text  # flash shown once


def test_a_correction_keeps_the_value_the_record_holds_and_shows_it_as_people_read_it(
    signed_in: TestClient, register: Engine
) -> None:
    """The contact address is on the participant record: the request keeps it as the current
    value (it once kept nothing, and the console showed "—"); the citizen's list shows a birth
    date as DD/MM/YYYY, never the stored ISO form."""
    for field, value in (("address", "Số 5 Tràng Tiền, Hà Nội"), ("date_of_birth", "18/03/1985")):
        sent = _correction(
            signed_in,
            field=field,
            new_value=value,
            reason="Theo giấy tờ mới nhất của tôi",
            files={"evidence": ("giay to.pdf", PDF, "application/pdf")},
        )
        assert sent.status_code == 303, sent.text
    with register.connect() as conn:
        current = dict(
            conn.execute(select(CorrectionRequest.field, CorrectionRequest.current_value)).all()
        )
    assert current == {"address": "Hà Nội", "date_of_birth": "1985-03-17"}
    page = signed_in.get("/cong-dan/dieu-chinh").text
    assert "18/03/1985" in page and "1985-03-18" not in page


BAD_CORRECTIONS = [
    pytest.param(
        {"field": "personal_id", "new_value": "12345", "reason": "CCCD mới cấp năm 2024"},
        ("evidence.pdf", PDF, "application/pdf"),
        "new_value", "Số định danh cá nhân phải gồm đúng 12 chữ số.",
        id="wrong-id-format",
    ),
    pytest.param(
        {"field": "date_of_birth", "new_value": (date.today() + timedelta(days=3)).strftime("%d/%m/%Y"),
         "reason": "Giấy khai sinh ghi khác"},
        ("evidence.pdf", PDF, "application/pdf"),
        "new_value", "Ngày sinh không được ở tương lai.",
        id="future-birth-date",
    ),
    pytest.param(
        {"field": "full_name", "new_value": "Nguyễn Văn An", "reason": "Giấy khai sinh ghi khác"},
        ("scan.pdf", b"%PDF-" + b"x" * (5 * 1024 * 1024), "application/pdf"),
        "evidence", "Tệp minh chứng vượt quá 5 MB.",
        id="oversized-upload",
    ),
    pytest.param(
        {"field": "full_name", "new_value": "Nguyễn Văn An", "reason": "Giấy khai sinh ghi khác"},
        ("scan.pdf", b"<html><script>alert(1)</script></html>", "application/pdf"),
        "evidence", "Chỉ nhận tệp PDF, JPG hoặc PNG",
        id="wrong-file-type-despite-extension",
    ),
    pytest.param(
        {"field": "address", "new_value": "<script>alert(1)</script>", "reason": "Chuyển nhà năm 2025"},
        ("evidence.pdf", PDF, "application/pdf"),
        "new_value", "không được chứa ký tự &lt; hoặc &gt;",
        id="script-injection-value",
    ),
    pytest.param(
        {"field": "full_name", "new_value": "<img src=x onerror=alert(1)>", "reason": "ok ok ok ok ok"},
        ("evidence.pdf", PDF, "application/pdf"),
        "new_value", "Họ và tên chỉ được gồm chữ cái",
        id="script-injection-name",
    ),
    pytest.param(
        {"field": "", "new_value": "x", "reason": "Giấy khai sinh ghi khác"},
        None,
        "field", "Vui lòng chọn thông tin cần điều chỉnh.",
        id="no-field-no-file",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("fields", "upload", "where", "message"), BAD_CORRECTIONS)
def test_bad_correction_input_gets_a_vietnamese_message_next_to_the_field_and_stores_nothing(
    signed_in: TestClient,
    register: Engine,
    fields: dict[str, str],
    upload: tuple[str, bytes, str] | None,
    where: str,
    message: str,
) -> None:
    answer = _correction(signed_in, files={"evidence": upload} if upload else None, **fields)
    assert answer.status_code == 400
    assert f'id="{where}-loi">' in answer.text
    error_at = answer.text.index(f'id="{where}-loi">')
    assert message in answer.text[error_at : error_at + 300]
    assert f'aria-describedby="{where}-goi-y {where}-loi" aria-invalid="true"' in answer.text or (
        f'aria-describedby="{where}-loi" aria-invalid="true"' in answer.text
    )
    assert "<script>alert(1)</script>" not in answer.text  # shown escaped if at all
    assert _count(register, CorrectionRequest) == 0 and _count(register, CorrectionEvidence) == 0


def test_consent_choices_are_saved_with_history_and_audited(
    signed_in: TestClient, register: Engine
) -> None:
    form = signed_in.get("/cong-dan/dong-y")
    assert "Chưa có thay đổi nào" in form.text
    token = csrf_of(form.text)
    saved = signed_in.post(
        "/cong-dan/dong-y", data={"csrf_token": token, "bank_loan": "1", "notify_sms": "1"}
    )
    assert saved.status_code == 303
    page = signed_in.get("/cong-dan/dong-y").text
    assert "Đã lưu lựa chọn" in page
    assert 'id="bank_loan" name="bank_loan" type="checkbox" value="1" checked' in page
    signed_in.post("/cong-dan/dong-y", data={"csrf_token": token, "notify_sms": "1"})
    with register.connect() as conn:
        rows = conn.execute(
            select(ConsentChoice.topic, ConsentChoice.granted).order_by(ConsentChoice.id)
        ).all()
        audits = conn.execute(
            select(AuditEntry.detail).where(AuditEntry.action == "citizen.consent")
        ).scalars().all()  # fmt: skip
    assert [tuple(r) for r in rows] == [
        ("bank_loan", True),
        ("notify_sms", True),
        ("bank_loan", False),
    ]
    assert audits == [{"bank_loan": True, "notify_sms": True}, {"bank_loan": False}]
    bad = signed_in.post("/cong-dan/dong-y", data={"csrf_token": token, "sell_my_data": "1"})
    assert bad.status_code == 400 and "không hợp lệ" in bad.text
    assert _count(register, ConsentChoice) == 3


def test_citizen_forms_refuse_a_missing_csrf_token(signed_in: TestClient, register: Engine) -> None:
    refused = signed_in.post("/cong-dan/dong-y", data={"bank_loan": "1"})
    assert refused.status_code == 403 and "Yêu cầu bị từ chối" in refused.text
    refused = signed_in.post(
        "/cong-dan/dieu-chinh",
        data={"field": "full_name", "new_value": "An", "reason": "x" * 20, "csrf_token": "sai"},
        files={"evidence": ("a.pdf", PDF, "application/pdf")},
    )
    assert refused.status_code == 403
    assert _count(register, ConsentChoice) == 0 and _count(register, CorrectionRequest) == 0


def test_an_idle_citizen_session_expires_after_30_minutes(
    signed_in: TestClient, register: Engine
) -> None:
    with register.begin() as conn:
        conn.execute(update(WebSession).values(last_seen_at=utcnow() - timedelta(minutes=29)))
    assert signed_in.get("/cong-dan/ho-so").status_code == 200
    with register.begin() as conn:
        conn.execute(update(WebSession).values(last_seen_at=utcnow() - timedelta(minutes=31)))
    gone = signed_in.get("/cong-dan/ho-so")
    assert gone.status_code == 303 and "het_han=1" in gone.headers["location"]
    # a form posted after expiry goes to sign-in, not to a CSRF error, and stores nothing
    assert "Phiên làm việc đã hết hạn" in signed_in.get(gone.headers["location"]).text


def test_another_citizen_sees_only_their_own_data(
    client: TestClient, register: Engine, vneid: Vneid
) -> None:
    assert citizen_sign_in_http(client, OTHER_PID, "Binh-2026").status_code == 303
    record = client.get("/cong-dan/ho-so").text
    assert "Trần Thị Bình" in record and "Nguyễn Văn An" not in record
    assert "99.999.000 đồng" in record
    card = client.get("/cong-dan/the-bhyt").text
    assert "Chưa tìm thấy thẻ BHYT" in card and BHXH not in card
    access = client.get("/cong-dan/truy-cap").text
    assert "Thông tin tóm tắt của người tham gia" in access
    assert "Tra cứu thẻ BHYT khi khám chữa bệnh" not in access


def test_staff_decisions_on_a_request_show_to_the_citizen_and_follow_the_states(
    signed_in: TestClient, register: Engine
) -> None:
    from nidb.web.corrections import DecisionError, decide

    _correction(
        signed_in, field="full_name", new_value="nguyễn văn anh", reason="Tên đúng theo CCCD",
        files={"evidence": ("cccd.jpg", b"\xff\xd8\xff\xe0" + b"0" * 100, "image/jpeg")},
    )  # fmt: skip
    with register.connect() as conn:
        request_id = conn.execute(select(CorrectionRequest.id)).scalar_one()
    with register.connect() as conn:
        names_before = conn.execute(
            select(Person.record_id, Person.full_name).where(Person.verified_personal_id == PID)
        ).all()
    assert names_before and all(name != "Nguyễn Văn Anh" for _, name in names_before)
    assert decide(register, request_id, "in_review", actor="staff:canbo.hn").applied == ()
    accepted = decide(
        register, request_id, "accepted", actor="staff:canbo.hn", note="Đã sửa họ tên."
    )
    with pytest.raises(DecisionError):
        decide(register, request_id, "rejected", actor="staff:canbo.hn")
    # the accepted name is on every record verified as the citizen, each change audited
    with register.connect() as conn:
        names_after = conn.execute(
            select(Person.full_name, Person.name_base).where(Person.verified_personal_id == PID)
        ).all()
        [detail] = conn.execute(
            select(AuditEntry.detail).where(AuditEntry.action == "correction.accepted")
        ).scalars()
    assert set(names_after) == {("Nguyễn Văn Anh", "nguyen van anh")}
    assert [(a["record_id"], a["column"], a["before"], a["after"]) for a in accepted.applied] == [
        change
        for rid, name in names_before
        for change in (
            (rid, "full_name", name, "Nguyễn Văn Anh"),
            (rid, "name_base", "nguyen van an", "nguyen van anh"),
        )
    ]
    assert detail["applied"] == list(accepted.applied)
    page = signed_in.get("/cong-dan/dieu-chinh").text
    assert "Đã chấp thuận" in page and "Đã sửa họ tên." in page and "Nguyễn Văn Anh" in page
    history = signed_in.get("/cong-dan/truy-cap").text
    assert "Cán bộ cơ quan BHXH (canbo.hn)" in history
    assert "Chấp thuận yêu cầu điều chỉnh của bạn" in history


def test_a_form_field_too_big_to_parse_gets_a_vietnamese_page_and_stores_nothing(
    signed_in: TestClient, register: Engine
) -> None:
    form = signed_in.get("/cong-dan/dieu-chinh")
    answer = signed_in.post(
        "/cong-dan/dieu-chinh",
        data={
            "csrf_token": csrf_of(form.text),
            "field": "address",
            "reason": "x" * (1024 * 1024 + 10),
        },
        files={"evidence": ("a.pdf", PDF, "application/pdf")},
    )
    assert answer.status_code == 400 and "Dữ liệu gửi lên không hợp lệ" in answer.text
    assert _count(register, CorrectionRequest) == 0
