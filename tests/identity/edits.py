"""Random typing edits for the property tests of the string comparisons."""

from __future__ import annotations

from hypothesis import strategies as st


def edited(data: st.DataObject, text: str, alphabet: str, most: int) -> str:
    """``text`` with up to ``most`` random edits (swap, change, drop, insert from ``alphabet``)."""
    chars = list(text)
    for _ in range(data.draw(st.integers(0, most))):
        kind = data.draw(st.sampled_from(["swap", "change", "drop", "insert"]))
        at = data.draw(st.integers(0, max(len(chars) - 1, 0)))
        if kind == "swap" and at + 1 < len(chars):
            chars[at], chars[at + 1] = chars[at + 1], chars[at]
        elif kind == "change" and chars:
            chars[at] = data.draw(st.sampled_from(alphabet))
        elif kind == "drop" and chars:
            del chars[at]
        elif kind == "insert":
            chars.insert(at, data.draw(st.sampled_from(alphabet)))
    return "".join(chars)
