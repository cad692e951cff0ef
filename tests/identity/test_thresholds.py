"""Automatic thresholds set by each run from a target rate of wrong links, not constants."""

from __future__ import annotations

import duckdb
from hypothesis import given, settings
from hypothesis import strategies as st

from nidb.identity.dedupe import DedupeThresholds
from nidb.identity.dedupe import auto_threshold as dedupe_threshold
from nidb.identity.match import Thresholds
from nidb.identity.match import auto_threshold as match_threshold


def _match_threshold(scores: list[tuple[float, bool]], thresholds: Thresholds) -> float:
    con = duckdb.connect()
    con.execute("CREATE TEMP TABLE eligible (p DOUBLE, may_auto BOOLEAN)")
    con.executemany("INSERT INTO eligible VALUES (?, ?)", scores)
    try:
        return match_threshold(con, thresholds)
    finally:
        con.close()


def test_a_sure_batch_links_down_to_where_the_expected_wrong_links_fill_the_budget() -> None:
    # 100,000 records at a rate of 1e-5: one wrong link expected at most
    scores = [(1.0, True)] * 99_990 + [(0.999, True)] * 5 + [(0.995, True)] * 5
    threshold = _match_threshold(scores, Thresholds(auto_error_rate=1e-5, auto_floor=0.5))
    assert threshold == 0.995  # 5 × 0.001 + 5 × 0.005 = 0.03 ≤ 1


def test_a_less_sure_batch_gets_a_stricter_threshold() -> None:
    scores = [(1.0, True)] * 900 + [(0.999, True)] * 100
    assert _match_threshold(scores, Thresholds(auto_error_rate=1e-5, auto_floor=0.5)) == 1.0


def test_records_that_may_not_be_linked_automatically_neither_count_nor_spend() -> None:
    scores = [(1.0, True)] * 1000 + [(0.6, False)] * 1000 + [(0.999, True)] * 10
    # budget 2,010 × 1e-5 = 0.0201; ten at 0.999 spend 0.01
    assert _match_threshold(scores, Thresholds(auto_error_rate=1e-5, auto_floor=0.5)) == 0.999


def test_the_floor_holds_whatever_the_budget() -> None:
    scores = [(1.0, True)] * 10_000 + [(0.9, True)]
    assert _match_threshold(scores, Thresholds(auto_error_rate=1e-3, auto_floor=0.99)) == 0.99


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(0.5, 1.0), min_size=1, max_size=300), st.sampled_from([1e-4, 1e-3]))
def test_the_pairs_joined_at_the_dedupe_threshold_keep_the_expected_wrong_share(
    probabilities: list[float], share: float
) -> None:
    thresholds = DedupeThresholds(auto_wrong_share=share, auto_floor=0.5)
    threshold = dedupe_threshold(probabilities, thresholds)
    joined = [p for p in probabilities if p >= threshold]
    if joined:
        assert sum(1 - p for p in joined) <= share * len(joined) + 1e-9
    # and one more step down would break it (or there is none)
    below = [p for p in probabilities if p < threshold]
    if below and threshold > 0.5:
        more = joined + [p for p in below if p == max(below)]
        assert sum(1 - p for p in more) > share * len(more)
