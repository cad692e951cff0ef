"""Small-cell suppression: no published figure, and no difference of a published total and its
published parts, shows a count below k (property tests on random two-way tables)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from nidb.analytics.suppression import (
    Equation,
    suppress,
    two_way_counts,
    two_way_equations,
)


def audit(counts: dict, equations: list[Equation], hidden: set, k: int) -> list[str]:  # type: ignore[type-arg]
    """Every way the published figures give a small count away."""
    leaks = [f"{key}={n} published" for key, n in counts.items() if key not in hidden and 0 < n < k]
    for eq in equations:
        entries = (eq.total, *eq.parts)
        hidden_entries = [e for e in entries if e in hidden]
        if len(hidden_entries) == 1:
            leaks.append(f"{hidden_entries[0]} is the only hidden entry of {eq.total}")
        if eq.total not in hidden:
            difference = counts[eq.total] - sum(counts[p] for p in eq.parts if p not in hidden)
            if 0 < difference < k:
                leaks.append(f"{eq.total} minus its published parts = {difference}")
    return leaks


small_counts = st.one_of(st.integers(0, 3), st.integers(0, 12), st.integers(0, 300))


@settings(max_examples=300, deadline=None)
@given(
    rows=st.integers(1, 6),
    columns=st.integers(1, 6),
    k=st.integers(2, 15),
    data=st.data(),
)
def test_no_published_figure_or_difference_reveals_a_small_count(
    rows: int, columns: int, k: int, data: st.DataObject
) -> None:
    row_keys, column_keys = [f"r{i}" for i in range(rows)], [f"c{j}" for j in range(columns)]
    cells = {(r, c): data.draw(small_counts) for r in row_keys for c in column_keys}
    counts = two_way_counts(cells, row_keys, column_keys, "R", "C")
    equations = two_way_equations(row_keys, column_keys, "R", "C")
    hidden = suppress(counts, equations, k)
    assert audit(counts, equations, hidden, k) == []
    assert all(counts[key] > 0 for key in hidden)  # nothing is hidden to protect a zero


def test_a_lone_small_cell_takes_a_complement_in_its_row_and_column() -> None:
    cells = {("a", "x"): 3, ("a", "y"): 40, ("b", "x"): 50, ("b", "y"): 60}
    counts = two_way_counts(cells, ["a", "b"], ["x", "y"], "R", "C")
    hidden = suppress(counts, two_way_equations(["a", "b"], ["x", "y"], "R", "C"), 10)
    # the 3 alone would be the row total minus 40: all four interior cells must go
    assert hidden == {("a", "x"), ("a", "y"), ("b", "x"), ("b", "y")}


def test_two_small_cells_of_one_row_are_not_enough_when_they_sum_below_k() -> None:
    counts = {"t": 54, "p1": 2, "p2": 2, "p3": 50}
    hidden = suppress(counts, [Equation("t", ("p1", "p2", "p3"))], 10)
    assert hidden == {"p1", "p2", "p3"}  # 2 + 2 = 4 would show through t - 50


def test_zero_cells_are_published() -> None:
    counts = two_way_counts({("a", "x"): 0, ("a", "y"): 20}, ["a"], ["x", "y"], "R", "C")
    assert suppress(counts, two_way_equations(["a"], ["x", "y"], "R", "C"), 10) == set()


def test_the_plain_primary_rule_alone_would_leak() -> None:
    """The audit catches what primary suppression alone leaves: the test can fail."""
    counts = two_way_counts({("a", "x"): 3, ("a", "y"): 40}, ["a"], ["x", "y"], "R", "C")
    equations = two_way_equations(["a"], ["x", "y"], "R", "C")
    assert audit(counts, equations, {("a", "x")}, 10)
