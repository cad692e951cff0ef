"""Small-cell suppression for published counts (bảo vệ ô nhỏ), primary and secondary.

A published table is a set of named counts — interior cells and the totals over them — and the
equations that tie them (``total = sum of parts``). A reader knows every equation, so hiding a
small cell is not enough: if it is the only hidden entry of an equation, the total minus the
published parts gives it back, and if the hidden entries of an equation add up to less than
``k``, that difference alone says some of them are small.

:func:`suppress` hides, until nothing changes:

1. **primary** — every count ``0 < n < k``;
2. **secondary (complementary)** — in every equation holding a hidden entry, more entries
   until at least two are hidden and, when the total is published, the hidden parts add up to
   ``k`` or more (the smallest non-zero parts first, so that as little as possible is lost; a
   total is hidden only when its parts cannot cover it).

Zero counts are not sensitive (no one is singled out by "nobody") and are published. The result
satisfies, for every equation: no published entry ``0 < n < k``; no equation with exactly one
hidden entry; ``total − published parts`` is 0 or ≥ ``k`` — so neither a published figure nor
the difference of a published total and its published parts shows a count below ``k``
(tests/analytics check these on random tables). Those rules look at one equation at a time;
several equations solved together can still pin a cell down, so :func:`suppress_two_way` then
runs the exact audit of :mod:`nidb.analytics.suppression_flow` (a maximum-flow bound on every
hidden count below ``k``) and hides more until nothing small can be shown small.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# a cell's key: any hashable value (a name, a (row, column) pair); Any keeps Mapping's key
# type invariance from rejecting a dict of (str, str) keys
Key = Any


@dataclass(frozen=True)
class Equation:
    """A published total and the entries it sums."""

    total: Key
    parts: tuple[Key, ...]


def suppress(
    counts: Mapping[Key, int],
    equations: Sequence[Equation],
    k: int,
    hidden: set[Key] | None = None,
) -> set[Key]:
    """The keys of ``counts`` to hide so that no count below ``k`` can be seen or derived from
    one equation (``hidden``: keys already hidden, kept)."""
    if k < 1:
        raise ValueError("k must be at least 1")
    hidden = set(hidden or ()) | {key for key, n in counts.items() if 0 < n < k}
    changed = True
    while changed:
        changed = False
        for eq in equations:
            if _protect(counts, eq, hidden, k):
                changed = True
    return hidden


def _protect(counts: Mapping[Key, int], eq: Equation, hidden: set[Key], k: int) -> bool:
    """Hide more entries of ``eq`` if it gives a hidden entry away; whether it changed."""
    entries = (eq.total, *eq.parts)
    hidden_entries = [e for e in entries if e in hidden]
    if not hidden_entries:
        return False
    hidden_parts_sum = sum(counts[p] for p in eq.parts if p in hidden)
    total_published = eq.total not in hidden
    safe = len(hidden_entries) >= 2 and (
        not total_published or hidden_parts_sum == 0 or hidden_parts_sum >= k
    )
    if safe:
        return False
    candidates = sorted(
        (p for p in eq.parts if p not in hidden and counts[p] > 0),
        key=lambda p: (counts[p], repr(p)),
    )
    if candidates:
        hidden.add(candidates[0])
        return True
    if total_published:
        hidden.add(eq.total)
        return True
    # every non-zero part and the total are hidden already: the equation reveals nothing more
    return False


def two_way_equations(
    rows: Iterable[Hashable], columns: Iterable[Hashable], row_total: Hashable, col_total: Hashable
) -> list[Equation]:
    """The equations of a two-way table keyed ``(row, column)`` with both margins and the
    grand total at ``(row_total, col_total)``."""
    rows, columns = list(rows), list(columns)
    equations = [Equation((r, col_total), tuple((r, c) for c in columns)) for r in rows]
    equations += [Equation((row_total, c), tuple((r, c) for r in rows)) for c in columns]
    equations.append(Equation((row_total, col_total), tuple((r, col_total) for r in rows)))
    equations.append(Equation((row_total, col_total), tuple((row_total, c) for c in columns)))
    return equations


def two_way_counts(
    cells: Mapping[tuple[Key, Key], int],
    rows: Iterable[Hashable],
    columns: Iterable[Hashable],
    row_total: Hashable,
    col_total: Hashable,
) -> dict[tuple[Key, Key], int]:
    """Every cell of the table (zeros included) and its margins and grand total."""
    rows, columns = list(rows), list(columns)
    counts = {(r, c): int(cells.get((r, c), 0)) for r in rows for c in columns}
    for r in rows:
        counts[(r, col_total)] = sum(counts[(r, c)] for c in columns)
    for c in columns:
        counts[(row_total, c)] = sum(counts[(r, c)] for r in rows)
    counts[(row_total, col_total)] = sum(counts[(r, col_total)] for r in rows)
    return counts


def suppress_two_way(
    counts: Mapping[Key, int],
    rows: Sequence[Hashable],
    columns: Sequence[Hashable],
    row_total: Hashable,
    col_total: Hashable,
    k: int,
) -> set[Key]:
    """What to hide in a two-way table with margins: the per-equation rules, then the exact
    audit of :mod:`nidb.analytics.suppression_flow`, in turn until neither hides more."""
    from nidb.analytics.suppression_flow import protect_two_way

    equations = two_way_equations(rows, columns, row_total, col_total)
    hidden = suppress(counts, equations, k)
    while protect_two_way(counts, hidden, rows, columns, row_total, col_total, k):
        hidden = suppress(counts, equations, k, hidden)
    return hidden
