"""Employer rules on a hand-built register, on SQLite and PostgreSQL.

The reference month is the latest contribution month, 2025-06 here.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine

from nidb.detect import run_detection
from tests.seed import Register, register


def _employer(reg: Register, code: str, registered: int | None, status: str = "active") -> None:
    reg.employer(code, f"Công ty {code}", registered_workers=registered, status=status)


def _workers(reg: Register, employer: str, count: int, end: date | None = None) -> None:
    for i in range(count):
        reg.period(f"{employer[-4:]}{i:06d}", employer, start=date(2024, 1, 1), end=end)


def _paid(reg: Register, employer: str, workers: int, months: int) -> None:
    """Months 1 to ``months`` of 2025 for each worker, on a wage of 8,000,000 đồng."""
    for i in range(workers):
        reg.contributions(
            f"{employer[-4:]}{i:06d}", employer, date(2025, 1, 1), date(2025, months, 1), 8_000_000
        )


def load(engine: Engine) -> None:
    """UNDR: 20 registered, 10 insured (alert). FAIR: 20 and 15 (75%: no). TINY: 8 and 0 (too
    small: no). SHUT: closed, 30 and 0 (no). STOP: paid to 2025-03, 3 months without, workers
    still declared (alert). LATE: paid to 2025-04 (2 months: no). GONE: paid to 2025-02, every
    period ended (no open worker: no)."""
    with register(engine) as reg:
        _employer(reg, "UNDR", 20)
        _employer(reg, "FAIR", 20)
        _employer(reg, "TINY", 8)
        _employer(reg, "SHUT", 30, "closed")
        _employer(reg, "STOP", 5)
        _employer(reg, "LATE", 5)
        _employer(reg, "GONE", 5)
        _workers(reg, "UNDR", 10)
        _workers(reg, "FAIR", 15)
        _workers(reg, "STOP", 5)
        _workers(reg, "LATE", 5)
        _workers(reg, "GONE", 5, date(2025, 2, 1))
        _paid(reg, "UNDR", 10, 6)
        _paid(reg, "FAIR", 15, 6)
        _paid(reg, "STOP", 5, 3)
        _paid(reg, "LATE", 5, 4)
        _paid(reg, "GONE", 5, 2)


def test_employers_insuring_too_few_and_those_that_stopped_paying_are_alerts(
    engine: Engine,
) -> None:
    load(engine)
    results = {r.rule.name: r for r in run_detection(engine)}
    under = results["employer_under_declared"].findings
    assert [(f.subject_type, f.subject_id, f.province, f.evidence_key) for f in under] == [
        ("employer", "UNDR", "01", "month:2025-06")
    ]
    assert "20 lao động nhưng chỉ 10 người" in under[0].explanation_vi
    assert "50%, 10 short" in under[0].explanation_en
    stopped = results["contributions_stopped"].findings
    assert [(f.subject_id, f.evidence_key) for f in stopped] == [("STOP", "last_paid:2025-03")]
    assert stopped[0].evidence["months_without"] == 3
    assert "3 months up to 2025-06" in stopped[0].explanation_en
    assert "còn 5 người đang tham gia BHXH" in stopped[0].explanation_vi


def test_a_period_ending_before_the_reference_month_does_not_count_as_insured(
    engine: Engine,
) -> None:
    load(engine)
    with register(engine) as reg:
        _employer(reg, "LEFT", 12)
        _workers(reg, "LEFT", 12, date(2025, 5, 1))  # all left in May: none insured in June
    found = next(iter(run_detection(engine, ["employer_under_declared"]))).findings
    assert [f.subject_id for f in found] == ["LEFT", "UNDR"]
    assert found[0].evidence["insured"] == 0
