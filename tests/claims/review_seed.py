"""Assessed claims for the review tests (HTTP and browser): one reduced claim at a Hà Nội
facility (a paracetamol line above the insurer's price), one accepted, and one reduced claim at
a Hồ Chí Minh City facility (outside a Hà Nội reviewer's area)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, select

from nidb.claims.assess import assess_claims
from nidb.claims.catalogue import import_catalogue
from nidb.claims.intake import submit_claims
from nidb.sim.generate.claims import ClaimDraft, LineDraft, envelope, write_catalogues, xml_tables
from nidb.store.models_claims import Claim
from tests import seed

DAY = datetime.now().replace(hour=8, minute=0, second=0, microsecond=0) - timedelta(days=2)
HN, HCM = "0100000001", "7900000001"
HN_PID, HCM_PID = "001085000001", "079085000001"
CT = LineDraft("service", "18.0200", "Chụp CT sọ não", "1", 522_000)
EXAM = LineDraft("service", "02.1896", "Khám bệnh", "1", 42_100)
DEAR_PARACETAMOL = LineDraft("drug", "40.17", "Paracetamol 500mg", "10", 500)  # 350 in catalogue


def _draft(ma_lk: str, facility: str, bhxh: str, lines: list[LineDraft], days: int) -> ClaimDraft:
    province = bhxh[:2]
    return ClaimDraft(
        ma_lk=ma_lk,
        facility=facility,
        card_code=f"DN4{province}{bhxh}",
        registered_facility=facility,
        admitted=DAY - timedelta(days=days),
        discharged=DAY - timedelta(days=days) + timedelta(hours=2),
        inpatient=False,
        lines=lines,
    )


def seed_claims(engine: Engine, folder: Path) -> dict[str, int]:
    """Cards, catalogues and three assessed claims; their ids by MA_LK."""
    year = (date(DAY.year - 1, 1, 1), date(DAY.year + 1, 12, 31))
    with seed.register(engine) as reg:
        for bhxh, pid, name, province in (
            (HN, HN_PID, "Lê Thị Hoa", "01"),
            (HCM, HCM_PID, "Phạm Văn Tâm", "79"),
        ):
            reg.citizen(pid, name)
            reg.person(bhxh, name, verified=pid)
            reg.card(bhxh, "DN", valid_from=year[0], valid_to=year[1], province=province)
    for kind, path in write_catalogues(folder, ["01", "79"]).items():
        import_catalogue(engine, kind, path, "test")
    sent = (
        ("01001", [_draft("LK-GIAM", "01001", HN, [CT, EXAM, DEAR_PARACETAMOL], 1),
                   _draft("LK-DU", "01001", HN, [CT], 3)]),
        ("79001", [_draft("LK-HCM", "79001", HCM, [CT, DEAR_PARACETAMOL], 1)]),
    )  # fmt: skip
    for facility, drafts in sent:
        with engine.begin() as conn:
            answer = submit_claims(
                conn,
                f"VN/GOV/BYT/BV-{facility}",
                envelope(facility, [xml_tables(d) for d in drafts]),
            )
        assert answer.body["rejected"] == 0, answer.body
    assess_claims(engine, "test")
    with engine.connect() as conn:
        return {r.ma_lk: r.id for r in conn.execute(select(Claim.ma_lk, Claim.id))}
