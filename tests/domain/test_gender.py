"""Specification of gender parsing."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nidb.domain.errors import InvalidGender
from nidb.domain.gender import Gender, parse_gender


@pytest.mark.parametrize("raw", ["M", "m", "Nam", "NAM", "nam", "male", "Male", "1", " M "])
def test_male_spellings_parse_to_male(raw: str) -> None:
    assert parse_gender(raw) is Gender.MALE


@pytest.mark.parametrize("raw", ["F", "f", "Nữ", "NỮ", "nữ", "Nu", "female", "FEMALE", "2"])
def test_female_spellings_parse_to_female(raw: str) -> None:
    assert parse_gender(raw) is Gender.FEMALE


def test_decomposed_nu_parses_like_composed() -> None:
    assert parse_gender(unicodedata.normalize("NFD", "Nữ")) is Gender.FEMALE


@pytest.mark.parametrize("raw", [None, "", "   ", "\t"])
def test_missing_gender_is_none(raw: str | None) -> None:
    assert parse_gender(raw) is None


@pytest.mark.parametrize("raw", ["X", "3", "0", "boy", "MF"])
def test_unknown_spelling_raises_gender_invalid_naming_the_field(raw: str) -> None:
    with pytest.raises(InvalidGender) as caught:
        parse_gender(raw, field="gioi_tinh")
    assert caught.value.rule == "GENDER_INVALID"
    assert caught.value.field == "gioi_tinh"
    assert caught.value.value == raw


def test_gender_values_are_the_interchange_codes() -> None:
    assert [g.value for g in Gender] == ["M", "F"]


@given(st.text())
def test_parse_gender_returns_a_gender_none_or_raises_invalid_gender(raw: str) -> None:
    try:
        result = parse_gender(raw)
    except InvalidGender:
        return
    assert result is None or isinstance(result, Gender)
