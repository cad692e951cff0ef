"""The claims part of ``nidb demo``: a hospital sends XML 130 claims, nidb assesses them, and the
hospital downloads the quarter's settlement.

Everything the hospital does goes over real HTTP on loopback, signed both ways (the partner
protocol's client against ``nidb serve``'s app): ``claims.submit/v1`` with a GIAMDINHHS
envelope of three claims (one clean, one with a drug above the insurer's price, one with a line
billed twice), then ``claims.settlement/v1``. Between the two, nidb runs the automatic
assessment (`nidb claims assess`). Running the demo again resubmits the same claims (MA_LK):
they replace the stored ones, keeping their history, and are assessed again.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine, select

from nidb.claims.assess import assess_claims
from nidb.claims.catalogue import import_catalogue
from nidb.claims.rules import TITLES, dong
from nidb.cli.demo_exchange import _holders
from nidb.exchange.partners import add_grant, ensure_partner
from nidb.protocol.client import ExchangeClient
from nidb.protocol.keys import SigningKey
from nidb.sim.generate.claims import ClaimDraft, LineDraft, envelope, write_catalogues, xml_tables
from nidb.store.models_claims import Claim, ClaimLine

EXAM = LineDraft("service", "02.1896", "Khám bệnh", "1", 42_100)
X_RAY_CT = LineDraft(
    "service", "18.0200", "Chụp CT sọ não không tiêm thuốc cản quang", "1", 522_000
)
PARACETAMOL = LineDraft("drug", "40.17", "Paracetamol 500mg", "10", 350)
DEAR_PARACETAMOL = LineDraft("drug", "40.17", "Paracetamol 500mg", "20", 600)  # 350 đồng capped


@dataclass
class ClaimsDemo:
    """What the hospital sent, what the assessment decided, and the settlement."""

    facility: str
    facility_name: str = ""
    results: list[dict[str, Any]] = field(default_factory=list)
    outcomes: dict[str, dict[str, Any]] = field(default_factory=dict)
    explained: list[str] = field(default_factory=list)
    quarter: tuple[int, int] = (0, 0)
    settlement: dict[str, Any] = field(default_factory=dict)
    pdf: Path | None = None


def _hospital(engine: Engine, member: str) -> SigningKey:
    key = SigningKey.generate()
    name = f"Trung tâm y tế {member[-5:]}"
    if not ensure_partner(engine, member, name, "hospital", key.public_b64, "demo"):
        return key  # registered by an earlier run, with its grants; the new key added
    basis = "QĐ 130/QĐ-BYT"
    add_grant(engine, member, "claims.submit/v1", "KCB", "h", basis, "demo")
    add_grant(engine, member, "claims.settlement/v1", "KCB", "h", basis, "demo")
    return key


def run_claims_demo(
    engine: Engine, data_dir: Path, on_stage: Callable[[str], None] | None = None
) -> ClaimsDemo | None:
    """Import the catalogues; a hospital sends three claims; assess; download the settlement."""
    from nidb.api.app import create_app as nidb_app
    from nidb.sim.population import BackgroundServer

    say = on_stage or (lambda _: None)
    holders = _holders(engine, 3)
    if len(holders) < 2:
        say("Không đủ người có thẻ còn hạn để chạy phần giám định (not enough card holders)")
        return None
    province = holders[0].card_code[3:5]
    facility = f"{province}003"  # a district health centre: every patient is on route there
    say(f"Nạp danh mục cơ sở KCB, thuốc, dịch vụ của tỉnh {province} (claims catalogues)")
    for kind, path in write_catalogues(data_dir / "claims", [province]).items():
        import_catalogue(engine, kind, path, "demo")
    member = f"VN/GOV/BYT/BV-{facility}"
    key = _hospital(engine, member)
    demo = ClaimsDemo(facility=facility)
    day = datetime.now().replace(hour=8, minute=0, second=0, microsecond=0) - timedelta(days=1)
    drafts = [
        _draft("DEMO-1", facility, holders[0], day, [EXAM, PARACETAMOL]),
        _draft("DEMO-2", facility, holders[1], day, [EXAM, X_RAY_CT, DEAR_PARACETAMOL]),
        _draft("DEMO-3", facility, holders[-1], day - timedelta(days=1), [EXAM, EXAM]),
    ]
    text = envelope(facility, [xml_tables(d) for d in drafts])
    with BackgroundServer(nidb_app(engine, SigningKey.generate()), lifespan="on") as api:
        client = ExchangeClient(api.url, member, key, timeout=30)
        say(
            f"Cơ sở {facility} gửi {len(drafts)} hồ sơ XML 130 qua {api.url} "
            "(hospital sends XML 130 claims, signed)"
        )
        reply = client.call("claims.submit/v1", "KCB", {"giamdinhhs": text})
        if reply.status != 200:
            raise RuntimeError(f"claims.submit/v1 answered {reply.status}: {reply.body}")
        demo.results = list(reply.body["results"])
        say("Giám định tự động (nidb claims assess)")
        assess_claims(engine, "demo")
        _read_outcomes(engine, demo, facility)
        demo.quarter = quarter_of((day + timedelta(hours=2)).date())
        say(f"Cơ sở tải quyết toán quý {demo.quarter[1]}/{demo.quarter[0]} (claims.settlement/v1)")
        answer = client.call(
            "claims.settlement/v1", "KCB", {"year": demo.quarter[0], "quarter": demo.quarter[1]}
        )
        client.close()
        if answer.status != 200:
            raise RuntimeError(f"claims.settlement/v1 answered {answer.status}: {answer.body}")
    body = dict(answer.body)
    pdf = base64.b64decode(body.pop("statement_pdf"))
    demo.pdf = (
        data_dir / "claims" / f"quyet-toan-{facility}-q{demo.quarter[1]}-{demo.quarter[0]}.pdf"
    )
    demo.pdf.write_bytes(pdf)
    demo.settlement = body
    demo.facility_name = str(body.get("facility_name") or facility)
    return demo


def _draft(
    ma_lk: str, facility: str, holder: Any, day: datetime, lines: list[LineDraft]
) -> ClaimDraft:
    return ClaimDraft(
        ma_lk=ma_lk,
        facility=facility,
        card_code=holder.card_code,
        registered_facility=holder.facility_code,
        admitted=day,
        discharged=day + timedelta(hours=2),
        inpatient=False,
        lines=lines,
    )


def _read_outcomes(engine: Engine, demo: ClaimsDemo, facility: str) -> None:
    with engine.connect() as conn:
        claims = conn.execute(
            select(Claim.id, Claim.ma_lk, Claim.outcome, Claim.claimed_total,
                   Claim.accepted_total, Claim.insurer_total, Claim.reasons)
            .where(Claim.facility_code == facility, Claim.ma_lk.like("DEMO-%"))
            .order_by(Claim.ma_lk)
        ).all()  # fmt: skip
        for claim in claims:
            demo.outcomes[claim.ma_lk] = dict(claim._mapping)
            for reason in claim.reasons or []:
                demo.explained.append(f"{claim.ma_lk}: {reason['explanation_vi']}")
            for reductions in conn.execute(
                select(ClaimLine.reductions)
                .where(ClaimLine.claim_id == claim.id, ClaimLine.reductions.is_not(None))
                .order_by(ClaimLine.line_no)
            ).scalars():
                for item in reductions or []:
                    demo.explained.append(f"{claim.ma_lk}: {item['explanation_vi']}")


OUTCOMES = {"accepted": "chấp nhận", "reduced": "giảm trừ", "rejected": "từ chối"}
INTAKE = {"accepted": "đã tiếp nhận", "replaced": "thay thế hồ sơ cũ", "rejected": "từ chối"}


def print_claims_demo(out: Console, demo: ClaimsDemo) -> None:
    """The demo's claims results, Vietnamese first."""
    table = Table(
        title=f"Giám định hồ sơ XML 130 của cơ sở {demo.facility} (claims sent and assessed)"
    )
    for column in ("MA_LK", "tiếp nhận (intake)", "kết quả (outcome)", "đề nghị", "chấp nhận",
                   "quỹ BHYT trả"):  # fmt: skip
        table.add_column(column)
    intake = {
        r["ma_lk"]: INTAKE.get(r["result"], "từ chối")
        + (f" (lần gửi {r['version']})" if r.get("version", 1) > 1 else "")
        for r in demo.results
    }
    for ma_lk, claim in demo.outcomes.items():
        table.add_row(
            ma_lk,
            intake.get(ma_lk, ""),
            OUTCOMES.get(claim["outcome"] or "", "chưa giám định"),
            dong(claim["claimed_total"]),
            dong(claim["accepted_total"] or 0),
            dong(claim["insurer_total"] or 0),
        )
    out.print(table)
    for line in demo.explained:
        out.print(f"  Giải thích giảm trừ — {line}", highlight=False)
    s = demo.settlement
    year, quarter = demo.quarter
    out.print(
        f"Quyết toán quý {quarter}/{year} với {demo.facility_name}: đề nghị {dong(s['claimed'])}, "
        f"chấp nhận {dong(s['accepted'])}, giảm trừ {dong(s['reduced'])}, quỹ BHYT thanh toán "
        f"{dong(s['insurer_pays'])} (settlement)",
        highlight=False,
    )
    for reduction in s["reductions"]:
        title = TITLES.get(reduction["rule"], (reduction["title_vi"], ""))[0]
        out.print(
            f"  {title}: {reduction['times']} lần, {dong(reduction['amount'])}", highlight=False
        )
    if demo.pdf is not None:
        out.print(f"  Bản quyết toán PDF (statement): {demo.pdf}", highlight=False)


def quarter_of(day: date) -> tuple[int, int]:
    """The (year, quarter) of a day."""
    return day.year, (day.month - 1) // 3 + 1
