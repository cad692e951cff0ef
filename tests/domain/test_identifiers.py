"""Specification of identifiers: personal ID, CMND, BHXH code, BHYT card code, enterprise code."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nidb.domain.catalogues import BENEFICIARY_GROUPS
from nidb.domain.errors import (
    InvalidBhxhCode,
    InvalidEnterpriseCode,
    InvalidHealthCardCode,
    InvalidOldIdNumber,
    InvalidPersonalId,
)
from nidb.domain.gender import Gender
from nidb.domain.identifiers import (
    BhxhCode,
    EnterpriseCode,
    HealthCardCode,
    OldIdNumber,
    PersonalId,
    parse_id_number,
)
from nidb.domain.provinces import PROVINCES_63

province_codes = st.sampled_from(sorted(PROVINCES_63))
genders = st.sampled_from(list(Gender))
birth_years = st.integers(min_value=1900, max_value=2399)
serials = st.integers(min_value=0, max_value=999_999)
ascii_digits = st.characters(min_codepoint=ord("0"), max_codepoint=ord("9"))


def digit_strings(length: int) -> st.SearchStrategy[str]:
    return st.text(ascii_digits, min_size=length, max_size=length)


# --- personal ID ------------------------------------------------------------------------------


def test_personal_id_exposes_province_gender_and_birth_year() -> None:
    pid = PersonalId.parse("001090012345")
    assert pid.value == "001090012345"
    assert str(pid) == "001090012345"
    assert pid.province_code == "01"
    assert pid.gender is Gender.MALE
    assert pid.century_start == 1900
    assert pid.birth_year == 1990


@pytest.mark.parametrize(
    ("digit", "gender", "century"),
    [("0", Gender.MALE, 1900), ("1", Gender.FEMALE, 1900), ("2", Gender.MALE, 2000),
     ("3", Gender.FEMALE, 2000), ("4", Gender.MALE, 2100), ("5", Gender.FEMALE, 2100),
     ("6", Gender.MALE, 2200), ("9", Gender.FEMALE, 2300)],
)  # fmt: skip
def test_century_digit_encodes_sex_and_century(digit: str, gender: Gender, century: int) -> None:
    pid = PersonalId.parse(f"079{digit}05123456")
    assert pid.gender is gender
    assert pid.century_start == century
    assert pid.birth_year == century + 5


@pytest.mark.parametrize("raw", [" 001090012345 ", "001 090 012345", "001.090.012345"])
def test_personal_id_parse_ignores_spaces_and_dots_people_type(raw: str) -> None:
    assert PersonalId.parse(raw).value == "001090012345"


@pytest.mark.parametrize(
    "raw", ["00109001234", "0010900123456", "00109001234A", "", "٠٠١٠٩٠٠١٢٣٤٥"]
)
def test_personal_id_must_be_twelve_ascii_digits(raw: str) -> None:
    with pytest.raises(InvalidPersonalId) as caught:
        PersonalId.parse(raw, field="so_cccd")
    assert caught.value.rule == "PERSONAL_ID_FORMAT"
    assert caught.value.field == "so_cccd"
    assert caught.value.value == raw


@pytest.mark.parametrize("raw", ["003090012345", "100090012345", "099090012345"])
def test_personal_id_must_start_with_a_province_code(raw: str) -> None:
    with pytest.raises(InvalidPersonalId) as caught:
        PersonalId.parse(raw)
    assert caught.value.rule == "PERSONAL_ID_PROVINCE"


def test_personal_id_with_a_closed_province_code_is_still_valid() -> None:
    assert PersonalId.parse("002190012345").province_code == "02"  # Hà Giang, closed 2025


def test_direct_construction_validates_too() -> None:
    with pytest.raises(InvalidPersonalId):
        PersonalId("12345")


def test_inconsistencies_compare_only_what_the_record_knows() -> None:
    pid = PersonalId.build("01", Gender.FEMALE, 1985, 42)
    assert pid.inconsistencies(Gender.FEMALE, 1985) == ()
    assert pid.inconsistencies(Gender.MALE, 1985) == ("GENDER",)
    assert pid.inconsistencies(Gender.FEMALE, 1958) == ("BIRTH_YEAR",)
    assert pid.inconsistencies(Gender.MALE, 1958) == ("GENDER", "BIRTH_YEAR")
    assert pid.inconsistencies(None, None) == ()


@given(province_codes, genders, birth_years, serials)
def test_built_personal_id_round_trips_through_parse_and_properties(
    province_code: str, gender: Gender, birth_year: int, serial: int
) -> None:
    pid = PersonalId.build(province_code, gender, birth_year, serial)
    assert PersonalId.parse(pid.value) == pid
    assert pid.province_code == province_code
    assert pid.gender is gender
    assert pid.birth_year == birth_year
    assert int(pid.value[6:]) == serial
    assert pid.inconsistencies(gender, birth_year) == ()


@pytest.mark.parametrize(
    ("args", "field"),
    [(("03", Gender.MALE, 1990, 1), "province_code"), (("01", Gender.MALE, 1899, 1), "birth_year"),
     (("01", Gender.MALE, 1990, 1_000_000), "serial")],
)  # fmt: skip
def test_build_rejects_impossible_parts(args: tuple[str, Gender, int, int], field: str) -> None:
    with pytest.raises(InvalidPersonalId) as caught:
        PersonalId.build(*args)
    assert caught.value.field == field


@given(digit_strings(12))
def test_every_twelve_digit_string_parses_or_raises_invalid_personal_id(raw: str) -> None:
    try:
        pid = PersonalId.parse(raw)
    except InvalidPersonalId as error:
        assert error.rule == "PERSONAL_ID_PROVINCE"
        return
    assert pid.value == raw


@given(st.text(max_size=20))
def test_personal_id_parse_raises_only_invalid_personal_id(raw: str) -> None:
    with contextlib.suppress(InvalidPersonalId):
        PersonalId.parse(raw)


# --- old ID number and ID numbers of either kind ----------------------------------------------


def test_old_id_number_is_nine_digits() -> None:
    assert OldIdNumber.parse(" 012 345 678 ").value == "012345678"
    with pytest.raises(InvalidOldIdNumber) as caught:
        OldIdNumber.parse("12345678")
    assert caught.value.rule == "OLD_ID_FORMAT"
    assert caught.value.field == "personal_id"


def test_id_number_of_twelve_digits_is_a_personal_id_and_of_nine_an_old_id() -> None:
    assert isinstance(parse_id_number("001090012345"), PersonalId)
    assert isinstance(parse_id_number("012345678"), OldIdNumber)


@pytest.mark.parametrize("raw", ["", "12345", "0123456789", "01234567A"])
def test_id_number_of_another_length_raises_id_number_format(raw: str) -> None:
    with pytest.raises(InvalidPersonalId) as caught:
        parse_id_number(raw, field="cmnd")
    assert caught.value.rule == "ID_NUMBER_FORMAT"
    assert caught.value.field == "cmnd"


@given(st.text(max_size=16))
def test_parse_id_number_raises_only_invalid_personal_id(raw: str) -> None:
    try:
        result = parse_id_number(raw)
    except InvalidPersonalId:
        return
    assert len(result.value) in (9, 12)


# --- BHXH code --------------------------------------------------------------------------------


def test_bhxh_code_is_ten_digits() -> None:
    assert BhxhCode.parse(" 79 1234 5678 ").value == "7912345678"
    with pytest.raises(InvalidBhxhCode) as caught:
        BhxhCode.parse("791234567")
    assert caught.value.rule == "BHXH_CODE_FORMAT"
    assert caught.value.field == "bhxh_code"


@given(digit_strings(10))
def test_every_ten_digit_string_is_a_bhxh_code(raw: str) -> None:
    assert str(BhxhCode.parse(raw)) == raw


@given(st.text(max_size=14))
def test_bhxh_code_parse_raises_only_invalid_bhxh_code(raw: str) -> None:
    with contextlib.suppress(InvalidBhxhCode):
        BhxhCode.parse(raw)


# --- health-insurance card code ---------------------------------------------------------------


def test_card_code_exposes_group_level_province_and_bhxh_code() -> None:
    card = HealthCardCode.parse("dn4791234567890")
    assert card.value == "DN4791234567890"
    assert card.group == "DN"
    assert card.benefit_level == 4
    assert card.province_code == "79"
    assert card.bhxh_code == BhxhCode("1234567890")


@pytest.mark.parametrize(
    ("raw", "rule"),
    [("DN479123456789", "CARD_CODE_FORMAT"), ("D14791234567890", "CARD_CODE_FORMAT"),
     ("ZZ4791234567890", "CARD_GROUP_UNKNOWN"), ("DN6791234567890", "CARD_LEVEL"),
     ("DN0791234567890", "CARD_LEVEL"), ("DN4991234567890", "CARD_PROVINCE"),
     ("DN4031234567890", "CARD_PROVINCE")],
)  # fmt: skip
def test_card_code_rules(raw: str, rule: str) -> None:
    with pytest.raises(InvalidHealthCardCode) as caught:
        HealthCardCode.parse(raw, field="ma_the")
    assert caught.value.rule == rule
    assert caught.value.field == "ma_the"


@pytest.mark.parametrize("province_code", ["97", "98"])
def test_card_of_defence_or_police_social_insurance_is_valid(province_code: str) -> None:
    assert HealthCardCode.parse(f"QN5{province_code}1234567890").province_code == province_code


@given(
    group=st.sampled_from(sorted(BENEFICIARY_GROUPS)),
    level=st.integers(min_value=1, max_value=5),
    province_code=st.sampled_from([*sorted(PROVINCES_63), "97", "98"]),
    bhxh=digit_strings(10),
)
def test_built_card_code_round_trips_through_parse(
    group: str, level: int, province_code: str, bhxh: str
) -> None:
    card = HealthCardCode.build(group, level, province_code, BhxhCode(bhxh))
    assert HealthCardCode.parse(card.value.lower()) == card
    assert (card.group, card.benefit_level, card.province_code) == (group, level, province_code)
    assert card.bhxh_code.value == bhxh


@given(st.text(max_size=18))
def test_card_code_parse_raises_only_invalid_health_card_code(raw: str) -> None:
    with contextlib.suppress(InvalidHealthCardCode):
        HealthCardCode.parse(raw)


# --- enterprise code --------------------------------------------------------------------------


def test_head_office_enterprise_code_is_ten_digits() -> None:
    code = EnterpriseCode.parse("0101234567")
    assert (code.value, code.head_office, code.branch) == ("0101234567", "0101234567", None)


@pytest.mark.parametrize("raw", ["0101234567-001", "0101234567001", " 0101234567 - 001 "])
def test_branch_enterprise_code_is_normalised_to_the_dashed_form(raw: str) -> None:
    code = EnterpriseCode.parse(raw)
    assert code.value == "0101234567-001"
    assert code.head_office == "0101234567"
    assert code.branch == "001"


@pytest.mark.parametrize("raw", ["010123456", "0101234567-01", "0101234567--001", "A101234567"])
def test_malformed_enterprise_code_raises_enterprise_code_format(raw: str) -> None:
    with pytest.raises(InvalidEnterpriseCode) as caught:
        EnterpriseCode.parse(raw)
    assert caught.value.rule == "ENTERPRISE_CODE_FORMAT"


@given(head=digit_strings(10), branch=st.none() | digit_strings(3))
def test_enterprise_code_round_trips(head: str, branch: str | None) -> None:
    text = head if branch is None else f"{head}-{branch}"
    code = EnterpriseCode.parse(text)
    assert EnterpriseCode.parse(str(code)) == code
    assert (code.head_office, code.branch) == (head, branch)


@given(st.text(max_size=16))
def test_enterprise_code_parse_raises_only_invalid_enterprise_code(raw: str) -> None:
    with contextlib.suppress(InvalidEnterpriseCode):
        EnterpriseCode.parse(raw)
