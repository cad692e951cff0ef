"""Small-cell suppression: no published figure, and no difference of a published total and its
published parts, shows a count below k (property tests on random two-way tables)."""

from __future__ import annotations

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from nidb.analytics.suppression import (
    Equation,
    suppress,
    suppress_two_way,
    two_way_counts,
    two_way_equations,
)
from nidb.analytics.suppression_flow import can_reach, exposed


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
    hidden = suppress_two_way(counts, row_keys, column_keys, "R", "C", k)
    assert audit(counts, equations, hidden, k) == []
    assert exposed(counts, hidden, row_keys, column_keys, "R", "C", k) == []
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


def largest_value(hidden: list[tuple[str, str]], row_rest: dict[str, int], col_rest: dict[str, int], target: tuple[str, str]) -> int:  # fmt: skip
    """The largest value ``target`` can take, given every published figure: integers ≥ 0 in
    the hidden cells that add up to what each row and column total leaves (depth-first)."""
    best = -1
    order = sorted(hidden)

    def place(i: int, rows: dict[str, int], cols: dict[str, int], value: int) -> None:
        nonlocal best
        if i == len(order):
            if all(v == 0 for v in rows.values()) and all(v == 0 for v in cols.values()):
                best = max(best, value)
            return
        r, c = order[i]
        last_in_row = all(cell[0] != r for cell in order[i + 1 :])
        options = [rows[r]] if last_in_row else range(min(rows[r], cols[c]), -1, -1)
        for x in options:
            if x > cols[c]:
                continue
            rows[r] -= x
            cols[c] -= x
            place(i + 1, rows, cols, x if (r, c) == target else value)
            rows[r] += x
            cols[c] += x

    place(0, dict(row_rest), dict(col_rest), 0)
    return best


@settings(max_examples=150, deadline=None)
@given(rows=st.integers(2, 3), columns=st.integers(2, 3), k=st.integers(3, 6), data=st.data())
def test_no_hidden_cell_can_be_bounded_below_k_by_all_equations_together(
    rows: int, columns: int, k: int, data: st.DataObject
) -> None:
    """The exact audit on small tables whose margins stay published: solving every row and
    column equation together, each hidden cell could still be k or more."""
    row_keys, column_keys = [f"r{i}" for i in range(rows)], [f"c{j}" for j in range(columns)]
    cells = {(r, c): data.draw(st.integers(0, 9)) for r in row_keys for c in column_keys}
    counts = two_way_counts(cells, row_keys, column_keys, "R", "C")
    hidden = suppress_two_way(counts, row_keys, column_keys, "R", "C", k)
    interior = [key for key in hidden if key[0] != "R" and key[1] != "C"]
    assume(interior and len(interior) == len(hidden))  # margins all published
    row_rest = {r: sum(counts[(r, c)] for c in column_keys if (r, c) in hidden) for r in row_keys}
    col_rest = {c: sum(counts[(r, c)] for r in row_keys if (r, c) in hidden) for c in column_keys}
    for cell in interior:
        largest = largest_value(interior, row_rest, col_rest, cell)
        assert largest >= k, (cell, counts, hidden)
        # the max-flow audit agrees with the enumeration
        edges_ok = can_reach(counts, hidden, _edges_of(row_keys, column_keys), cell, k)
        assert edges_ok == (largest >= k)


def _edges_of(rows: list[str], columns: list[str]) -> list[tuple[object, int, int]]:
    from nidb.analytics.suppression_flow import _edges

    return _edges(rows, columns, "R", "C")


def test_equations_one_at_a_time_miss_what_they_show_together() -> None:
    """Found by the exact audit: every equation holds two or more hidden entries whose sum is
    k or more, yet all equations together show the 1 and the 2 of row r1 to be below 4."""
    rows, columns = ["r0", "r1", "r2"], ["c0", "c1", "c2"]
    values = [[0, 0, 4], [1, 2, 3], [3, 3, 4]]
    cells = {(r, c): values[i][j] for i, r in enumerate(rows) for j, c in enumerate(columns)}
    counts = two_way_counts(cells, rows, columns, "R", "C")
    equations = two_way_equations(rows, columns, "R", "C")
    per_equation = suppress(counts, equations, 4)
    assert audit(counts, equations, per_equation, 4) == []
    assert exposed(counts, per_equation, rows, columns, "R", "C", 4) == [
        ("r1", "c0"),
        ("r1", "c1"),
    ]
    together = suppress_two_way(counts, rows, columns, "R", "C", 4)
    assert exposed(counts, together, rows, columns, "R", "C", 4) == []
    assert audit(counts, equations, together, 4) == []
    assert per_equation < together
