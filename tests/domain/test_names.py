"""Specification of Vietnamese name normalisation: the ground matching stands on."""

from __future__ import annotations

import dataclasses
import re
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nidb.domain.errors import InvalidName
from nidb.domain.names import (
    NameForms,
    ToneStyle,
    has_diacritics,
    name_forms,
    normalize_name,
    strip_diacritics,
    to_tone_style,
)
from tests.domain.vietnamese import SYLLABLES, syllables, traditional_names, typed_variants

BASE_FORM = re.compile(r"[a-z]+( [a-z]+)*")


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


# --- tone placement ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("traditional", "modern"),
    [("hòa", "hoà"), ("Thủy", "Thuỷ"), ("khóa", "khoá"), ("Hòe", "Hoè"), ("khỏe", "khoẻ"),
     ("họa", "hoạ"), ("ủy", "uỷ"), ("HÒA", "HOÀ"), ("Thụy", "Thuỵ"), ("Nguyễn Thị Hòa", "Nguyễn Thị Hoà")],
)  # fmt: skip
def test_tone_styles_differ_only_in_open_oa_oe_uy(traditional: str, modern: str) -> None:
    assert to_tone_style(traditional, ToneStyle.MODERN) == modern
    assert to_tone_style(modern, ToneStyle.TRADITIONAL) == traditional


@pytest.mark.parametrize(
    "word",
    ["hoàng", "quý", "Quỳnh", "thuyền", "khuya", "toàn", "khuyến", "ngoài", "xoáy", "an", "Huy"],
)
def test_tone_styles_leave_other_syllables_alone(word: str) -> None:
    assert to_tone_style(word, ToneStyle.MODERN) == word
    assert to_tone_style(word, ToneStyle.TRADITIONAL) == word


def test_tone_style_output_is_nfc() -> None:
    assert to_tone_style(nfd("Hoà"), ToneStyle.TRADITIONAL) == "Hòa"
    assert unicodedata.is_normalized("NFC", to_tone_style(nfd("Thị"), ToneStyle.MODERN))


@given(traditional_names())
def test_tone_style_round_trips_traditional_to_modern_and_back(name: str) -> None:
    modern = to_tone_style(name, ToneStyle.MODERN)
    assert to_tone_style(modern, ToneStyle.TRADITIONAL) == name
    assert to_tone_style(to_tone_style(modern, ToneStyle.TRADITIONAL), ToneStyle.MODERN) == modern


@given(st.text(), st.sampled_from(list(ToneStyle)))
def test_tone_style_is_idempotent_and_keeps_the_letters(text: str, style: ToneStyle) -> None:
    once = to_tone_style(text, style)
    assert to_tone_style(once, style) == once
    assert strip_diacritics(once) == strip_diacritics(unicodedata.normalize("NFC", text))


# --- diacritics -------------------------------------------------------------------------------


def test_strip_diacritics_keeps_case_and_maps_d_with_stroke() -> None:
    assert strip_diacritics("Đặng Thị Hà") == "Dang Thi Ha"
    assert strip_diacritics("ĐỖ ĐỨC ƯỚC") == "DO DUC UOC"
    assert strip_diacritics(nfd("Nguyễn")) == "Nguyen"


@given(st.lists(syllables, min_size=1, max_size=6).map(" ".join))
def test_strip_diacritics_of_vietnamese_is_ascii(text: str) -> None:
    for variant in (text, text.upper(), nfd(text)):
        stripped = strip_diacritics(variant)
        assert stripped.isascii()
        assert not has_diacritics(stripped)


def test_has_diacritics() -> None:
    assert has_diacritics("Hà")
    assert has_diacritics("Đang")
    assert has_diacritics(nfd("Hà"))
    assert not has_diacritics("Nguyen Van An")
    assert not has_diacritics("")


def test_syllables_differing_only_in_tone_share_a_base_form_but_not_a_lower_form() -> None:
    forms = [name_forms(f"Nguyễn Thị {given}") for given in ("Hà", "Hạ", "Hả", "Ha")]
    assert len({f.base for f in forms}) == 1
    assert len({f.lower for f in forms}) == 4


# --- normalize_name ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("NGUYỄN VĂN AN", "Nguyễn Văn An"), ("đặng", "Đặng"), ("  nguyễn   thị\tthu  hà ", "Nguyễn Thị Thu Hà"),
     ("lê thị thuỷ", "Lê Thị Thủy"), ("TRẦN HOÀ", "Trần Hòa"), ("nguyen van an", "Nguyen Van An"),
     ("H'hen niê", "H'Hen Niê"), ("ka-ra", "Ka-Ra"), ("Nguy\u200bễn\u00a0Văn An", "Nguyễn Văn An"),
     ("O’Neil", "O'Neil"), ("ÐINH", "Đinh")],
)  # fmt: skip
def test_normalize_name_examples(raw: str, expected: str) -> None:
    assert normalize_name(raw) == expected


@pytest.mark.parametrize("raw", ["", "   ", "\t\n", "\u200b"])
def test_empty_name_raises_name_empty(raw: str) -> None:
    with pytest.raises(InvalidName) as caught:
        normalize_name(raw, field="ho_ten")
    assert caught.value.rule == "NAME_EMPTY"
    assert caught.value.field == "ho_ten"


@pytest.mark.parametrize("raw", ["Nguyễn Văn 2", "An@", "Lê_Thị", "Hà.", "李小龍", "NguyÃªn"])
def test_digits_symbols_and_non_latin_letters_raise_name_invalid_chars(raw: str) -> None:
    with pytest.raises(InvalidName) as caught:
        name_forms(raw, field="ho_ten")
    assert caught.value.rule == "NAME_INVALID_CHARS"
    assert caught.value.field == "ho_ten"
    assert caught.value.value == raw


@given(traditional_names())
def test_canonical_name_is_its_own_normal_form(name: str) -> None:
    assert normalize_name(name) == name


@given(traditional_names().flatmap(typed_variants))
def test_normalize_name_is_idempotent_on_typed_names(raw: str) -> None:
    once = normalize_name(raw)
    assert normalize_name(once) == once


@given(st.text())
def test_normalize_name_is_idempotent_or_raises_invalid_name(raw: str) -> None:
    try:
        once = normalize_name(raw)
    except InvalidName:
        return
    assert normalize_name(once) == once
    assert unicodedata.is_normalized("NFC", once)
    assert once == once.strip() and "  " not in once


# --- name_forms -------------------------------------------------------------------------------


def test_name_forms_of_a_full_name() -> None:
    assert name_forms("NGUYỄN THỊ THU HOÀ") == NameForms(
        exact="Nguyễn Thị Thu Hòa",
        lower="nguyễn thị thu hòa",
        base="nguyen thi thu hoa",
        family="nguyễn",
        middle="thị thu",
        given="hòa",
    )


def test_name_without_middle_name_has_empty_middle() -> None:
    forms = name_forms("Lê Na")
    assert (forms.family, forms.middle, forms.given) == ("lê", "", "na")


def test_one_word_name_is_both_family_and_given_name() -> None:
    forms = name_forms("Y")
    assert (forms.family, forms.middle, forms.given) == ("y", "", "y")


def test_base_form_of_full_name_equals_base_of_same_name_typed_without_diacritics() -> None:
    assert name_forms("Nguyễn Thị Thu Hà").base == name_forms("NGUYEN THI THU HA").base


def test_base_form_joins_hyphenated_parts_with_a_space_and_drops_apostrophes() -> None:
    assert name_forms("Ka-Ra H'Hen").base == "ka ra hhen"


@given(traditional_names())
def test_nfc_and_nfd_inputs_give_equal_name_forms(name: str) -> None:
    assert name_forms(nfd(name)) == name_forms(name)


@given(traditional_names())
def test_modern_tone_placement_gives_equal_name_forms(name: str) -> None:
    assert name_forms(to_tone_style(name, ToneStyle.MODERN)) == name_forms(name)


@given(traditional_names().flatmap(lambda name: st.tuples(st.just(name), typed_variants(name))))
def test_any_typed_variant_gives_the_same_name_forms(pair: tuple[str, str]) -> None:
    name, variant = pair
    assert name_forms(variant) == name_forms(name)


@given(traditional_names())
def test_name_typed_without_diacritics_shares_only_the_base_form(name: str) -> None:
    plain, full = name_forms(strip_diacritics(name).upper()), name_forms(name)
    assert plain.base == full.base
    assert plain.exact == strip_diacritics(full.exact)


@given(traditional_names())
def test_name_forms_parts_reassemble_the_lower_form(name: str) -> None:
    forms = name_forms(name)
    assert forms.exact == normalize_name(name)
    assert forms.lower == forms.exact.lower()
    parts = [forms.family, forms.middle, forms.given]
    assert " ".join(part for part in parts if part) == forms.lower


@given(st.text())
def test_name_forms_raise_only_invalid_name_and_base_is_plain_a_to_z(raw: str) -> None:
    try:
        forms = name_forms(raw)
    except InvalidName:
        return
    assert forms.base == "" or BASE_FORM.fullmatch(forms.base)
    assert forms.lower == forms.exact.lower()


def test_name_forms_is_a_frozen_value() -> None:
    forms = name_forms("Trần Văn Bình")
    built = NameForms(*(getattr(forms, f.name) for f in dataclasses.fields(NameForms)))
    assert forms == built and hash(forms) == hash(built)
    assert repr(forms) == repr(built)
    with pytest.raises(dataclasses.FrozenInstanceError):
        forms.exact = "x"  # type: ignore[misc]


def test_every_syllable_in_the_test_vocabulary_is_a_valid_name() -> None:
    for syllable in SYLLABLES:
        assert normalize_name(syllable) == syllable.capitalize()
