"""The synthetic claims carry their seeded errors, and the assessment finds each one and no other
(bench/claims.py at a small scale)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np

from nidb.sim.generate.claims import ERROR_KINDS, CardForClaims, synthetic_claims

BENCH = Path(__file__).resolve().parents[2] / "bench" / "claims.py"


def _bench():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("bench_claims", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_every_seeded_error_is_found_and_nothing_else_is_flagged() -> None:
    report = _bench().run(lines=4_000, error_share=0.2, seed=7)
    scores = report["engines"]["duckdb"]["scores"]
    assert set(scores) == set(ERROR_KINDS)
    for rule, (found, false_alarms, missed) in scores.items():
        assert found > 0 and false_alarms == 0 and missed == 0, rule


def test_the_generator_is_deterministic_for_a_seed() -> None:
    from datetime import date

    cards = [
        CardForClaims(f"DN401010000000{n}", "01005", date(2026, 1, 1), date(2026, 12, 31))
        for n in range(5)
    ]
    first, second = (
        synthetic_claims(np.random.default_rng(3), cards, 50, 0.3, date(2026, 2, 1), 100)
        for _ in range(2)
    )
    assert first.truth == second.truth and first.truth
    assert [c.ma_lk for c in first.claims] == [c.ma_lk for c in second.claims]
