"""Employer rules on a hand-built register, on SQLite and PostgreSQL.

The reference month is the latest contribution month, 2025-06 here.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Engine, insert

from nidb.detect import run_detection
from nidb.store import models


def _employer(code: str, registered: int | None, status: str = "active") -> dict[str, Any]:
    return {
        "employer_code": code,
        "name": f"Công ty {code}",
        "province": "01",
        "employer_type": "enterprise",
        "registered_workers": registered,
        "status": status,
    }


def _workers(employer: str, count: int, end: date | None = None) -> list[dict[str, Any]]:
    return [
        {
            "bhxh_code": f"{employer[-4:]}{i:06d}",
            "scheme": "BHXH",
            "employer_code": employer,
            "participant_type": "DN",
            "start_month": date(2024, 1, 1),
            "end_month": end,
        }
        for i in range(count)
    ]


def _paid(employer: str, workers: int, months: list[int]) -> list[dict[str, Any]]:
    return [
        {
            "bhxh_code": f"{employer[-4:]}{i:06d}",
            "employer_code": employer,
            "period": date(2025, m, 1),
            "wage": 8_000_000,
            "bhxh_amount": 2_040_000,
            "bhyt_amount": 360_000,
            "bhtn_amount": 160_000,
        }
        for i in range(workers)
        for m in months
    ]


def load(engine: Engine) -> None:
    """UNDR: 20 registered, 10 insured (alert). FAIR: 20 and 15 (75%: no). TINY: 8 and 0 (too
    small: no). SHUT: closed, 30 and 0 (no). STOP: paid to 2025-03, 3 months without, workers
    still declared (alert). LATE: paid to 2025-04 (2 months: no). GONE: paid to 2025-02, every
    period ended (no open worker: no)."""
    employers = [
        _employer("UNDR", 20),
        _employer("FAIR", 20),
        _employer("TINY", 8),
        _employer("SHUT", 30, "closed"),
        _employer("STOP", 5),
        _employer("LATE", 5),
        _employer("GONE", 5),
    ]
    periods = (
        _workers("UNDR", 10)
        + _workers("FAIR", 15)
        + _workers("STOP", 5)
        + _workers("LATE", 5)
        + _workers("GONE", 5, date(2025, 2, 1))
    )
    every = [1, 2, 3, 4, 5, 6]
    paid = (
        _paid("UNDR", 10, every)
        + _paid("FAIR", 15, every)
        + _paid("STOP", 5, [1, 2, 3])
        + _paid("LATE", 5, [1, 2, 3, 4])
        + _paid("GONE", 5, [1, 2])
    )
    with engine.begin() as conn:
        conn.execute(insert(models.Employer), employers)
        conn.execute(insert(models.ParticipationPeriod), periods)
        conn.execute(insert(models.Contribution), paid)


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
    with engine.begin() as conn:
        conn.execute(insert(models.Employer), [_employer("LEFT", 12)])
        conn.execute(
            insert(models.ParticipationPeriod),
            _workers("LEFT", 12, date(2025, 5, 1)),  # all left in May: none insured in June
        )
    found = next(iter(run_detection(engine, ["employer_under_declared"]))).findings
    assert [f.subject_id for f in found] == ["LEFT", "UNDR"]
    assert found[0].evidence["insured"] == 0
