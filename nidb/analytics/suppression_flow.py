"""The exact audit of a suppressed two-way table, and the extra hiding it calls for.

A two-way table with its margins is a flow network: the source sends each row total to its
row, each cell carries its count from its row to its column, each column sends its total to
the sink, and the grand total flows back from the sink to the source. What a reader knows is
that network with the published flows fixed and the hidden ones free (≥ 0). The largest value a
hidden cell can take — combining every published figure at once — is therefore a question of a
feasible circulation, answered exactly by a maximum flow (network matrices are totally
unimodular: what is feasible over the reals is feasible over the integers).

:func:`protect_two_way` hides more cells until every hidden count below ``k`` could be ``k`` or
more as far as the reader can tell — so nothing published, alone or combined, shows it to be
small. The per-equation rules of :mod:`nidb.analytics.suppression` come first (they are cheap
and settle nearly every table); this audit catches patterns they miss, where two or more
equations pin a cell down together.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

Key = Any


class _Network:
    """A small max-flow network (Edmonds–Karp); nodes are ints, capacities ints."""

    def __init__(self, size: int) -> None:
        self.graph: list[list[list[int]]] = [[] for _ in range(size)]  # [to, cap, rev index]

    def add(self, u: int, v: int, capacity: int) -> None:
        self.graph[u].append([v, capacity, len(self.graph[v])])
        self.graph[v].append([u, 0, len(self.graph[u]) - 1])

    def max_flow(self, source: int, sink: int) -> int:
        flow = 0
        while True:
            parent: list[tuple[int, int] | None] = [None] * len(self.graph)
            parent[source] = (source, -1)
            queue = deque([source])
            while queue and parent[sink] is None:
                u = queue.popleft()
                for i, (v, capacity, _) in enumerate(self.graph[u]):
                    if capacity > 0 and parent[v] is None:
                        parent[v] = (u, i)
                        queue.append(v)
            if parent[sink] is None:
                return flow
            push, v = None, sink
            while v != source:
                u, i = parent[v]  # type: ignore[misc]
                capacity = self.graph[u][i][1]
                push = capacity if push is None else min(push, capacity)
                v = u
            assert push is not None
            v = sink
            while v != source:
                u, i = parent[v]  # type: ignore[misc]
                edge = self.graph[u][i]
                edge[1] -= push
                self.graph[v][edge[2]][1] += push
                v = u
            flow += push


def _edges(
    rows: Sequence[Hashable], columns: Sequence[Hashable], row_total: Hashable, col_total: Hashable
) -> list[tuple[Key, int, int]]:
    """Each published-or-hidden entry of the table as an edge (key, from node, to node)."""
    source, sink = 0, 1 + len(rows) + len(columns)
    row_node = {r: 1 + i for i, r in enumerate(rows)}
    col_node = {c: 1 + len(rows) + j for j, c in enumerate(columns)}
    edges: list[tuple[Key, int, int]] = [((r, col_total), source, row_node[r]) for r in rows]
    edges += [((r, c), row_node[r], col_node[c]) for r in rows for c in columns]
    edges += [((row_total, c), col_node[c], sink) for c in columns]
    edges.append(((row_total, col_total), sink, source))
    return edges


def can_reach(
    counts: Mapping[Key, int],
    hidden: set[Key],
    edges: list[tuple[Key, int, int]],
    target: Key,
    k: int,
) -> bool:
    """Whether the hidden entry ``target`` could be ``k`` or more given everything published."""
    nodes = 2 + max(max(u, v) for _, u, v in edges)
    infinite = sum(counts[key] for key, _, _ in edges) + k + 1
    network = _Network(nodes + 2)
    excess = [0] * nodes
    for key, u, v in edges:
        if key in hidden:
            low, high = (k, infinite) if key == target else (0, infinite)
        else:
            low = high = counts[key]
        if high > low:
            network.add(u, v, high - low)
        excess[v] += low
        excess[u] -= low
    super_source, super_sink = nodes, nodes + 1
    needed = 0
    for node, amount in enumerate(excess):
        if amount > 0:
            network.add(super_source, node, amount)
            needed += amount
        elif amount < 0:
            network.add(node, super_sink, -amount)
    return network.max_flow(super_source, super_sink) == needed


def exposed(
    counts: Mapping[Key, int],
    hidden: set[Key],
    rows: Sequence[Hashable],
    columns: Sequence[Hashable],
    row_total: Hashable,
    col_total: Hashable,
    k: int,
) -> list[Key]:
    """The hidden entries below ``k`` that the published figures, together, show to be below k."""
    edges = _edges(rows, columns, row_total, col_total)
    return [
        key
        for key, _, _ in edges
        if key in hidden and 0 < counts[key] < k and not can_reach(counts, hidden, edges, key, k)
    ]


def protect_two_way(
    counts: Mapping[Key, int],
    hidden: set[Key],
    rows: Sequence[Hashable],
    columns: Sequence[Hashable],
    row_total: Hashable,
    col_total: Hashable,
    k: int,
) -> bool:
    """Hide more entries (in place) until no small hidden count is exposed; whether it did.

    For an exposed entry, the published entries of its row and column (else of the table) are
    tried smallest first: the first whose hiding lets the entry reach ``k`` is hidden; if none
    does alone, the smallest is hidden and the audit runs again.
    """
    edges = _edges(rows, columns, row_total, col_total)
    changed = False
    while True:
        bad = exposed(counts, hidden, rows, columns, row_total, col_total, k)
        if not bad:
            return changed
        target = bad[0]
        r, c = target
        line = [key for key, _, _ in edges if key[0] == r or key[1] == c]
        candidates = sorted(
            (key for key in line if key not in hidden and counts[key] > 0),
            key=lambda key: (counts[key], repr(key)),
        )
        if not candidates:  # nothing left in its row and column: any published count
            candidates = sorted(
                (key for key, _, _ in edges if key not in hidden and counts[key] > 0),
                key=lambda key: (counts[key], repr(key)),
            )
        if not candidates:  # everything that is not zero is hidden: nothing more to do
            return changed
        chosen = next(
            (key for key in candidates if can_reach(counts, hidden | {key}, edges, target, k)),
            candidates[0],
        )
        hidden.add(chosen)
        changed = True
