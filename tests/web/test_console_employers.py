"""Staff enrol employers from the console (``/can-bo/don-vi/``): find by code or tax code, enrol
with a public key and a first password (typed, or issued and shown once), revoke a key with a
reason, lift a sign-in lock; by role (``employer_account.read`` / ``.manage``) and area, every
change audited and in one transaction (SQLite and PostgreSQL, over HTTP)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from nidb.domain.staff import StaffRole, roles_allowed
from nidb.employers.gate import admit
from nidb.protocol.errors import RefusalCode, Refused
from nidb.protocol.keys import SigningKey
from nidb.store.models import AuditEntry
from nidb.store.models_employers import EmployerAccount, EmployerKey
from tests import seed
from tests.employers.support import EMPLOYER, OTHER_EMPLOYER, seed_employers, signed
from tests.web.conftest import csrf_of, staff_sign_in_http

ISSUED = re.compile(r'<code id="mat-khau-moi">([^<]+)</code>')
FIRST_PASSWORD = "Don-vi-An-Binh-26"
BAD_KEY_VI = "Khoá công khai không hợp lệ: cần đúng 32 byte khoá Ed25519 mã hoá base64url"
BAD_KEY_EN = "Public key must be 32 Ed25519 bytes in base64url."


@pytest.fixture
def staff(engine: Engine, make_staff_user: Callable[..., str]) -> None:
    """TA0001A in Hà Nội (tax code 0101234567), TB0002B in TP. Hồ Chí Minh, a closed DN0003C
    in Hà Nội; a Hà Nội reviewer, a central auditor, a Hà Nội approver."""
    seed_employers(engine)
    with seed.register(engine) as reg:
        reg.employer("DN0003C", "Công ty đã giải thể", province="01", status="closed")
    make_staff_user("rv.hn", "reviewer", province_code="01")
    make_staff_user("kt.tw", "auditor", scope_level="central", province_code=None)
    make_staff_user("pd.hn", "approver", province_code="01")


def as_staff(client: TestClient, username: str) -> TestClient:
    client.cookies.clear()
    assert staff_sign_in_http(client, username).status_code == 303
    return client


def post(client: TestClient, path: str, **data: str) -> Any:
    """POST a form as a reviewer (the session's token, read from a page with forms)."""
    token = csrf_of(client.get(f"/can-bo/don-vi/{EMPLOYER}").text)
    return client.post(path, data={"csrf_token": token, **data})


def audit(engine: Engine) -> list[tuple[str, str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(AuditEntry.actor, AuditEntry.action, AuditEntry.subject_id)
            .where(AuditEntry.action.like("employer.%"))
            .order_by(AuditEntry.id)
        ).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def employer_sign_in(client: TestClient, password: str) -> Any:
    client.cookies.clear()
    form = client.get("/don-vi/dang-nhap")
    return client.post(
        "/don-vi/dang-nhap",
        data={"employer_code": EMPLOYER, "password": password, "csrf_token": csrf_of(form.text)},
    )


def test_the_rule_table_lets_reviewers_and_admins_enrol_and_auditors_look() -> None:
    assert roles_allowed("employer_account.manage") == (StaffRole.REVIEWER, StaffRole.ADMIN)
    assert roles_allowed("employer_account.read") == (
        StaffRole.REVIEWER,
        StaffRole.AUDITOR,
        StaffRole.ADMIN,
    )


def test_an_employer_is_found_by_tax_code_or_code_within_the_area(
    client: TestClient, staff: None
) -> None:
    as_staff(client, "rv.hn")
    assert 'href="/can-bo/don-vi/"' in client.get("/can-bo/").text  # linked from home
    by_tax = client.get("/can-bo/don-vi/?q=0101234567").text
    assert f'href="/can-bo/don-vi/{EMPLOYER}"' in by_tax and "Chưa đăng ký" in by_tax
    by_code = client.get(f"/can-bo/don-vi/?q={EMPLOYER.lower()}").text
    assert "Công ty TNHH An Bình" in by_code
    other = client.get(f"/can-bo/don-vi/?q={OTHER_EMPLOYER}").text
    assert "Không tìm thấy đơn vị" in other and f"/can-bo/don-vi/{OTHER_EMPLOYER}" not in other
    assert client.get(f"/can-bo/don-vi/{OTHER_EMPLOYER}").status_code == 404
    assert client.get("/can-bo/don-vi/<script>").status_code == 404
    assert post(client, f"/can-bo/don-vi/{OTHER_EMPLOYER}/dang-ky").status_code == 404
    as_staff(client, "kt.tw")  # central: every province
    assert "HTX Bình Minh" in client.get(f"/can-bo/don-vi/?q={OTHER_EMPLOYER}").text


def test_a_bad_key_is_refused_in_both_languages_and_nothing_is_written(
    client: TestClient, engine: Engine, staff: None
) -> None:
    as_staff(client, "rv.hn")
    bad = post(
        client,
        f"/can-bo/don-vi/{EMPLOYER}/dang-ky",
        public_key="not a key!",
        password_way="dat",
        password=FIRST_PASSWORD,
        password_again=FIRST_PASSWORD,
    )
    assert bad.status_code == 400
    assert BAD_KEY_VI in bad.text and BAD_KEY_EN in bad.text
    assert 'aria-invalid="true"' in bad.text and "not a key!" in bad.text  # kept to correct
    short = post(
        client,
        f"/can-bo/don-vi/{EMPLOYER}/dang-ky",
        public_key=SigningKey.generate().public_b64[:-2],
        password_way="khong",
    )
    assert short.status_code == 400 and BAD_KEY_VI in short.text
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(EmployerAccount)).scalar() == 0
    assert audit(engine) == []


def test_a_weak_password_refuses_the_whole_enrolment(
    client: TestClient, engine: Engine, staff: None
) -> None:
    as_staff(client, "rv.hn")
    weak = post(
        client,
        f"/can-bo/don-vi/{EMPLOYER}/dang-ky",
        public_key=SigningKey.generate().public_b64,
        password_way="dat",
        password="ngan",
        password_again="ngan",
    )
    assert weak.status_code == 400
    assert "Mật khẩu phải có ít nhất 12 ký tự." in weak.text
    mismatch = post(
        client,
        f"/can-bo/don-vi/{EMPLOYER}/dang-ky",
        public_key=SigningKey.generate().public_b64,
        password_way="dat",
        password=FIRST_PASSWORD,
        password_again=FIRST_PASSWORD + "x",
    )
    assert "Hai lần nhập mật khẩu không giống nhau." in mismatch.text
    assert audit(engine) == []


def test_enrolling_with_a_typed_password_lets_the_employer_sign_in(
    client: TestClient, engine: Engine, staff: None
) -> None:
    as_staff(client, "rv.hn")
    key = SigningKey.generate()
    done = post(
        client,
        f"/can-bo/don-vi/{EMPLOYER}/dang-ky",
        public_key=f"  {key.public_b64}\n",
        password_way="dat",
        password=FIRST_PASSWORD,
        password_again=FIRST_PASSWORD,
    )
    assert done.status_code == 303 and done.headers["location"] == f"/can-bo/don-vi/{EMPLOYER}"
    shown = client.get(done.headers["location"]).text
    assert "đã đăng ký giao dịch điện tử" in shown and key.kid in shown
    assert "Đang hiệu lực" in shown and "Đã đặt" in shown
    assert audit(engine) == [
        ("staff:rv.hn", "employer.enrolled", EMPLOYER),
        ("staff:rv.hn", "employer.password_set", EMPLOYER),
    ]
    with engine.connect() as conn:
        details = conn.execute(select(AuditEntry.detail)).scalars().all()
    assert all(FIRST_PASSWORD not in str(d) for d in details)
    assert employer_sign_in(client, FIRST_PASSWORD).status_code == 303
    with engine.begin() as conn:  # the key signs declarations now
        admit(conn, signed(key, {"declaration_no": "X-1", "kind": "increase", "workers": []}))


def test_an_issued_password_is_shown_once_and_works(
    client: TestClient, engine: Engine, staff: None
) -> None:
    as_staff(client, "rv.hn")
    done = post(
        client,
        f"/can-bo/don-vi/{EMPLOYER}/dang-ky",
        public_key=SigningKey.generate().public_b64,
        password_way="cap",
    )
    assert done.status_code == 200 and "chỉ hiện <strong>một lần</strong>" in done.text
    found = ISSUED.search(done.text)
    assert found
    issued = found.group(1)
    assert len(issued) == 19 and issued.count("-") == 3
    assert issued not in client.get(f"/can-bo/don-vi/{EMPLOYER}").text
    with engine.connect() as conn:
        stored = conn.execute(select(EmployerAccount.password_hash)).scalar_one()
        details = conn.execute(select(AuditEntry.detail)).scalars().all()
    assert stored and stored.startswith("$argon2id$") and issued not in stored
    assert all(issued not in str(d) for d in details)
    assert "Đã cấp, đơn vị chưa đổi" in client.get(f"/can-bo/don-vi/{EMPLOYER}").text
    signed_in = employer_sign_in(client, issued)  # the employer must choose its own first
    assert signed_in.status_code == 303
    assert signed_in.headers["location"] == "/don-vi/doi-mat-khau"
    held = client.get("/don-vi/ho-so")
    assert held.headers["location"] == "/don-vi/doi-mat-khau?next=/don-vi/ho-so"
    form = client.get("/don-vi/doi-mat-khau")
    assert "Mật khẩu đơn vị đang dùng do cơ quan BHXH cấp." in form.text
    change = {
        "csrf_token": csrf_of(form.text),
        "current_password": issued,
        "new_password": FIRST_PASSWORD,
        "new_password_again": FIRST_PASSWORD,
    }
    weak = client.post(
        "/don-vi/doi-mat-khau",
        data={**change, "new_password": "ngan", "new_password_again": "ngan"},
    )
    assert weak.status_code == 400 and "Mật khẩu phải có ít nhất 12 ký tự." in weak.text
    done = client.post("/don-vi/doi-mat-khau", data=change)
    assert done.status_code == 303 and done.headers["location"] == "/don-vi/"
    assert client.get("/don-vi/ho-so").status_code == 200
    assert employer_sign_in(client, issued).status_code == 401  # the issued one is gone
    assert employer_sign_in(client, FIRST_PASSWORD).headers["location"] == "/don-vi/"
    assert ("employer-web:TA0001A", "employer.password_changed", EMPLOYER) in audit(engine)


def test_a_key_is_revoked_with_a_reason_and_then_refused(
    client: TestClient, engine: Engine, staff: None
) -> None:
    as_staff(client, "rv.hn")
    key = SigningKey.generate()
    post(
        client,
        f"/can-bo/don-vi/{EMPLOYER}/dang-ky",
        public_key=key.public_b64,
        password_way="khong",
    )
    no_reason = post(client, f"/can-bo/don-vi/{EMPLOYER}/thu-hoi-khoa", kid=key.kid, reason=" ")
    assert no_reason.status_code == 400 and "Vui lòng ghi lý do thu hồi khoá." in no_reason.text
    done = post(
        client, f"/can-bo/don-vi/{EMPLOYER}/thu-hoi-khoa", kid=key.kid, reason="mất thiết bị ký"
    )
    assert done.status_code == 303
    page = client.get(f"/can-bo/don-vi/{EMPLOYER}").text
    assert "Đã thu hồi" in page and "mất thiết bị ký" in page and "(rv.hn)" in page
    assert "Đơn vị không còn khoá nào đang hiệu lực" in page
    again = post(client, f"/can-bo/don-vi/{EMPLOYER}/thu-hoi-khoa", kid=key.kid, reason="lần hai")
    assert again.status_code == 400 and "không có khoá đang hiệu lực" in again.text
    with engine.connect() as conn:
        revoked = conn.execute(select(EmployerKey.revoked_by, EmployerKey.revoke_reason)).one()
    assert tuple(revoked) == ("staff:rv.hn", "mất thiết bị ký")
    assert audit(engine)[-1] == ("staff:rv.hn", "employer.key_revoked", EMPLOYER)
    with engine.begin() as conn, pytest.raises(Refused) as refused:
        admit(conn, signed(key, {"declaration_no": "X-2", "kind": "increase", "workers": []}))
    assert refused.value.code is RefusalCode.BAD_SIGNATURE
    added = SigningKey.generate()
    assert (
        post(client, f"/can-bo/don-vi/{EMPLOYER}/them-khoa", new_key=key.public_b64).status_code
        == 400
    )  # a key once registered is never registered again
    assert (
        post(client, f"/can-bo/don-vi/{EMPLOYER}/them-khoa", new_key=added.public_b64).status_code
        == 303
    )


def test_a_locked_employer_is_unlocked_from_the_console(
    client: TestClient, engine: Engine, staff: None
) -> None:
    as_staff(client, "rv.hn")
    post(
        client,
        f"/can-bo/don-vi/{EMPLOYER}/dang-ky",
        public_key=SigningKey.generate().public_b64,
        password_way="dat",
        password=FIRST_PASSWORD,
        password_again=FIRST_PASSWORD,
    )
    for _ in range(5):
        employer_sign_in(client, "Sai-mat-khau-2026")
    assert employer_sign_in(client, FIRST_PASSWORD).status_code == 401
    as_staff(client, "rv.hn")
    page = client.get(f"/can-bo/don-vi/{EMPLOYER}").text
    assert "Đang bị khoá" in page and "còn 15 phút" in page
    assert post(client, f"/can-bo/don-vi/{EMPLOYER}/mo-khoa").status_code == 303
    assert ("staff:rv.hn", "employer.unlocked", EMPLOYER) in audit(engine)
    assert employer_sign_in(client, FIRST_PASSWORD).status_code == 303


def test_auditors_only_look_and_approvers_may_not_come_in(
    client: TestClient, engine: Engine, staff: None
) -> None:
    as_staff(client, "kt.tw")
    page = client.get(f"/can-bo/don-vi/{EMPLOYER}")
    assert page.status_code == 200 and "chỉ được xem" in page.text
    assert 'action="/can-bo/don-vi/TA0001A/dang-ky"' not in page.text
    token = csrf_of(client.get("/can-bo/don-vi/").text)
    refused = client.post(
        f"/can-bo/don-vi/{EMPLOYER}/dang-ky",
        data={"csrf_token": token, "public_key": SigningKey.generate().public_b64},
    )
    assert refused.status_code == 403
    as_staff(client, "pd.hn")
    assert client.get("/can-bo/don-vi/").status_code == 403
    assert 'href="/can-bo/don-vi/"' not in client.get("/can-bo/").text
    assert audit(engine) == []


def test_a_closed_employer_cannot_be_enrolled(client: TestClient, staff: None) -> None:
    as_staff(client, "rv.hn")
    page = client.get("/can-bo/don-vi/DN0003C").text
    assert "Đơn vị đã đóng nên không thể đăng ký giao dịch điện tử." in page
    refused = post(
        client,
        "/can-bo/don-vi/DN0003C/dang-ky",
        public_key=SigningKey.generate().public_b64,
        password_way="khong",
    )
    assert (
        refused.status_code == 400
        and "Đơn vị đã đóng, không thể đăng ký giao dịch." in refused.text
    )
