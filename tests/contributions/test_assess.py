"""The monthly assessment: amounts per fund and share, floor and ceiling, rounding, idempotence,
adjustments of closed months and late interest, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine, text

from nidb.contributions.assess import assess_month
from nidb.domain.catalogues import round_half_up
from nidb.domain.errors import InvalidDate
from tests import seed

NOV = date(2026, 11, 1)
ACTOR = "test:assess"


def lines(engine: Engine, employer: str = "DN001") -> list[dict[str, object]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT bhxh_code, month, assessed_month, kind, wage, pension_employee, "
                "pension_employer, sickness_employer, occupational_employer, health_employee, "
                "health_employer, unemployment_employee, unemployment_employer, total "
                "FROM contribution_lines WHERE employer_code = :e "
                "ORDER BY assessed_month, month, bhxh_code"
            ),
            {"e": employer},
        ).mappings()
        return [dict(r) for r in rows]


def charges(engine: Engine, employer: str = "DN001") -> dict[tuple[str, str], int]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT month, kind, amount FROM contribution_charges WHERE employer_code = :e"),
            {"e": employer},
        ).all()
    return {(str(m)[:7], k): int(a) for m, k, a in rows}


def expected(si: int, hi: int, ui: int) -> dict[str, int]:
    """Each share rounded half up per worker, from the bases the law gives."""
    shares = {
        "pension_employee": (si, 800),
        "pension_employer": (si, 1400),
        "sickness_employer": (si, 300),
        "occupational_employer": (si, 50),
        "health_employee": (hi, 150),
        "health_employer": (hi, 300),
        "unemployment_employee": (ui, 100),
        "unemployment_employer": (ui, 100),
    }
    amounts = {k: round_half_up(base * bp, 10_000) for k, (base, bp) in shares.items()}
    return {**amounts, "total": sum(amounts.values())}


def assess(engine: Engine, month: date = NOV) -> None:
    assess_month(engine, month, actor=ACTOR)


def test_a_worker_at_ten_million_pays_32_percent_split_by_fund_and_share(engine: Engine) -> None:
    with seed.register(engine) as reg:
        reg.employer("DN001").wage("DN001", "0100000001", 10_000_000, "2026-01")
    report = assess_month(engine, NOV, actor=ACTOR)
    (line,) = lines(engine)
    assert {k: line[k] for k in expected(0, 0, 0)} == expected(10_000_000, 10_000_000, 10_000_000)
    assert line["total"] == 3_200_000
    assert report.total_due == 3_200_000 and report.workers == 1 and report.employers == 1
    assert charges(engine) == {("2026-11", "due"): 3_200_000}


def test_a_wage_below_the_regional_minimum_is_raised_to_it(engine: Engine) -> None:
    with seed.register(engine) as reg:
        reg.employer("DN001").wage("DN001", "0100000001", 3_000_000, "2026-01")
    assess(engine)
    (line,) = lines(engine)
    # region I from 01/01/2026: 5.310.000 đồng (employers without a region are region I)
    assert line["total"] == expected(5_310_000, 5_310_000, 5_310_000)["total"] == 1_699_200


def test_the_floor_follows_the_employers_region(engine: Engine) -> None:
    with seed.register(engine) as reg:
        reg.employer("DN004").wage("DN004", "0100000001", 3_000_000, "2026-01")
        reg.conn.execute(text("INSERT INTO employer_regions VALUES ('DN004', 4)"))
    assess(engine)
    (line,) = lines(engine, "DN004")
    assert line["total"] == expected(3_700_000, 3_700_000, 3_700_000)["total"]


def test_ceilings_20_base_salaries_for_bhxh_bhyt_20_regional_minimums_for_bhtn(
    engine: Engine,
) -> None:
    with seed.register(engine) as reg:
        reg.employer("DN004").wage("DN004", "0100000001", 120_000_000, "2026-01")
        reg.conn.execute(text("INSERT INTO employer_regions VALUES ('DN004', 4)"))
    assess(engine)
    (line,) = lines(engine, "DN004")
    want = expected(20 * 2_340_000, 20 * 2_340_000, 20 * 3_700_000)
    assert {k: line[k] for k in want} == want
    assert line["unemployment_employee"] == 740_000


@pytest.mark.parametrize("wage", [5_310_100, 5_310_101, 7_777_777, 12_345_650])
def test_every_share_is_rounded_to_whole_dong_half_up(engine: Engine, wage: int) -> None:
    with seed.register(engine) as reg:
        reg.employer("DN001").wage("DN001", "0100000001", wage, "2026-01")
    assess(engine)
    (line,) = lines(engine)
    assert {k: line[k] for k in expected(0, 0, 0)} == expected(wage, wage, wage)


def test_half_a_dong_rounds_up() -> None:
    # 0.5% of 5.310.100 is 26.550,5
    assert expected(5_310_100, 0, 0)["occupational_employer"] == 26_551


def test_funds_the_worker_is_not_declared_for_are_not_charged(engine: Engine) -> None:
    with seed.register(engine) as reg:
        reg.employer("DN001").wage("DN001", "0100000001", 10_000_000, "2026-01", unemployment=False)
    assess(engine)
    (line,) = lines(engine)
    assert line["unemployment_employee"] == line["unemployment_employer"] == 0
    assert line["total"] == 3_000_000


def test_the_latest_salary_row_covering_the_month_counts_and_leavers_do_not(
    engine: Engine,
) -> None:
    with seed.register(engine) as reg:
        reg.employer("DN001")
        reg.wage("DN001", "0100000001", 8_000_000, "2026-01", "2026-10")
        reg.wage("DN001", "0100000001", 9_000_000, "2026-11")
        reg.wage("DN001", "0100000002", 8_000_000, "2026-01", "2026-10")
    assess(engine)
    assert [(r["bhxh_code"], r["wage"]) for r in lines(engine)] == [("0100000001", 9_000_000)]


def test_per_fund_totals_per_employer(engine: Engine) -> None:
    with seed.register(engine) as reg:
        reg.employer("DN001")
        reg.wage("DN001", "0100000001", 10_000_000, "2026-01")
        reg.wage("DN001", "0100000002", 20_000_000, "2026-01")
    assess(engine)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT fund, workers, due_employee, due_employer FROM contribution_assessments "
                "WHERE employer_code = 'DN001' ORDER BY fund"
            )
        ).all()
    assert [tuple(r) for r in rows] == [
        ("health", 2, 450_000, 900_000),
        ("occupational", 2, 0, 150_000),
        ("pension_survivors", 2, 2_400_000, 4_200_000),
        ("sickness_maternity", 2, 0, 900_000),
        ("unemployment", 2, 300_000, 300_000),
    ]


def test_running_a_month_again_changes_nothing(engine: Engine) -> None:
    with seed.register(engine) as reg:
        reg.employer("DN001").wage("DN001", "0100000001", 10_000_000, "2026-01")
    first = assess_month(engine, NOV, actor=ACTOR)
    with seed.register(engine) as reg:  # arrives after the month closed
        reg.wage("DN001", "0100000002", 10_000_000, "2026-01")
    again = assess_month(engine, NOV, actor=ACTOR)
    assert again.already and again.total_due == first.total_due
    assert len(lines(engine)) == 1
    with engine.connect() as conn:
        audits = conn.execute(
            text("SELECT COUNT(*) FROM audit_log WHERE action = 'contributions.assess'")
        ).scalar_one()
        events = conn.execute(
            text("SELECT COUNT(*) FROM outbox_events WHERE topic = 'contributions.statement'")
        ).scalar_one()
    assert (audits, events) == (1, 1)


def test_months_are_assessed_in_order(engine: Engine) -> None:
    assess(engine, date(2026, 9, 1))
    with pytest.raises(InvalidDate) as refused:
        assess(engine, NOV)
    assert "2026-09" in str(refused.value)


def test_a_worker_declared_backdated_into_a_closed_month_is_an_adjustment_next_month(
    engine: Engine,
) -> None:
    with seed.register(engine) as reg:
        reg.employer("DN001").wage("DN001", "0100000001", 10_000_000, "2026-01")
    assess(engine, date(2026, 10, 1))
    before = lines(engine)
    with seed.register(engine) as reg:  # declared in November, working since October
        reg.wage("DN001", "0100000002", 10_000_000, "2026-10")
    report = assess_month(engine, NOV, actor=ACTOR)
    after = lines(engine)
    assert after[: len(before)] == before, "a closed month is never rewritten"
    adjustment = [r for r in after if r["kind"] == "adjustment"]
    assert [
        (r["bhxh_code"], str(r["month"])[:7], str(r["assessed_month"])[:7], r["total"])
        for r in adjustment
    ] == [("0100000002", "2026-10", "2026-11", 3_200_000)]
    assert report.adjusted_months == (date(2026, 10, 1),)
    assert charges(engine)[("2026-11", "adjustment")] == 3_200_000
    assert charges(engine)[("2026-11", "due")] == 6_400_000


def test_a_backdated_salary_cut_becomes_a_credit(engine: Engine) -> None:
    with seed.register(engine) as reg:
        reg.employer("DN001").wage("DN001", "0100000001", 10_000_000, "2026-10", "2026-10")
    assess(engine, date(2026, 10, 1))
    with engine.begin() as conn:  # the decrease closes the row in place, and is backdated
        conn.execute(
            text("UPDATE declared_wages SET from_month = :d, to_month = :d"),
            {"d": date(2026, 9, 1)},
        )
    assess(engine)
    adjustment = [r for r in lines(engine) if r["kind"] == "adjustment"]
    assert [(str(r["month"])[:7], r["total"]) for r in adjustment] == [("2026-10", -3_200_000)]
    with engine.connect() as conn:
        credit = conn.execute(
            text("SELECT amount FROM contribution_payments WHERE source = 'credit'")
        ).scalar_one()
    assert credit == 3_200_000


def test_late_interest_is_003_percent_a_day_on_principal_overdue(engine: Engine) -> None:
    with seed.register(engine) as reg:
        reg.employer("DN001").wage("DN001", "0100000001", 10_000_000, "2026-08")
    for month in (8, 9, 10, 11):
        assess(engine, date(2026, month, 1))
    # August's 3.200.000 was due by 30/09; unpaid through all 31 days of October
    assert charges(engine)[("2026-11", "interest")] == round_half_up(3_200_000 * 31 * 3, 10_000)
    assert ("2026-10", "interest") not in charges(engine)
