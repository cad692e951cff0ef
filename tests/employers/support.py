"""Shared set-up of the employer tests: two employers, citizens to declare, signed submissions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from nidb.employers.accounts import enrol
from nidb.employers.gate import DECLARATION_SERVICE, EMPLOYER_PURPOSE, employer_member
from nidb.protocol.envelope import NIDB_MEMBER, new_header, sign
from nidb.protocol.keys import SigningKey
from tests.seed import register

EMPLOYER = "TA0001A"
OTHER_EMPLOYER = "TB0002B"
WORKERS = {  # personal ID -> (name, birth date): citizens of the population extract
    "001090000101": ("Trần Thị Bình", "1990-05-12"),
    "001092000202": ("Lê Văn Cường", "1992-11-03"),
    "079088000303": ("Phạm Minh Đức", "1988-01-20"),
}


def seed_employers(engine: Engine) -> None:
    """Two active employers (Hà Nội enterprise, Hồ Chí Minh cooperative) and three citizens."""
    with register(engine) as reg:
        reg.employer(EMPLOYER, "Công ty TNHH An Bình", province="01", enterprise_code="0101234567")
        reg.employer(OTHER_EMPLOYER, "HTX Bình Minh", province="79", employer_type="cooperative")
        for pid, (name, born) in WORKERS.items():
            reg.citizen(pid, name, born, gender="F" if pid[3] in "13579" else "M")


def enrolled(engine: Engine, code: str = EMPLOYER) -> SigningKey:
    """Enrol ``code`` with a fresh key; returns the key."""
    key = SigningKey.generate()
    with engine.begin() as conn:
        enrol(conn, code, key.public_b64, "test:staff")
    return key


def signed(
    key: SigningKey,
    body: dict[str, Any],
    code: str = EMPLOYER,
    *,
    service: str = DECLARATION_SERVICE,
    issued: datetime | None = None,
) -> dict[str, Any]:
    """A declaration envelope signed by ``key`` as employer ``code``."""
    header = new_header(
        employer_member(code), NIDB_MEMBER, service, EMPLOYER_PURPOSE, issued or datetime.now(UTC)
    )
    return sign(header, body, key)


def increase(number: str, *workers: dict[str, Any], month: str = "2026-11") -> dict[str, Any]:
    return {"declaration_no": number, "kind": "increase", "month": month, "workers": list(workers)}


def new_worker(pid: str, wage: int = 9_000_000, **extra: Any) -> dict[str, Any]:
    name, born = WORKERS[pid]
    return {
        "personal_id": pid,
        "full_name": name,
        "date_of_birth": born,
        "wage": wage,
        "position": "Nhân viên",
        "contract_type": "indefinite",
        "facility_code": "01001",
        **extra,
    }
