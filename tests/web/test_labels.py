"""How stored values read on staff screens (nidb.web.labels)."""

from __future__ import annotations

import pytest

from nidb.web.labels import field_value


@pytest.mark.parametrize(
    ("code", "shown"),
    [
        ("080", "Long An (nay thuộc Tây Ninh)"),  # the 3-digit form of personal IDs
        ("01", "Hà Nội"),
        ("10", "Lào Cai"),
        ("15", "Yên Bái (nay thuộc Lào Cai)"),
        ("999", "999"),  # no province: shown as recorded, never an error page
    ],
)
def test_a_birth_province_is_shown_by_name_then_and_now(code: str, shown: str) -> None:
    assert field_value(code, "birth_province") == shown


def test_an_empty_value_is_a_dash() -> None:
    assert field_value(None, "birth_province") == field_value("", "gender") == "—"
