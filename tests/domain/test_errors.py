"""Specification of domain errors: what every error tells the person reading it."""

from __future__ import annotations

import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nidb.domain import errors
from nidb.domain.errors import (
    DomainError,
    InvalidBhxhCode,
    InvalidDate,
    InvalidEnterpriseCode,
    InvalidGender,
    InvalidHealthCardCode,
    InvalidName,
    InvalidOldIdNumber,
    InvalidPersonalId,
    InvalidProvinceCode,
    Rule,
)

ERROR_TYPES = [
    InvalidPersonalId,
    InvalidOldIdNumber,
    InvalidBhxhCode,
    InvalidHealthCardCode,
    InvalidEnterpriseCode,
    InvalidProvinceCode,
    InvalidDate,
    InvalidGender,
    InvalidName,
]


def test_error_carries_field_value_rule_and_both_messages() -> None:
    error = InvalidPersonalId(
        "personal_id",
        "12345",
        Rule.PERSONAL_ID_FORMAT,
        "số định danh cá nhân phải gồm 12 chữ số",
        "personal ID must be 12 digits",
    )
    assert error.field == "personal_id"
    assert error.value == "12345"
    assert error.rule == "PERSONAL_ID_FORMAT"
    assert error.reason == "số định danh cá nhân phải gồm 12 chữ số (personal ID must be 12 digits)"
    assert str(error) == (
        "personal_id='12345': số định danh cá nhân phải gồm 12 chữ số "
        "(personal ID must be 12 digits) [PERSONAL_ID_FORMAT]"
    )


@pytest.mark.parametrize("error_type", ERROR_TYPES)
def test_every_error_type_is_a_domain_error_and_a_value_error(error_type: type) -> None:
    assert issubclass(error_type, DomainError)
    assert issubclass(error_type, ValueError)


@given(
    error_type=st.sampled_from(ERROR_TYPES),
    field=st.text(min_size=1),
    value=st.text(),
    rule=st.sampled_from(list(Rule)),
)
def test_every_error_message_names_field_value_and_rule(
    error_type: type[DomainError], field: str, value: str, rule: Rule
) -> None:
    text = str(error_type(field, value, rule, "lý do", "reason"))
    assert text.startswith(f"{field}=")
    assert repr(value) in text
    assert text.endswith(f"[{rule}]")


def test_rule_codes_are_stable_strings_equal_to_their_names() -> None:
    for rule in Rule:
        assert rule.value == rule.name
        assert getattr(errors, rule.name) == rule


def test_error_survives_pickling_for_multiprocess_importers() -> None:
    error = InvalidDate("date_of_birth", "2023-02-30", Rule.DATE_IMPOSSIBLE, "vi", "en")
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is InvalidDate
    assert str(copy) == str(error)


def test_with_field_keeps_type_rule_and_messages() -> None:
    error = InvalidBhxhCode("bhxh_code", "1", Rule.BHXH_CODE_FORMAT, "vi", "en")
    moved = error.with_field("ma_so_bhxh", " 1 ")
    assert type(moved) is InvalidBhxhCode
    assert (moved.field, moved.value, moved.rule) == ("ma_so_bhxh", " 1 ", "BHXH_CODE_FORMAT")
    assert moved.reason == error.reason
