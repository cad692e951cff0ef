"""A small register for the console tests: records in three provinces, their review items,
alerts and citizens' correction requests, and one staff account per role and area.

Provinces: Hà Nội (01); TP. Hồ Chí Minh (79), which since 1 July 2025 also holds the old
Bình Dương (74) — so a 79 staff member sees records whose BHXH code starts with 74 too.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, insert

from nidb.domain.staff import second_factor_required
from nidb.store import models
from nidb.store.models_web import CorrectionRequest
from nidb.web.staff_users import create_staff_user
from tests.conftest import STAFF_PASSWORD, enrol_second_factor
from tests.seed import register


@dataclass(frozen=True)
class Seeded:
    """Ids of what was seeded, by province."""

    items: dict[str, int]
    """record_id → review item id."""
    corrections: dict[str, int]
    """province → correction request id."""


CITIZENS = [
    # personal_id, full_name, dob, gender, birth province (the ID's first three digits)
    ("001090000001", "Nguyễn Văn An", "1990-05-01", "M", "001"),
    ("079085000002", "Trần Thị Bình", "1985-02-03", "F", "079"),
    ("074092000003", "Lê Văn Cường", "1992-07-08", "M", "074"),
    ("001080000004", "Phạm Thị Dung", "1980-01-01", "F", "001"),
]
RECORDS = [
    # record_id, bhxh_code, full_name (as declared), dob, gender, declared_id, status, verified id
    ("R-HN-1", "0112345678", "Nguyen Van An", "1990-05-01", "M", "001090000001", "review", None),
    ("R-HCM-1", "7912345678", "Trần Thị Bình", "1985-03-02", "F", "079085000002", "review", None),
    ("R-BD-1", "7412345678", "Lê Văn Cường", "1992", "M", "074092000003", "review", None),
    (
        "R-HN-2",
        "0198765432",
        "Phạm Thị Dung",
        "1980-01-01",
        "F",
        "001080000004",
        "verified",
        "001080000004",
    ),
    ("R-HCM-2", "7998765432", "Trần Thị Bình", "1985-02-03", "F", None, "verified", "079085000002"),
]
REASONS = {
    "R-HN-1": "NAME_DIACRITICS",
    "R-HCM-1": "DOB_DAY_MONTH_SWAPPED",
    "R-BD-1": "DOB_YEAR_ONLY",
}
CANDIDATES = {"R-HN-1": "001090000001", "R-HCM-1": "079085000002", "R-BD-1": "074092000003"}

STAFF = {
    # username: (role, scope_level, province, district)
    "rv.hn": ("reviewer", "province", "01", None),
    "rv.hcm": ("reviewer", "province", "79", None),
    "rv.tw": ("reviewer", "central", None, None),
    "rv.huyen": ("reviewer", "district", "01", "001"),
    "kt.hn": ("auditor", "province", "01", None),
    "kt.tw": ("auditor", "central", None, None),
    "pd.hn": ("approver", "province", "01", None),
    "qt.tw": ("admin", "central", None, None),
}


def seed_register(engine: Engine) -> Seeded:
    """Citizens, person records, open review items, alerts and correction requests."""
    items: dict[str, int] = {}
    with register(engine) as reg:
        conn = reg.conn
        for pid, name, dob, gender, birth in CITIZENS:
            reg.citizen(pid, name, dob, gender, birth_province=birth)
        for rid, code, name, dob, gender, declared, status, verified in RECORDS:
            reg.person(
                code, name, dob, gender, record_id=rid, declared_id=declared,
                declared_id_kind="personal" if declared else None, status=status,
                verified=verified,
            )  # fmt: skip
        for rid, reasons in REASONS.items():
            items[rid] = conn.execute(
                insert(models.ReviewItem).values(
                    record_id=rid, kind="verification", candidate_personal_id=CANDIDATES[rid],
                    score=0.9, reasons=reasons,
                )
            ).inserted_primary_key[0]  # fmt: skip
        for province, subject in (("01", "0198765432"), ("79", "7998765432")):
            conn.execute(
                insert(models.Alert).values(
                    kind="card_after_death", province=province, subject_type="person",
                    subject_id=subject, detail={"explanation_vi": "thẻ dùng sau khi chết"},
                )
            )  # fmt: skip
        corrections = {}
        for province, pid in (("01", "001080000004"), ("79", "079085000002")):
            corrections[province] = conn.execute(
                insert(CorrectionRequest).values(
                    personal_id=pid, field="address", current_value="cũ",
                    new_value="Số 1 đường Lê Lợi", reason="Đã chuyển nhà", status="submitted",
                )
            ).inserted_primary_key[0]  # fmt: skip
    return Seeded(items, corrections)


def seed_staff(engine: Engine, names: tuple[str, ...] | None = None) -> None:
    """The staff accounts of ``STAFF`` (all, or ``names``), password ``STAFF_PASSWORD``."""
    for username, (role, level, province, district) in STAFF.items():
        if names is not None and username not in names:
            continue
        create_staff_user(
            engine, username=username, full_name=f"Cán bộ {username}", password=STAFF_PASSWORD,
            role=role, scope_level=level, province_code=province, district_code=district,
            actor="test",
        )  # fmt: skip
        if second_factor_required(role):
            enrol_second_factor(engine, username)
