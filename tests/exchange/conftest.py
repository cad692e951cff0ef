"""A small register with one person, one card, participation and an employer; partners."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert

from nidb.api.app import create_app
from nidb.exchange.partners import add_grant, add_partner
from nidb.protocol.client import ExchangeClient
from nidb.protocol.keys import SigningKey, VerifyKey
from nidb.store import models

BHXH = "0123456789"
PID = "001085012345"
HOSPITAL = "VN/GOV/BYT/BV-01001"
MINISTRY = "VN/GOV/BLDTBXH/CSDL-ASXH"
TODAY = date.today()


def seed_register(engine: Engine) -> None:
    """One verified person with a current DN card, BHXH/BHYT/BHTN periods and contributions."""
    with engine.begin() as conn:
        conn.execute(
            insert(models.Citizen).values(
                personal_id=PID,
                full_name="Nguyễn Văn An",
                name_base="nguyen van an",
                date_of_birth="1985-03-17",
                dob_precision="day",
                birth_year=1985,
                gender="M",
                birth_province="01",
                permanent_address="Hà Nội",
                household_id="HK-001",
                status="alive",
            )
        )
        conn.execute(
            insert(models.Person).values(
                record_id="R1",
                bhxh_code=BHXH,
                full_name="Nguyễn Văn An",
                name_base="nguyen van an",
                date_of_birth="1985-03-17",
                dob_precision="day",
                birth_year=1985,
                gender="M",
                declared_id=PID,
                birth_province="01",
                address="Hà Nội",
                employer_code="TA0001A",
                verification_status="verified",
                verified_personal_id=PID,
            )
        )
        conn.execute(
            insert(models.Employer).values(
                employer_code="TA0001A",
                enterprise_code="0101234567",
                name="Công ty TNHH An Bình",
                province="01",
                employer_type="enterprise",
                registered_workers=12,
                status="active",
            )
        )
        conn.execute(
            insert(models.HealthCard).values(
                card_code=f"DN401{BHXH}",
                bhxh_code=BHXH,
                group_code="DN",
                benefit_level=4,
                province_code="01",
                facility_code="01001",
                valid_from=date(TODAY.year, 1, 1),
                valid_to=date(TODAY.year, 12, 31),
                five_years_from=date(2020, 1, 1),
                status="active",
            )
        )
        for scheme in ("BHXH", "BHYT", "BHTN"):
            conn.execute(
                insert(models.ParticipationPeriod).values(
                    bhxh_code=BHXH,
                    scheme=scheme,
                    employer_code="TA0001A",
                    participant_type="DN",
                    start_month=date(2015, 1, 1),
                )
            )
        conn.execute(
            insert(models.Contribution),
            [
                {
                    "bhxh_code": BHXH,
                    "employer_code": "TA0001A",
                    "period": date(2025, month, 1),
                    "wage": 10_000_000,
                    "bhxh_amount": 2_500_000,
                    "bhyt_amount": 450_000,
                    "bhtn_amount": 200_000,
                }
                for month in range(1, 4)
            ],
        )


@dataclass
class Exchange:
    engine: Engine
    http: TestClient
    server_key: SigningKey
    hospital_key: SigningKey
    ministry_key: SigningKey

    def client(self, sender: str = HOSPITAL, key: SigningKey | None = None) -> ExchangeClient:
        return ExchangeClient(
            "http://testserver",
            sender,
            key or (self.hospital_key if sender == HOSPITAL else self.ministry_key),
            server_key=VerifyKey.from_b64(self.server_key.public_b64),
            http=self.http,
        )


@pytest.fixture
def exchange(engine: Engine) -> Iterator[Exchange]:
    """nidb's API over a seeded register; a hospital granted card checks (group đ) for KCB and
    a ministry granted person summaries and participation history (a, d, e) for GQCD."""
    seed_register(engine)
    hospital, ministry, server = SigningKey.generate(), SigningKey.generate(), SigningKey.generate()
    add_partner(engine, HOSPITAL, "Bệnh viện Bạch Mai", "hospital", hospital.public_b64, "test")
    add_grant(engine, HOSPITAL, "card.check/v1", "KCB", "dd", "Luật BHYT Điều 28", "test")
    add_partner(
        engine, MINISTRY, "Bộ LĐTBXH", "molisa", ministry.public_b64, "test", rate_limit=1000
    )
    for service in ("person.summary/v1", "participation.history/v1"):
        add_grant(engine, MINISTRY, service, "GQCD", "a,d,e", "Nghị định 43/2021 Điều 10", "test")
    app = create_app(engine, server)
    with TestClient(app) as http:
        yield Exchange(engine, http, server, hospital, ministry)
