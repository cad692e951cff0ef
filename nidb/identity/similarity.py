"""Jaro-Winkler similarity exactly as DuckDB computes it, for engines that compute it otherwise.

The address comparison (``model``) asks whether two addresses' Jaro-Winkler similarity reaches
0.92. DuckDB's ``jaro_winkler_similarity`` (rapidfuzz's algorithm, on Unicode characters) and
the Jaro-Winkler of the jar Splink ships for Spark do not agree: the jar matches characters in
another order and gives other values for strings of different lengths (``số 82 đ. âu cơ, p. phú
lâm`` against ``số 82 đường âu cơ, phường phú lâm``: 0.9217 in DuckDB, 0.9176 on Spark), and
DuckDB's build fuses the Winkler step's multiply and add into one rounding, so a similarity of
exactly 0.92 is 0.92 there and 0.9199999999999999 in plain arithmetic. Either puts a pair on the
other side of the level. The Spark engine therefore registers this function
(``nidb.identity.spark``), which reproduces DuckDB's values bit for bit (tested against DuckDB
on generated strings).
"""

from __future__ import annotations

from fractions import Fraction

PREFIX_WEIGHT = 0.1
"""Winkler's weight of each leading character in common (at most ``MAX_PREFIX``)."""
MAX_PREFIX = 4
BOOST_ABOVE = 0.7
"""Only a Jaro similarity above this gets the common prefix's boost."""


def jaro(first: str, second: str) -> float:
    """The Jaro similarity of two strings' characters (code points), as DuckDB's ``jaro_similarity``.

    The shorter string is the pattern; each character of the other, in order, takes the first
    unmatched equal character of the pattern within the window (half the longer length, less
    one), which is how rapidfuzz's bit-parallel search assigns matches.
    """
    pattern, text = (first, second) if len(first) <= len(second) else (second, first)
    if not pattern:
        return 0.0
    if pattern == text:
        return 1.0
    bound = max(0, max(len(pattern), len(text)) // 2 - 1)
    places: dict[str, list[int]] = {}
    for place, character in enumerate(pattern):
        places.setdefault(character, []).append(place)
    taken = [False] * len(pattern)
    matched_text: list[str] = []
    for position, character in enumerate(text):
        for candidate in places.get(character, ()):
            if candidate > position + bound:
                break
            if candidate >= position - bound and not taken[candidate]:
                taken[candidate] = True
                matched_text.append(character)
                break
    common = len(matched_text)
    if common == 0:
        return 0.0
    matched_pattern = [c for c, was_taken in zip(pattern, taken, strict=True) if was_taken]
    transpositions = sum(a != b for a, b in zip(matched_pattern, matched_text, strict=True)) // 2
    similarity = 0.0
    similarity += common / len(pattern)
    similarity += common / len(text)
    similarity += (common - transpositions) / common
    return similarity / 3.0


def jaro_winkler(first: str | None, second: str | None) -> float | None:
    """DuckDB's ``jaro_winkler_similarity(first, second)``, bit for bit (null if either is)."""
    if first is None or second is None:
        return None
    similarity = jaro(first, second)
    if similarity <= BOOST_ABOVE:
        return similarity
    prefix = 0
    for a, b in zip(first[:MAX_PREFIX], second[:MAX_PREFIX], strict=False):
        if a != b:
            break
        prefix += 1
    # prefix · weight · (1 − similarity) + similarity in one rounding, as DuckDB's fused
    # multiply-add does (Python 3.11 has no math.fma; the exact fraction rounds once)
    step = prefix * PREFIX_WEIGHT
    boosted = Fraction(step) * Fraction(1.0 - similarity) + Fraction(similarity)
    return min(float(boosted), 1.0)
