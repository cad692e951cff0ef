"""The assessment on Spark local mode decides exactly as on DuckDB: the same SQL text over the
same snapshot, the same money on every line, the same outcome and reasons on every claim.

Slow (Spark runs; the session is the run's shared ``spark_runtime``, tests/conftest.py); skipped
with the reason when pyspark or Java is missing, except under CI=true where that is a failure.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import Engine, select

from nidb.claims.assess import Assessment, assess_claims
from nidb.claims.catalogue import import_catalogue
from nidb.claims.intake import submit_claims
from nidb.engines.spark import SparkRuntime
from nidb.sim.generate.claims import (
    ERROR_KINDS,
    CardForClaims,
    ClaimDraft,
    envelope,
    synthetic_claims,
    write_catalogues,
    xml_tables,
)
from nidb.store.models_claims import Claim, ClaimLine
from tests import seed

# one worker under pytest-xdist (--dist loadgroup) runs every Spark test: one Spark session
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("spark")]

TODAY = date.today()


def _cards() -> list[tuple[CardForClaims, int, date | None]]:
    """Cards of every benefit level, some with five continuous years, every seventh suspended."""
    cards = []
    for n in range(60):
        code = f"DN{1 + n % 5}0101{n:08d}"
        card = CardForClaims(
            code,
            f"01{2 + n % 11:03d}",
            TODAY - timedelta(days=400),
            TODAY + timedelta(days=30),
            suspended=n % 7 == 3,
        )
        cards.append((card, 1 + n % 5, date(2015, 1, 1) if n % 4 == 0 else None))
    return cards


@pytest.fixture
def claims_submitted(engine: Engine, tmp_path: Path) -> Engine:
    """Three hundred generated claims, a third of them with one seeded error, taken in by the
    intake as the hospitals would send them."""
    cards = _cards()
    with seed.register(engine) as reg:
        for card, level, five_years in cards:
            reg.card(
                card.card_code[-10:],
                valid_from=card.valid_from,
                valid_to=card.valid_to,
                level=level,
                facility=card.facility_code,
                status="suspended" if card.suspended else "active",
                card_code=card.card_code,
                five_years_from=five_years,
            )
    for kind, path in write_catalogues(tmp_path, ["01"]).items():
        import_catalogue(engine, kind, path, "test")
    made = synthetic_claims(
        np.random.default_rng(11),
        [card for card, _, _ in cards],
        300,
        0.35,
        TODAY - timedelta(days=330),
        300,
    )
    by_facility: dict[str, list[ClaimDraft]] = defaultdict(list)
    for draft in made.claims:
        by_facility[draft.facility].append(draft)
    with engine.begin() as conn:
        for facility, drafts in sorted(by_facility.items()):
            answer = submit_claims(
                conn,
                f"VN/GOV/BYT/BV-{facility}",
                envelope(facility, [xml_tables(d) for d in drafts]),
            )
            assert answer.body["rejected"] == 0, answer.body
    return engine


def stored(engine: Engine) -> dict[int, dict[str, Any]]:
    """What the assessment wrote: each claim's decision and each of its lines' money."""
    with engine.connect() as conn:
        claims = {
            r.id: {
                "outcome": r.outcome,
                "accepted_total": r.accepted_total,
                "insurer_total": r.insurer_total,
                "reasons": r.reasons,
                "share_pct": r.share_pct,
                "lines": {},
            }
            for r in conn.execute(select(Claim.__table__))
        }
        for line in conn.execute(select(ClaimLine.__table__)):
            claims[line.claim_id]["lines"][line.id] = (
                line.accepted_amount,
                line.insurer_amount,
                line.reductions,
                line.payment_ratio,
            )
    return claims


def _sorted(result: Assessment) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    return (
        sorted(result.claims, key=lambda c: c["claim_key"]),
        sorted(result.lines, key=lambda line: line["line_id"]),
    )


# Spark reads the Parquet snapshot, never the register: the engine under the snapshot and the
# write-back is covered on both engines by the DuckDB tests (test_assess.py), so Spark's
# expensive parity run is made once, on SQLite (the suite's time budget: docs/testing.md).
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_spark_decides_every_claim_and_line_exactly_as_duckdb(
    claims_submitted: Engine, spark_runtime: SparkRuntime
) -> None:
    engine = claims_submitted
    duck = assess_claims(engine, "test", on="duckdb")
    by_duckdb = stored(engine)
    spark = assess_claims(engine, "test", again=True, on="spark")
    by_spark = stored(engine)

    # the draw exercises every rule and every outcome, so equality below says something
    assert set(ERROR_KINDS) <= set(duck.by_rule), duck.by_rule
    assert set(duck.by_outcome) == {"accepted", "reduced", "rejected"}
    assert {c["share_pct"] for c in duck.claims} >= {80, 95, 100}
    assert len(duck.claims) >= 300 and all(c["outcome"] for c in by_duckdb.values())

    assert _sorted(spark) == _sorted(duck)
    assert (spark.by_outcome, spark.by_rule) == (duck.by_outcome, duck.by_rule)
    assert by_spark == by_duckdb
