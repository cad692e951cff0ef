"""Specification of dates: partial birth dates, strict dates and months."""

from __future__ import annotations

import contextlib
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nidb.domain.dates import (
    PartialDate,
    Precision,
    parse_birth_date,
    parse_date,
    parse_month,
)
from nidb.domain.errors import InvalidDate

TODAY = date(2025, 6, 15)

birth_days = st.dates(min_value=date(1880, 1, 1), max_value=TODAY)


@st.composite
def partial_dates(draw: st.DrawFn) -> PartialDate:
    """A valid birth date at any precision, not after TODAY."""
    day = draw(birth_days)
    precision = draw(st.sampled_from(list(Precision)))
    if precision is Precision.YEAR:
        return PartialDate(day.year)
    if precision is Precision.MONTH:
        return PartialDate(day.year, day.month)
    return PartialDate(day.year, day.month, day.day)


# --- PartialDate ------------------------------------------------------------------------------


def test_partial_date_precision_and_iso_text() -> None:
    assert PartialDate(1980).precision is Precision.YEAR
    assert PartialDate(1980).iso() == "1980"
    assert PartialDate(1980, 5).precision is Precision.MONTH
    assert PartialDate(1980, 5).iso() == "1980-05"
    assert PartialDate(1980, 5, 7).precision is Precision.DAY
    assert PartialDate(1980, 5, 7).iso() == "1980-05-07"


def test_partial_date_spans_from_earliest_to_latest_day() -> None:
    assert (PartialDate(1980).earliest(), PartialDate(1980).latest()) == (
        date(1980, 1, 1),
        date(1980, 12, 31),
    )
    assert PartialDate(2024, 2).latest() == date(2024, 2, 29)
    assert PartialDate(2023, 2).latest() == date(2023, 2, 28)
    day = PartialDate(1980, 5, 7)
    assert day.earliest() == day.latest() == date(1980, 5, 7)


def test_year_only_birth_date_agrees_with_full_date_in_same_year() -> None:
    assert PartialDate(1980).agrees_with(PartialDate(1980, 5, 17))
    assert PartialDate(1980, 5, 17).agrees_with(PartialDate(1980))
    assert PartialDate(1980, 5).agrees_with(PartialDate(1980, 5, 17))


def test_dates_disagree_on_any_component_both_know() -> None:
    assert not PartialDate(1981).agrees_with(PartialDate(1980, 5, 17))
    assert not PartialDate(1980, 6).agrees_with(PartialDate(1980, 5, 17))
    assert not PartialDate(1980, 5, 18).agrees_with(PartialDate(1980, 5, 17))


def test_swapped_day_and_month_is_recognised() -> None:
    assert PartialDate(1980, 5, 7).is_day_month_swap_of(PartialDate(1980, 7, 5))
    assert not PartialDate(1980, 5, 5).is_day_month_swap_of(PartialDate(1980, 5, 5))
    assert not PartialDate(1980, 5, 7).is_day_month_swap_of(PartialDate(1981, 7, 5))
    assert not PartialDate(1980, 5).is_day_month_swap_of(PartialDate(1980, 5))


def test_first_of_january_looks_like_a_year_placeholder() -> None:
    assert PartialDate(1950, 1, 1).looks_like_year_placeholder()
    assert not PartialDate(1950).looks_like_year_placeholder()
    assert not PartialDate(1950, 1).looks_like_year_placeholder()
    assert not PartialDate(1950, 1, 2).looks_like_year_placeholder()


def test_partial_dates_sort_chronologically_unknown_parts_first() -> None:
    dates = [PartialDate(1980, 1, 1), PartialDate(1981), PartialDate(1980), PartialDate(1980, 1)]
    assert sorted(dates) == [
        PartialDate(1980),
        PartialDate(1980, 1),
        PartialDate(1980, 1, 1),
        PartialDate(1981),
    ]
    assert PartialDate(1980) <= PartialDate(1980) < PartialDate(1980, 1)
    assert PartialDate(1981) >= PartialDate(1980, 12, 31) > PartialDate(1980, 12)


@pytest.mark.parametrize(
    ("year", "month", "day"), [(1980, 13, None), (1980, 0, None), (2023, 2, 29), (1980, None, 5)]
)
def test_impossible_partial_date_cannot_be_built(
    year: int, month: int | None, day: int | None
) -> None:
    with pytest.raises(InvalidDate) as caught:
        PartialDate(year, month, day)
    assert caught.value.rule == "DATE_IMPOSSIBLE"


@given(partial_dates(), partial_dates())
def test_agreement_is_symmetric_and_implied_by_equality(a: PartialDate, b: PartialDate) -> None:
    assert a.agrees_with(b) == b.agrees_with(a)
    if a == b:
        assert a.agrees_with(b)


@given(partial_dates())
def test_earliest_and_latest_bracket_the_date_and_agree_with_it(value: PartialDate) -> None:
    assert value.earliest() <= value.latest()
    for bound in (value.earliest(), value.latest()):
        assert PartialDate(bound.year, bound.month, bound.day).agrees_with(value)


# --- parse_birth_date -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1980-05-07", PartialDate(1980, 5, 7)), ("1980-05", PartialDate(1980, 5)),
     ("1980", PartialDate(1980)), ("07/05/1980", PartialDate(1980, 5, 7)),
     ("7/5/1980", PartialDate(1980, 5, 7)), ("07-05-1980", PartialDate(1980, 5, 7)),
     ("  1980-05-07\t", PartialDate(1980, 5, 7))],
)  # fmt: skip
def test_birth_date_forms(raw: str, expected: PartialDate) -> None:
    assert parse_birth_date(raw, today=TODAY) == expected


@pytest.mark.parametrize(
    "raw",
    ["", "80", "1980/05/07", "1980-5-7", "07/05-1980", "May 1980", "1980-05-07T00:00",
     "١٩٨٠", "07.05.1980", "05/1980"],
)  # fmt: skip
def test_other_forms_raise_date_format_naming_the_field(raw: str) -> None:
    with pytest.raises(InvalidDate) as caught:
        parse_birth_date(raw, field="ngay_sinh", today=TODAY)
    assert caught.value.rule == "DATE_FORMAT"
    assert caught.value.field == "ngay_sinh"
    assert caught.value.value == raw


@pytest.mark.parametrize("raw", ["2023-02-29", "2023-02-30", "1980-13", "31/04/1980", "0/5/1980"])
def test_impossible_birth_date_raises_date_impossible(raw: str) -> None:
    with pytest.raises(InvalidDate) as caught:
        parse_birth_date(raw, today=TODAY)
    assert caught.value.rule == "DATE_IMPOSSIBLE"


def test_birth_date_after_today_raises_date_future() -> None:
    with pytest.raises(InvalidDate) as caught:
        parse_birth_date("2025-06-16", today=TODAY)
    assert caught.value.rule == "DATE_FUTURE"
    assert parse_birth_date("2025-06-15", today=TODAY) == PartialDate(2025, 6, 15)


def test_partial_birth_date_is_future_only_if_it_cannot_have_begun() -> None:
    assert parse_birth_date("2025", today=TODAY) == PartialDate(2025)
    assert parse_birth_date("2025-06", today=TODAY) == PartialDate(2025, 6)
    with pytest.raises(InvalidDate):
        parse_birth_date("2025-07", today=TODAY)


def test_birth_date_far_in_the_future_raises_date_future_with_the_real_clock() -> None:
    with pytest.raises(InvalidDate) as caught:
        parse_birth_date("2999-01-01")
    assert caught.value.rule == "DATE_FUTURE"


def test_birth_date_before_1880_raises_date_too_old() -> None:
    with pytest.raises(InvalidDate) as caught:
        parse_birth_date("1879-12-31", today=TODAY)
    assert caught.value.rule == "DATE_TOO_OLD"
    assert parse_birth_date("1880", today=TODAY) == PartialDate(1880)


@given(partial_dates())
def test_birth_date_round_trips_through_iso(value: PartialDate) -> None:
    assert parse_birth_date(value.iso(), today=TODAY) == value


@given(birth_days)
def test_day_first_form_means_the_same_day_as_iso(day: date) -> None:
    iso = parse_birth_date(day.isoformat(), today=TODAY)
    assert parse_birth_date(day.strftime("%d/%m/%Y"), today=TODAY) == iso
    assert parse_birth_date(f"{day.day}/{day.month}/{day.year}", today=TODAY) == iso
    assert parse_birth_date(day.strftime("%d-%m-%Y"), today=TODAY) == iso


@given(st.text(max_size=12))
def test_birth_date_parser_raises_only_invalid_date(raw: str) -> None:
    with contextlib.suppress(InvalidDate):
        parse_birth_date(raw, today=TODAY)


@given(st.from_regex(r"[0-9]{1,4}[-/][0-9]{1,2}[-/][0-9]{1,4}", fullmatch=True))
def test_date_like_text_parses_or_raises_invalid_date(raw: str) -> None:
    with contextlib.suppress(InvalidDate):
        parse_birth_date(raw, today=TODAY)


# --- parse_date and parse_month ---------------------------------------------------------------


def test_parse_date_reads_strict_iso() -> None:
    assert parse_date(" 2024-07-01 ", "valid_from") == date(2024, 7, 1)


@pytest.mark.parametrize(
    ("raw", "rule"),
    [("01/07/2024", "DATE_FORMAT"), ("2024-07", "DATE_FORMAT"), ("2024-7-1", "DATE_FORMAT"),
     ("2024-02-30", "DATE_IMPOSSIBLE"), ("2024-13-01", "DATE_IMPOSSIBLE"), ("0000-01-01", "DATE_IMPOSSIBLE")],
)  # fmt: skip
def test_parse_date_rules(raw: str, rule: str) -> None:
    with pytest.raises(InvalidDate) as caught:
        parse_date(raw, "valid_from")
    assert (caught.value.rule, caught.value.field, caught.value.value) == (rule, "valid_from", raw)


def test_parse_date_allows_the_future_unless_told_not_to() -> None:
    assert parse_date("2030-01-01", "valid_to", today=TODAY) == date(2030, 1, 1)
    with pytest.raises(InvalidDate) as caught:
        parse_date("2025-06-16", "death_date", today=TODAY, allow_future=False)
    assert caught.value.rule == "DATE_FUTURE"
    assert parse_date("2025-06-15", "death_date", today=TODAY, allow_future=False)
    with pytest.raises(InvalidDate):
        parse_date("2999-01-01", "death_date", allow_future=False)


@given(st.dates())
def test_parse_date_round_trips_isoformat(day: date) -> None:
    assert parse_date(day.isoformat(), "d") == day


@given(st.text(max_size=12))
def test_parse_date_raises_only_invalid_date(raw: str) -> None:
    with contextlib.suppress(InvalidDate):
        parse_date(raw, "d", allow_future=False)


def test_parse_month_reads_year_and_month() -> None:
    assert parse_month("2024-07", "period") == (2024, 7)
    assert parse_month(" 2024-12 ", "period") == (2024, 12)


@pytest.mark.parametrize(
    "raw", ["2024-13", "2024-00", "2024-7", "07/2024", "2024-07-01", "", "0000-01"]
)
def test_malformed_month_raises_month_format(raw: str) -> None:
    with pytest.raises(InvalidDate) as caught:
        parse_month(raw, "period")
    assert (caught.value.rule, caught.value.field) == ("MONTH_FORMAT", "period")


@given(st.integers(min_value=1, max_value=9999), st.integers(min_value=1, max_value=12))
def test_parse_month_round_trips(year: int, month: int) -> None:
    assert parse_month(f"{year:04d}-{month:02d}", "period") == (year, month)


@given(st.text(max_size=10))
def test_parse_month_raises_only_invalid_date(raw: str) -> None:
    with contextlib.suppress(InvalidDate):
        parse_month(raw, "period")
