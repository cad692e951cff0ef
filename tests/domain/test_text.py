"""The one rule for characters no text from outside may hold (issue 16, defect 6)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nidb.domain.errors import InvalidText
from nidb.domain.text import check_no_control, control_character

REFUSED = [chr(c) for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0))]


@pytest.mark.parametrize("character", [*REFUSED, "\ud800", "\udfff"])
def test_every_control_character_and_lone_surrogate_is_refused(character: str) -> None:
    with pytest.raises(InvalidText) as refused:
        check_no_control(f"ghi {character} chú", "note", multiline=True)
    assert refused.value.rule == "TEXT_CONTROL_CHARACTER"
    assert refused.value.field == "note"
    assert f"U+{ord(character):04X}" in refused.value.message_en
    assert character not in str(refused.value.value)  # the value is named, escaped, never raw


def test_tab_and_line_breaks_are_text_only_where_a_field_spans_lines() -> None:
    assert check_no_control("dòng 1\r\ndòng 2\tcột", "note", multiline=True)
    for character in "\t\n\r":
        assert control_character(f"a{character}b") == character


@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs"))))
def test_text_without_controls_passes_unchanged(text: str) -> None:
    assert check_no_control(text, "note") == text


@given(st.text(), st.sampled_from(REFUSED), st.text())
def test_a_control_anywhere_is_found(before: str, control: str, after: str) -> None:
    assert control_character(before + control + after, multiline=True) is not None
