"""Canonical JSON: the bytes every signature and access-log hash covers must never drift."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nidb.protocol.canonical import NotCanonical, canonical_json


def reference(value: Any) -> bytes:
    """The definition: sorted keys, no whitespace, UTF-8 unescaped (INTERCHANGE.md)."""
    return json.dumps(
        value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
    ).encode("utf-8")


text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)  # no lone surrogates
values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=20,
)


@given(values)
def test_the_bytes_are_the_reference_bytes(value: Any) -> None:
    assert canonical_json(value) == reference(value)


def test_vietnamese_and_control_characters_are_written_as_the_reference_writes_them() -> None:
    value = {"ư": 'Nguyễn\u0001\n\t"\\\u2028\x7f😀', "a": [True, None, -1]}
    assert canonical_json(value) == reference(value)
    assert canonical_json(value).startswith(b'{"a":[true,null,-1],"\xc6\xb0":"Nguy')


@pytest.mark.parametrize(
    "value",
    [
        {"amount": 1.5},
        [1, {"nested": float("nan")}],
        {1: "integer key"},
        {"day": date(2026, 1, 1)},
        {"big": 2**70},
        {"lone": "\ud800"},
    ],
)
def test_values_without_one_canonical_form_are_refused(value: Any) -> None:
    with pytest.raises(NotCanonical):
        canonical_json(value)
