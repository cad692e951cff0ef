"""ICD-10 chapters: the Python lookup and the SQL CASE agree, and cover the 22 chapters."""

from __future__ import annotations

import itertools

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nidb.domain.icd10 import CHAPTERS, UnknownIcd10Chapter, chapter_case_sql, chapter_of


@pytest.mark.parametrize(
    ("code", "roman"),
    [
        ("A09", "I"),
        ("B34.9", "I"),
        ("C50.9", "II"),
        ("D48", "II"),
        ("D64.9", "III"),
        ("E11.9", "IV"),
        ("H10.9", "VII"),
        ("H66.9", "VIII"),
        ("I10", "IX"),
        ("j189", "X"),
        ("K29.7", "XI"),
        ("O80", "XV"),
        ("S72.0", "XIX"),
        ("T14.0", "XIX"),
        ("Z00.0", "XXI"),
        ("U07.1", "XXII"),
    ],
)
def test_codes_fall_in_their_chapter(code: str, roman: str) -> None:
    assert chapter_of(code).roman == roman


def test_there_are_22_chapters_in_order_without_overlap() -> None:
    assert [c.number for c in CHAPTERS] == list(range(1, 23))
    ranges = sorted((c.first, c.last) for c in CHAPTERS)
    assert all(a[1] < b[0] for a, b in itertools.pairwise(ranges))
    assert all(c.title_vi and c.title_en for c in CHAPTERS)


@pytest.mark.parametrize("code", ["", "J", "1234", "??", "D49"])
def test_a_code_outside_every_chapter_is_refused(code: str) -> None:
    with pytest.raises(UnknownIcd10Chapter):
        chapter_of(code)


@settings(max_examples=200, deadline=None)
@given(letter=st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), number=st.integers(0, 99))
def test_the_sql_case_gives_the_same_chapter_as_python(letter: str, number: int) -> None:
    code = f"{letter}{number:02d}.1"
    try:
        expected = chapter_of(code).number
    except UnknownIcd10Chapter:
        expected = 0
    rows = duckdb.sql(f"SELECT {chapter_case_sql(repr(code))}").fetchall()
    assert rows == [(expected,)]
