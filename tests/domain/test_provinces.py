"""Specification of the province catalogues and the 2025 merger."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nidb.domain.errors import InvalidProvinceCode
from nidb.domain.provinces import (
    MERGER_DATE,
    PROVINCES_34,
    PROVINCES_63,
    id_prefix,
    is_province_code,
    predecessors,
    province,
    successor,
)

EVE_OF_MERGER = MERGER_DATE - timedelta(days=1)


def test_catalogues_have_63_and_34_provinces() -> None:
    assert len(PROVINCES_63) == 63
    assert len(PROVINCES_34) == 34


def test_every_code_is_two_digits_and_keyed_by_itself() -> None:
    for catalogue in (PROVINCES_63, PROVINCES_34):
        for code, record in catalogue.items():
            assert record.code == code
            assert len(code) == 2 and code.isdigit()


def test_every_new_code_was_already_an_old_code() -> None:
    assert set(PROVINCES_34) <= set(PROVINCES_63)


def test_merger_maps_every_old_code_to_exactly_one_new_code() -> None:
    merged = [old for new in PROVINCES_34 for old in predecessors(new)]
    assert sorted(merged) == sorted(PROVINCES_63)


def test_new_province_keeps_the_code_of_its_seat() -> None:
    for new in PROVINCES_34:
        assert predecessors(new)[0] == new
        assert successor(new) == new


@pytest.mark.parametrize(
    ("new", "olds"),
    [
        ("08", ("08", "02")),
        ("25", ("25", "26", "17")),
        ("37", ("37", "35", "36")),
        ("79", ("79", "74", "77")),
        ("92", ("92", "94", "93")),
        ("01", ("01",)),
    ],
)
def test_predecessors_follow_resolution_202(new: str, olds: tuple[str, ...]) -> None:
    assert predecessors(new) == olds


@pytest.mark.parametrize(
    ("old", "new"), [("02", "08"), ("10", "15"), ("27", "24"), ("77", "79"), ("95", "96")]
)
def test_closed_code_succeeds_to_its_merged_province(old: str, new: str) -> None:
    assert successor(old) == new


def test_code_15_is_yen_bai_until_the_merger_and_lao_cai_after() -> None:
    assert province("15", on=EVE_OF_MERGER).name == "Yên Bái"
    assert province("15", on=MERGER_DATE).name == "Lào Cai"
    assert PROVINCES_63["15"].name == "Yên Bái"
    assert PROVINCES_34["15"].name == "Lào Cai"


def test_without_a_date_the_current_name_is_preferred() -> None:
    assert province("15").name == "Lào Cai"
    assert province("24").name == "Bắc Ninh"
    assert province("27").name == "Bắc Ninh"  # closed code: its last name


@pytest.mark.parametrize(
    ("code", "name"),
    [("44", "Quảng Trị"), ("46", "Huế"), ("52", "Gia Lai"), ("80", "Tây Ninh"),
     ("82", "Đồng Tháp"), ("91", "An Giang"), ("96", "Cà Mau"), ("79", "TP. Hồ Chí Minh")],
)  # fmt: skip
def test_names_of_the_34_provinces(code: str, name: str) -> None:
    assert PROVINCES_34[code].name == name


def test_closed_code_is_valid_until_30_june_2025_only() -> None:
    assert PROVINCES_63["02"].valid_to == EVE_OF_MERGER
    assert province("02", on=EVE_OF_MERGER).name == "Hà Giang"
    with pytest.raises(InvalidProvinceCode) as caught:
        province("02", on=MERGER_DATE)
    assert caught.value.rule == "PROVINCE_UNKNOWN"


def test_unchanged_province_is_one_record_valid_throughout() -> None:
    hanoi = PROVINCES_63["01"]
    assert hanoi is PROVINCES_34["01"]
    assert hanoi.valid_from is None and hanoi.valid_to is None
    assert province("01", on=date(1990, 1, 1)) is province("01", on=date(2030, 1, 1))


def test_renamed_code_has_two_records_that_meet_at_the_merger() -> None:
    old, new = PROVINCES_63["80"], PROVINCES_34["80"]
    assert (old.name, new.name) == ("Long An", "Tây Ninh")
    assert old.valid_to == EVE_OF_MERGER and new.valid_from == MERGER_DATE


def test_hue_became_a_city_on_1_january_2025() -> None:
    assert province("46", on=date(2024, 12, 31)).name == "Thừa Thiên Huế"
    assert province("46", on=date(2025, 1, 1)).name == "Huế"


def test_three_digit_personal_id_form_is_accepted() -> None:
    assert province("001").name == "Hà Nội"
    assert province("079").code == "79"
    assert id_prefix("01") == "001"
    assert id_prefix("001") == "001"


@pytest.mark.parametrize("code", ["00", "03", "99", "97", "1", "100", "ab", "", "0001"])
def test_unknown_codes_raise_province_unknown(code: str) -> None:
    with pytest.raises(InvalidProvinceCode) as caught:
        province(code)
    assert caught.value.rule == "PROVINCE_UNKNOWN"
    assert not is_province_code(code)


def test_predecessors_reject_a_closed_code() -> None:
    with pytest.raises(InvalidProvinceCode):
        predecessors("02")


def test_is_province_code_accepts_only_two_digits() -> None:
    assert is_province_code("01")
    assert is_province_code("02")  # closed, but ever valid
    assert not is_province_code("001")


@given(st.dates(min_value=date(1950, 1, 1), max_value=date(2100, 1, 1)))
def test_on_any_day_a_surviving_code_resolves_to_exactly_one_record(day: date) -> None:
    for code in PROVINCES_34:
        record = province(code, on=day)
        assert record.is_valid_on(day)


@given(st.text(max_size=4))
def test_province_lookup_only_ever_raises_invalid_province_code(code: str) -> None:
    try:
        record = province(code)
    except InvalidProvinceCode:
        return
    assert record.code in PROVINCES_63
