"""A small register built by hand, so that every quality measure has a known answer.

The comments say what each row is there to exercise. The reference day is 2026-09-20 (the
cut-off of 2026Q3); R6 is verified after it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert

from nidb.store import models
from tests.seed import register

AS_OF = date(2026, 9, 20)


def _person(record_id: str, bhxh: str, **values: Any) -> dict[str, Any]:
    """Keyword arguments of ``Register.person``: Nguyễn Văn An, born 1990-01-01, living at
    Số 1, Hà Nội, unverified, unless ``values`` say otherwise."""
    return {"bhxh_code": bhxh, "record_id": record_id, "address": "Số 1, Hà Nội", **values}


def _at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


CITIZENS = [
    ("001090000001", "Nguyễn Văn An", None),
    ("079080000002", "Trần Thị Bình", date(2026, 8, 1)),  # died before the cut-off
    ("001085000006", "Lê Văn Sáu", None),
]

PERSONS = [
    # R1, R4: one person (C1) under two BHXH codes -> both not clean
    _person("R1", "0100000001", declared_id="001090000001", declared_id_kind="cccd",
            birth_province="001", employer="E1", verified="001090000001", verified_at=_at("2026-09-01T03:00:00")),
    # R2: dead in the registry, still holding an active card and a pension -> not alive
    _person("R2", "0100000002", full_name="Trần Thị Bình", gender="F",
            declared_id="079080000002", declared_id_kind="cccd", birth_province="079",
            employer="E1", verified="079080000002", verified_at=_at("2026-09-01T03:00:00")),
    # R3: no gender, no address (incomplete); an open duplicate review item (not clean)
    _person("R3", "0100000003", gender=None, address=None, declared_id="079095000003",
            declared_id_kind="cccd", birth_province="079"),
    _person("R4", "0100000004", declared_id="001090000001", declared_id_kind="cccd",
            birth_province="001", verified="001090000001", verified_at=_at("2026-09-02T03:00:00")),
    # R5: a 12-digit ID failing the structure check (not clean), no birth province
    _person("R5", "0100000005", declared_id="123456789012", declared_id_kind="cccd_invalid",
            employer="E2"),
    # R6: verified after the cut-off (counts as verified only from 2026-10-05)
    _person("R6", "0100000006", declared_id="001085000006", declared_id_kind="cccd",
            birth_province="001", employer="E1", verified="001085000006", verified_at=_at("2026-10-05T03:00:00")),
]  # fmt: skip

EMPLOYERS: list[dict[str, Any]] = [
    {"employer_code": "E1", "enterprise_code": "0101234567", "name": "Công ty A",
     "province": "01", "address": "Hà Nội", "business_line": "Dệt may",
     "employer_type": "enterprise", "status": "active", "phone": "0241234567", "email": None},
    # E2: enterprise without a registry code, no line, no contact, closed with a worker left
    {"employer_code": "E2", "enterprise_code": None, "name": "Công ty B", "province": "79",
     "address": "TP. HCM", "business_line": None, "employer_type": "enterprise",
     "status": "closed", "phone": None, "email": None},
    {"employer_code": "E3", "enterprise_code": None, "name": "UBND phường", "province": "79",
     "address": "TP. HCM", "business_line": "Quản lý nhà nước", "employer_type": "state",
     "status": "active", "phone": None, "email": "ubnd@example.invalid"},
]  # fmt: skip


def _period(bhxh: str, employer: str | None, start: date, end: date | None) -> dict[str, Any]:
    """Keyword arguments of ``Register.period``: a BHXH period as an employee (DN)."""
    return {"bhxh_code": bhxh, "employer": employer, "start": start, "end": end}


PERIODS = [
    _period("0100000001", "E1", date(2026, 1, 1), None),
    _period("0100000002", "E1", date(2025, 1, 1), None),  # the dead person's, still open
    _period("0100000005", "E2", date(2026, 1, 1), None),  # open at a closed employer
    _period("0100000003", None, date(2026, 2, 1), date(2026, 5, 1)),  # DN without employer
    _period("0100000001", "E1", date(2025, 6, 1), date(2026, 3, 1)),  # overlaps the first
    _period("0100000006", "E1", date(2026, 10, 1), None),  # begins after the cut-off
]


def _card(code: str, group: str, province: str, facility: str, status: str,
          valid_from: date, valid_to: date) -> dict[str, Any]:  # fmt: skip
    """Keyword arguments of ``Register.card``: the holder and level read from the card code."""
    return {"bhxh_code": code[5:], "group": group, "card_code": code, "level": int(code[2]),
            "province": province, "facility": facility, "status": status,
            "valid_from": valid_from, "valid_to": valid_to}  # fmt: skip


Y_FROM, Y_TO = date(2026, 1, 1), date(2026, 12, 31)
CARDS = [
    _card("DN4010100000001", "DN", "01", "01001", "active", Y_FROM, Y_TO),
    _card("DN4010100000002", "DN", "01", "01002", "active", Y_FROM, Y_TO),  # holder dead
    # a second active card of R1 (not clean, with the first) and no facility chosen
    _card("HT3010100000001", "HT", "01", "01000", "active", date(2026, 6, 1), date(2027, 5, 31)),
    _card("GD4790100000005", "GD", "79", "79001", "suspended", Y_FROM, Y_TO),
    _card("ZZ4790100000005", "ZZ", "79", "79002", "active", Y_FROM, Y_TO),  # unknown group
]

BENEFITS: list[dict[str, Any]] = [
    {"bhxh_code": "0100000002", "kind": "pension", "start_date": date(2020, 1, 1),
     "end_date": None, "monthly_amount": 5_000_000, "lump_sum": None, "status": "active",
     "decided_at": _at("2019-12-01T00:00:00")},  # paid on after death
    {"bhxh_code": "0100000001", "kind": "one_time", "start_date": date(2026, 7, 15),
     "end_date": date(2026, 7, 15), "monthly_amount": None, "lump_sum": None,
     "status": "ended", "decided_at": _at("2026-07-10T00:00:00")},  # lump sum missing
    {"bhxh_code": "0100000009", "kind": "maternity", "start_date": date(2026, 3, 1),
     "end_date": date(2026, 8, 31), "monthly_amount": None, "lump_sum": 10_000_000,
     "status": "ended", "decided_at": None},  # unknown holder, no decision date
]  # fmt: skip


def load(engine: Engine) -> None:
    """Insert the register, review items, alerts and visits."""
    with register(engine) as reg:
        conn = reg.conn
        for pid, name, death in CITIZENS:
            reg.citizen(pid, name, f"19{pid[4:6]}-01-01", "M", died=death)
        for employer in EMPLOYERS:
            reg.employer(**employer)
        for person in PERSONS:
            reg.person(**person)
        for period in PERIODS:
            reg.period(**period)
        for card in CARDS:
            reg.card(**card)
        for b in BENEFITS:
            reg.benefit(b["bhxh_code"], b["kind"], b["start_date"], end=b["end_date"],
                        monthly=b["monthly_amount"], lump_sum=b["lump_sum"], status=b["status"],
                        decided_at=b["decided_at"])  # fmt: skip
        conn.execute(insert(models.ReviewItem), [
            {"record_id": "R3", "kind": "dedupe", "status": "open"},
            {"record_id": "R6", "kind": "dedupe", "status": "accepted"},
        ])  # fmt: skip
        alert = {"province": "01", "subject_type": "card", "detail": {}}
        conn.execute(insert(models.Alert), [
            {**alert, "kind": "card_after_death", "subject_id": "a", "status": "open",
             "created_at": _at("2026-09-10T00:00:00")},
            {**alert, "kind": "card_after_death", "subject_id": "b", "status": "open",
             "created_at": _at("2026-09-11T00:00:00")},
            {**alert, "kind": "benefit_after_death", "subject_id": "c", "status": "confirmed",
             "created_at": _at("2026-09-12T00:00:00")},
            {**alert, "kind": "benefit_after_death", "subject_id": "d", "status": "open",
             "created_at": _at("2026-10-01T00:00:00")},  # after the cut-off
        ])  # fmt: skip
        visits = []
        for i in range(64):  # 45 × J18.9 (chapter X) in Hà Nội; 15 × E11 (IV), 4 × K29 (XI) in 79
            icd, facility = (
                ("J18.9", "01001") if i < 45 else ("E11", "79001") if i < 60 else ("K29", "79001")
            )
            admitted = datetime(2026, 9, 1, 8, 0) + timedelta(days=i % 15)
            visits.append({
                "visit_id": f"V{i}", "card_code": "DN4010100000001", "bhxh_code": "0100000001",
                "facility_code": facility, "admitted_at": admitted,
                "discharged_at": admitted + timedelta(hours=2), "inpatient": False,
                "icd10": icd, "total_cost": 100_000, "insurer_paid": 80_000,
                "patient_paid": 20_000,
            })  # fmt: skip
        conn.execute(insert(models.HealthVisit), visits)
