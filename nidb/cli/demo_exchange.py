"""The exchange part of ``nidb demo``: a hospital checks cards, a death flows through.

Everything talks over real HTTP on loopback: nidb's API (``nidb serve``'s app), the hospital's
information system stand-in, and the population-database stand-in whose change feed reports
a death. The hospital signs every request; nidb signs every answer and logs every read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine, Row, func, select

from nidb.accesslog import verify_chain
from nidb.exchange.partners import add_grant, ensure_partner
from nidb.feeds.population import PopulationFeedReport, follow_population
from nidb.protocol.keys import SigningKey
from nidb.store import models


@dataclass
class CardCheck:
    label: str
    result_code: str
    message_vi: str


@dataclass
class ExchangeDemo:
    hospital: str
    checks: list[CardCheck] = field(default_factory=list)
    visit: dict[str, Any] | None = None
    death_of: str | None = None
    feed: PopulationFeedReport | None = None
    check_after_death: CardCheck | None = None
    access_log_entries: int = 0
    chain_intact: bool = False


def _holders(engine: Engine, limit: int) -> Sequence[Row[Any]]:
    """Verified people with an active card valid today (and a pension, where there is one)."""
    card, person, citizen = models.HealthCard, models.Person, models.Citizen
    pension = (
        select(func.count())
        .where(models.Benefit.bhxh_code == card.bhxh_code, models.Benefit.status == "active")
        .scalar_subquery()
    )
    today = func.current_date()
    with engine.connect() as conn:
        return conn.execute(
            select(
                card.card_code,
                card.facility_code,
                card.bhxh_code,
                citizen.personal_id,
                citizen.full_name,
                citizen.date_of_birth,
                citizen.gender,
                pension.label("pensions"),
            )
            .join(person, person.bhxh_code == card.bhxh_code)
            .join(citizen, citizen.personal_id == person.verified_personal_id)
            .where(card.status == "active", card.valid_from <= today, card.valid_to >= today)
            .where(citizen.status == "alive")
            .order_by(pension.desc(), card.bhxh_code)
            .limit(limit)
        ).all()


def _hospital(engine: Engine, member: str) -> SigningKey:
    """Register the demo hospital with a fresh key and its grants (again on a second run)."""
    key = SigningKey.generate()
    if not ensure_partner(
        engine, member, f"Bệnh viện {member[-5:]}", "hospital", key.public_b64, "demo"
    ):
        return key
    add_grant(engine, member, "card.check/v1", "KCB", "dd", "Luật BHYT, Điều 28", "demo")
    add_grant(engine, member, "visits.submit/v1", "KCB", "h", "QĐ 130/QĐ-BYT", "demo")
    return key


def run_exchange_demo(
    engine: Engine, registry: Path, on_stage: Callable[[str], None] | None = None
) -> ExchangeDemo | None:
    """Start nidb's API and a hospital; check cards; report a death; check again."""
    from nidb.api.app import create_app as nidb_app
    from nidb.connectors.population import PopulationClient
    from nidb.sim.hospital import create_app as hospital_app
    from nidb.sim.population import BackgroundServer
    from nidb.sim.population import create_app as population_app

    say = on_stage or (lambda _: None)
    holders = _holders(engine, 3)
    if len(holders) < 2:
        say("Không đủ người có thẻ còn hạn để chạy phần trao đổi dữ liệu (not enough card holders)")
        return None
    patient, deceased = holders[1], holders[0]  # holders[0] has a pension if anyone does
    member = f"VN/GOV/BYT/BV-{patient.facility_code}"
    key = _hospital(engine, member)
    demo = ExchangeDemo(hospital=member)
    with (
        BackgroundServer(nidb_app(engine, SigningKey.generate()), lifespan="on") as api,
        BackgroundServer(hospital_app(api.url, member, key)) as his,
        BackgroundServer(population_app(registry, admin=True)) as population,
        httpx.Client(base_url=his.url, timeout=30) as http,
    ):
        say(
            f"Bệnh viện {member} tra cứu thẻ qua {api.url} (hospital checks cards, signed both ways)"
        )

        def check(label: str, holder: Any, **change: str) -> CardCheck:
            body = {
                "card_code": holder.card_code,
                "full_name": holder.full_name,
                "date_of_birth": holder.date_of_birth,
                "gender": holder.gender,
                **change,
            }
            answer = http.post("/reception", json=body).raise_for_status().json()
            return CardCheck(label, answer["result_code"], answer["message_vi"])

        demo.checks.append(check("đúng thông tin (correct identity)", patient))
        demo.checks.append(check("sai họ tên (wrong name)", patient, full_name="Trần Thị Mơ"))
        wrong_year = str(int(patient.date_of_birth[:4]) + 1)
        demo.checks.append(
            check("sai năm sinh (wrong birth year)", patient, date_of_birth=wrong_year)
        )
        demo.checks.append(
            check("chỉ mã số BHXH (BHXH code only)", patient, card_code=patient.bhxh_code)
        )
        demo.visit = (
            http.post(
                "/discharge",
                json={
                    "card_code": patient.card_code,
                    "icd10": "J06.9",
                    "admitted_at": "2026-03-02T08:00:00+07:00",
                    "discharged_at": "2026-03-02T10:30:00+07:00",
                    "total_cost": 350_000,
                    "insurer_paid": 280_000,
                    "patient_paid": 70_000,
                },
            )
            .raise_for_status()
            .json()
        )
        say(
            f"CSDL dân cư báo tử người có thẻ {deceased.card_code} (the population database reports a death)"
        )
        httpx.post(
            f"{population.url}/v1/admin/changes",
            json={
                "kind": "death",
                "personal_id": deceased.personal_id,
                "data": {"death_date": "2026-01-15"},
            },
            timeout=10,
        ).raise_for_status()
        demo.death_of = deceased.card_code
        with PopulationClient(population.url) as client:
            demo.feed = follow_population(engine, client)
        demo.check_after_death = check("sau khi báo tử (after the death)", deceased)
    report = verify_chain(engine)
    demo.access_log_entries, demo.chain_intact = report.entries, report.intact
    return demo


def print_exchange_demo(out: Console, demo: ExchangeDemo) -> None:
    """The demo's exchange results, Vietnamese first."""
    table = Table(
        title=f"Bệnh viện {demo.hospital} tra cứu thẻ BHYT (card checks, signed and audited)"
    )
    for column in ("tình huống (case)", "mã kết quả", "kết quả (result)"):
        table.add_column(column)
    rows = [*demo.checks, *([demo.check_after_death] if demo.check_after_death else [])]
    for row in rows:
        table.add_row(row.label, row.result_code, row.message_vi)
    out.print(table)
    if demo.visit:
        out.print(
            f"Gửi dữ liệu khám chữa bệnh: {demo.visit['accepted']} hồ sơ được nhận "
            f"(visit summary accepted: {demo.visit['accepted']})"
        )
    if demo.feed:
        feed = demo.feed
        out.print(
            f"Báo tử {demo.death_of}: {feed.cards_suspended} thẻ tạm dừng, "
            f"{feed.benefits_stopped} chế độ (lương hưu, trợ cấp) dừng chi trả, {feed.alerts} cảnh báo "
            f"gửi tỉnh (death: cards suspended, benefits stopped, alert to the province)"
        )
    state = "nguyên vẹn (intact)" if demo.chain_intact else "BỊ CAN THIỆP (tampered)"
    out.print(f"Nhật ký truy cập: {demo.access_log_entries} bản ghi, chuỗi băm {state}")
