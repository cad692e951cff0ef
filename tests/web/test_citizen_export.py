"""Tải dữ liệu của tôi: a signed-in citizen downloads everything nidb holds about them (Decree
13/2023), as a ZIP of JSON files with a Vietnamese README; nothing of anyone else; audited."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert, select

from nidb.store import models
from nidb.store.models_claims import Claim, ClaimLine, ClaimVersion
from nidb.store.models_contributions import ContributionLine
from nidb.store.models_employers import IssuedBhxhCode
from nidb.store.models_employment import DeclaredWage
from nidb.store.models_notify import NotifyContact, NotifyDelivery
from nidb.store.models_services import Dossier, DossierEvent, DossierFile, Notification, Payment
from nidb.store.models_web import ConsentChoice, CorrectionEvidence, CorrectionRequest
from nidb.web import subject_export
from tests.seed import BHXH, EMPLOYER, PID
from tests.web.conftest import OTHER_BHXH, OTHER_PID, Vneid, citizen_sign_in_http, csrf_of

NOW = datetime.now(UTC)
OTHER_NAME = "Trần Thị Bình"
CARD = f"DN401{BHXH}"


def seed_every_kind(engine: Engine) -> None:
    """What ``seed.portal`` lacks: one row of every kind the export holds, for the citizen, and
    rows of another person that must stay out (a wrong link, a relative's dossier…)."""
    with engine.begin() as conn:

        def add(table: Any, **values: Any) -> Any:
            return conn.execute(insert(table).values(**values))

        add(models.IdentityLink, bhxh_code=BHXH, personal_id=PID, source="verified", valid_from=NOW)
        add(
            models.IdentityLink,
            bhxh_code=BHXH,
            personal_id=OTHER_PID,
            source="declared",
            valid_from=NOW,
        )
        add(IssuedBhxhCode, bhxh_code=BHXH, personal_id=PID, issued_by="staff:canbo.hn")
        add(IssuedBhxhCode, bhxh_code=OTHER_BHXH, personal_id=OTHER_PID, issued_by="staff:canbo.hn")
        add(
            models.CodeMerge,
            kept_code=BHXH,
            retired_code="0123400001",
            actor="staff:canbo.hn",
            reason="Trùng sổ",
            merged_at=NOW,
        )
        add(
            DeclaredWage,
            employer_code=EMPLOYER,
            bhxh_code=BHXH,
            personal_id=PID,
            from_month=date(2025, 1, 1),
            wage=10_000_000,
            contract_type="indefinite",
            full_time=True,
            social=True,
            health=True,
            unemployment=True,
        )
        add(  # an employer declared the citizen's code with another person's ID
            DeclaredWage,
            employer_code=EMPLOYER,
            bhxh_code=BHXH,
            personal_id=OTHER_PID,
            from_month=date(2024, 1, 1),
            wage=9_000_000,
            contract_type="indefinite",
            full_time=True,
            social=True,
            health=True,
            unemployment=True,
        )
        add(
            ContributionLine,
            employer_code=EMPLOYER,
            bhxh_code=BHXH,
            month=date(2025, 1, 1),
            assessed_month=date(2025, 1, 1),
            kind="due",
            wage=10_000_000,
            region=1,
            pension_employee=800_000,
            pension_employer=1_400_000,
            sickness_employer=300_000,
            occupational_employer=50_000,
            health_employee=150_000,
            health_employer=300_000,
            unemployment_employee=100_000,
            unemployment_employer=100_000,
            total=3_200_000,
        )
        add(
            models.HealthVisit,
            visit_id="V1",
            card_code=CARD,
            bhxh_code=BHXH,
            facility_code="01001",
            admitted_at=datetime(2025, 5, 1, 8),
            discharged_at=datetime(2025, 5, 1, 10),
            inpatient=False,
            icd10="J06",
            total_cost=300_000,
            insurer_paid=240_000,
            patient_paid=60_000,
        )
        claim = add(
            Claim,
            facility_code="01001",
            ma_lk="LK1",
            version=1,
            card_code=CARD,
            bhxh_code=BHXH,
            admitted_at=datetime(2025, 5, 1, 8),
            discharged_at=datetime(2025, 5, 1, 10),
            inpatient=False,
            route="right",
            icd10="J06",
            claimed_total=300_000,
            sender="VN/GOV/BYT/BV-01001",
        ).inserted_primary_key[0]
        add(
            ClaimLine,
            claim_id=claim,
            line_no=1,
            kind="drug",
            item_code="40.1",
            name="Paracetamol 500mg",
            quantity_milli=10_000,
            unit_price=1_000,
            amount=10_000,
        )
        add(ClaimVersion, claim_id=claim, version=0, snapshot={"claimed_total": 280_000})
        add(models.WelfareBeneficiary, personal_id=PID, program="BTXH", start_date=date(2024, 1, 1))
        add(
            models.WelfareBeneficiary,
            personal_id=OTHER_PID,
            program="HONGHEO",
            start_date=date(2024, 1, 1),
        )
        own = add(
            Dossier,
            kind="card_renewal",
            applicant_personal_id=PID,
            applicant_bhxh_code=BHXH,
            subject_personal_id=PID,
            state="done",
            data={"ghi_chu": "gia hạn thẻ của tôi"},
            checks=[],
        ).inserted_primary_key[0]
        add(
            DossierEvent,
            dossier_id=own,
            actor="staff:canbo.hn",
            from_state="submitted",
            to_state="done",
            note="Đã duyệt",
        )
        add(
            Payment,
            dossier_id=own,
            reference="TT-1",
            amount=1_105_000,
            status="paid",
            gateway_txn_id="GW-SECRET-1",
            pay_url="http://gateway/secret",
        )
        add(
            DossierFile,
            dossier_id=own,
            filename="don.pdf",
            content_type="application/pdf",
            size=4,
            sha256="a" * 64,
            content=b"%PDF",
        )
        add(
            Dossier,
            kind="funeral",
            applicant_personal_id=PID,
            subject_personal_id=OTHER_PID,
            state="submitted",
            data={"nguoi_mat": OTHER_NAME, "so_dinh_danh": OTHER_PID},
            checks=[],
        )  # a relative's death: the applicant is the citizen, the subject is not
        add(Notification, personal_id=PID, channel="portal", text_vi="Thẻ BHYT đã được gia hạn")
        add(Notification, personal_id=OTHER_PID, channel="portal", text_vi=f"Gửi {OTHER_NAME}")
        add(ConsentChoice, personal_id=PID, topic="research", granted=True)
        for party, email in ((PID, "toi@example.vn"), (OTHER_PID, "nguoi.khac@example.vn")):
            add(NotifyContact, party_kind="citizen", party_id=party, email=email)
            add(
                NotifyDelivery,
                event_key=f"notification:{party}",
                channel="email",
                party_kind="citizen",
                party_id=party,
                address=email,
                subject="Thông báo",
                body=f"Gửi {party}",
                next_attempt_at=datetime.now(UTC),
            )
        add(ConsentChoice, personal_id=OTHER_PID, topic="research", granted=False)
        request = add(
            CorrectionRequest,
            personal_id=PID,
            field="address",
            new_value="Hà Nội",
            reason="Chuyển nhà",
            status="submitted",
        ).inserted_primary_key[0]
        add(
            CorrectionEvidence,
            request_id=request,
            filename="so-ho-khau.png",
            content_type="image/png",
            size_bytes=4,
            sha256="b" * 64,
            content=b"\x89PNG",
        )


@pytest.fixture
def signed_in(client: TestClient, register: Engine, vneid: Vneid) -> TestClient:
    seed_every_kind(register)
    done = citizen_sign_in_http(client)
    assert done.status_code == 303
    return client


def download(client: TestClient) -> Any:
    page = client.get("/cong-dan/du-lieu-cua-toi")
    assert page.status_code == 200
    return client.post("/cong-dan/du-lieu-cua-toi", data={"csrf_token": csrf_of(page.text)})


def test_the_page_says_what_the_export_holds(signed_in: TestClient) -> None:
    page = signed_in.get("/cong-dan/du-lieu-cua-toi").text
    assert "Tải dữ liệu của tôi" in page and "Nghị định 13/2023/NĐ-CP" in page
    for section in subject_export.SECTIONS:
        assert section.title_vi in page


def test_the_export_holds_every_kind_of_my_data_and_nothing_of_anyone_else(
    signed_in: TestClient,
) -> None:
    answer = download(signed_in)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/zip"
    assert answer.headers["content-disposition"].startswith(
        'attachment; filename="du-lieu-cua-toi-'
    )
    archive = zipfile.ZipFile(io.BytesIO(answer.content))
    names = archive.namelist()
    expected = [s.filename for s in subject_export.SECTIONS]
    assert names == ["README.txt", *expected, subject_export.SUMMARY_FILE]
    readme = archive.read("README.txt").decode("utf-8")
    assert "DỮ LIỆU CỦA TÔI" in readme and all(name in readme for name in expected)
    files = {name: json.loads(archive.read(name)) for name in expected}
    counts = json.loads(archive.read(subject_export.SUMMARY_FILE))["so_ban_ghi"]
    for name, content in files.items():
        assert content["tep"] == name and content["mo_ta"]
        assert content["ban_ghi"], f"{name} is empty: every kind was seeded"
        assert counts[name] == len(content["ban_ghi"])
    assert files["01-cong-dan.json"]["ban_ghi"][0]["personal_id"] == PID
    assert [r["bhxh_code"] for r in files["02-ho-so-tham-gia.json"]["ban_ghi"]] == [BHXH]
    claim = files["12-de-nghi-thanh-toan-bhyt.json"]["ban_ghi"][0]
    assert claim["dong"][0]["name"] == "Paracetamol 500mg"
    assert claim["phien_ban_truoc"][0]["snapshot"] == {"claimed_total": 280_000}
    assert {r["service"] for r in files["19-ai-da-truy-cap.json"]["ban_ghi"]} == {"card.check/v1"}
    assert "citizen.sign_in" in {
        r["action"] for r in files["20-thao-tac-nghiep-vu.json"]["ban_ghi"]
    }
    dossiers = files["15-ho-so-dich-vu-cong.json"]["ban_ghi"]
    assert dossiers[0]["data"] == {"ghi_chu": "gia hạn thẻ của tôi"}
    assert dossiers[0]["files"][0]["filename"] == "don.pdf"
    assert "data" not in dossiers[1] and dossiers[1]["kind"] == "funeral"
    everything = b"".join(archive.read(name) for name in names).decode("utf-8")
    for foreign in (OTHER_PID, OTHER_BHXH, OTHER_NAME, "HONGHEO", "nguoi.khac@example.vn"):
        assert foreign not in everything, foreign
    for internal in ("GW-SECRET-1", "http://gateway/secret", "entry_hash", "prev_hash",
                     "message_id", "batch_id", "%PDF"):  # fmt: skip
        assert internal not in everything, internal


def test_the_export_needs_a_citizen_session_and_the_forms_token(
    client: TestClient, register: Engine, vneid: Vneid
) -> None:
    assert client.get("/cong-dan/du-lieu-cua-toi").status_code == 303
    refused = client.post("/cong-dan/du-lieu-cua-toi", data={"csrf_token": "x"})
    assert (
        refused.status_code in (303, 403)
        and refused.headers.get("content-type") != "application/zip"
    )
    assert citizen_sign_in_http(client).status_code == 303
    forged = client.post("/cong-dan/du-lieu-cua-toi", data={"csrf_token": "gia-mao"})
    assert forged.status_code == 403
    with register.connect() as conn:
        logged = conn.execute(
            select(models.AuditEntry.id).where(models.AuditEntry.action == "citizen.data_export")
        ).all()
    assert logged == []


def test_each_download_is_audited_under_the_citizen(
    signed_in: TestClient, register: Engine
) -> None:
    assert download(signed_in).status_code == 200
    assert download(signed_in).status_code == 200
    with register.connect() as conn:
        rows = conn.execute(
            select(
                models.AuditEntry.actor, models.AuditEntry.subject_id, models.AuditEntry.detail
            ).where(models.AuditEntry.action == "citizen.data_export")
        ).all()
    assert [(actor, subject) for actor, subject, _ in rows] == [(f"citizen:{PID}", PID)] * 2
    assert rows[0][2]["codes"] == 1


def test_the_export_is_streamed_in_pieces_as_it_is_read(
    register: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_every_kind(register)
    monkeypatch.setattr(subject_export, "CHUNK_BYTES", 64)
    with register.connect() as conn:
        subject = subject_export.subject_of(conn, PID)
    pieces = list(subject_export.stream_export(register.connect, subject, NOW))
    assert len([p for p in pieces if p]) > len(subject_export.SECTIONS)
    archive = zipfile.ZipFile(io.BytesIO(b"".join(pieces)))
    assert archive.testzip() is None
