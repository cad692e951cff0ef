"""A small register for the online services: a household, claimants, their contributions."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Connection, Engine, insert

from nidb.services.workdays import add_months, today_vn
from nidb.store import models

TODAY = today_vn()
HOUSEHOLD = "HK-100"
# household head (man, 1980), wife (1982), son (2010), a daughter with an employer's card (2000)
HEAD, WIFE, SON, WORKER = "001080000101", "001182000102", "001210000103", "001300000104"
HEAD_CODE, WIFE_CODE, SON_CODE, WORKER_CODE = "0100000101", "0100000102", "0100000103", "0100000104"
# a claimant whose last contribution was 14 months ago; an employee laid off last month
LEFT, LAID_OFF = "079085000201", "079190000202"
LEFT_CODE, LAID_OFF_CODE = "7900000201", "7900000202"
STRANGER = "001075000999"  # a citizen of the register with no BHXH code


def add_person(
    conn: Connection,
    pid: str,
    name: str,
    born: str,
    gender: str,
    code: str | None,
    *,
    household: str | None = HOUSEHOLD,
    address: str | None = "Số 1 Tràng Tiền, Hoàn Kiếm, Hà Nội",
) -> None:
    from nidb.domain.names import name_forms

    forms = name_forms(name)
    conn.execute(
        insert(models.Citizen).values(
            personal_id=pid,
            full_name=forms.exact,
            name_base=forms.base,
            date_of_birth=born,
            dob_precision="day",
            birth_year=int(born[:4]),
            gender=gender,
            birth_province=pid[:3],
            permanent_address=address,
            household_id=household,
            status="alive",
        )
    )
    if code is None:
        return
    conn.execute(
        insert(models.Person).values(
            record_id=f"R-{pid}",
            bhxh_code=code,
            full_name=forms.exact,
            name_base=forms.base,
            date_of_birth=born,
            dob_precision="day",
            birth_year=int(born[:4]),
            gender=gender,
            declared_id=pid,
            birth_province=pid[:3],
            verification_status="verified",
            verified_personal_id=pid,
            verified_at=datetime.now(UTC),
        )
    )


def add_card(
    conn: Connection, code: str, group: str, valid_from: date, valid_to: date, province: str = "01"
) -> None:
    level = 4
    conn.execute(
        insert(models.HealthCard).values(
            card_code=f"{group}{level}{province}{code}",
            bhxh_code=code,
            group_code=group,
            benefit_level=level,
            province_code=province,
            facility_code=f"{province}001",
            valid_from=valid_from,
            valid_to=valid_to,
            status="active",
        )
    )


def add_months_of_contributions(
    conn: Connection, code: str, first: date, last: date, wage: int, *, bhtn: bool = True
) -> int:
    rows = []
    month = first.replace(day=1)
    while month <= last:
        rows.append(
            {
                "bhxh_code": code,
                "employer_code": "DN0001",
                "period": month,
                "wage": wage,
                "bhxh_amount": wage * 255 // 1000,
                "bhyt_amount": wage * 45 // 1000,
                "bhtn_amount": wage * 2 // 100 if bhtn else 0,
            }
        )
        month = add_months(month, 1)
    conn.execute(insert(models.Contribution), rows)
    return len(rows)


def seed(engine: Engine) -> None:
    """The register the service tests start from."""
    with engine.begin() as conn:
        conn.execute(
            insert(models.Employer).values(
                employer_code="DN0001",
                name="Công ty TNHH Minh Long",
                province="79",
                employer_type="enterprise",
                status="active",
            )
        )
        add_person(conn, HEAD, "Nguyễn Văn Hùng", "1980-04-02", "M", HEAD_CODE)
        add_person(conn, WIFE, "Trần Thị Mai", "1982-07-09", "F", WIFE_CODE)
        add_person(conn, SON, "Nguyễn Minh Khôi", "2010-11-20", "M", SON_CODE)
        add_person(conn, WORKER, "Nguyễn Thị Lan", "2000-01-15", "F", WORKER_CODE)
        add_person(conn, STRANGER, "Lê Văn Tư", "1975-05-05", "M", None, household="HK-999")
        add_person(conn, LEFT, "Phạm Văn Bình", "1985-02-03", "M", LEFT_CODE, household="HK-200")
        add_person(
            conn, LAID_OFF, "Võ Thị Hoa", "1990-06-12", "F", LAID_OFF_CODE, household="HK-300"
        )
        # the head's household card ends in 10 days; the wife's lapsed; the son never had one
        add_card(conn, HEAD_CODE, "GD", TODAY - timedelta(days=355), TODAY + timedelta(days=10))
        add_card(conn, WIFE_CODE, "GD", TODAY - timedelta(days=500), TODAY - timedelta(days=100))
        add_card(conn, WORKER_CODE, "DN", TODAY - timedelta(days=100), TODAY + timedelta(days=200))
        # 2012-01 .. 14 months ago: 12 months before 2014 and the rest after, 8,000,000 đ
        add_months_of_contributions(
            conn, LEFT_CODE, date(2012, 1, 1), add_months(TODAY, -14), 8_000_000, bhtn=False
        )
        # 40 months up to last month, 10,000,000 đ
        add_months_of_contributions(
            conn, LAID_OFF_CODE, add_months(TODAY, -40), add_months(TODAY, -1), 10_000_000
        )


@pytest.fixture
def register(engine: Engine) -> Iterator[Engine]:
    """The engine over a seeded register."""
    seed(engine)
    yield engine


# --- web: the foundation's fixtures, and a citizen signed in (VNeID stands outside this scope) ---
# (the browser journeys live in tests/web/test_services_browser.py: the session-scoped
# Playwright browser must be the foundation's one, never a second instance)
from tests.web.conftest import (  # noqa: E402,F401  (fixtures used by the page tests)
    client,
    live_server,
    make_staff_user,
    web_app,
)


def citizen_session(engine: Engine, personal_id: str, full_name: str) -> str:
    """A signed-in citizen's cookie value, as the VNeID sign-in would have created it."""
    import secrets

    from nidb.store.models_web import WebSession
    from nidb.web.sessions import token_hash

    token = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(
            insert(WebSession).values(
                token_hash=token_hash(token),
                kind="citizen",
                subject=personal_id,
                data={"full_name": full_name},
                csrf_token=secrets.token_urlsafe(32),
                last_seen_at=now,
                expires_at=now + timedelta(hours=1),
            )
        )
    return token
