"""Vietnamese personal names (họ và tên): normalisation and the forms that matching compares.

The same name arrives in NFC or NFD, with old or new tone placement (Hòa/Hoà), without
diacritics, in capitals or with stray spaces. `normalize_name` gives one canonical spelling;
`name_forms` gives the levels to compare at, because stripping diacritics alone loses
information (Hà, Hạ and Hả all become Ha).

Speed matters: importers call `name_forms` on millions of names drawn from a small vocabulary,
so per-word work is cached and per-name work is whole-string operations that run in C.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from nidb.domain.errors import InvalidName, Rule

__all__ = [
    "NameForms",
    "ToneStyle",
    "has_diacritics",
    "name_forms",
    "normalize_name",
    "strip_diacritics",
    "to_tone_style",
]


class ToneStyle(StrEnum):
    """Where the tone mark goes in the open syllables oa, oe and uy."""

    TRADITIONAL = "traditional"  # hòa, thủy, khóa: canonical in nidb
    MODERN = "modern"  # hoà, thuỷ, khoá


# --- tone placement -------------------------------------------------------------------------

_TONE_MARKS = "\u0300\u0301\u0309\u0303\u0323"  # huyền, sắc, hỏi, ngã, nặng


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _toned(letters: str) -> str:
    """Every toned form of the given letters, as one string (for regex character classes)."""
    return "".join(_nfc(letter + mark) for letter in letters for mark in _TONE_MARKS)


# Toned letter <-> (plain letter, tone mark), for the letters the two styles move tones between.
_SPLIT_TONE: dict[str, tuple[str, str]] = {
    _nfc(letter + mark): (letter, mark) for letter in "oOaAeEuUyY" for mark in _TONE_MARKS
}

_VOWELS = "aăâeêioôơuưyAĂÂEÊIOÔƠUƯY"
_ANY_VOWEL = _VOWELS + _toned(_VOWELS)
# "Not after a vowel" keeps longer clusters out; "not before a letter" means the syllable is
# open (hoàn, thuyền, khuya place the tone the same way in both styles). After q, the u of
# "qu" is part of the consonant, so quý is the same in both styles.
_NOT_AFTER_VOWEL = f"(?<![{_ANY_VOWEL}])"
_NOT_AFTER_VOWEL_OR_Q = f"(?<![{_ANY_VOWEL}qQ])"
_OPEN_END = r"(?![^\W\d_])"

_TO_MODERN = re.compile(
    f"{_NOT_AFTER_VOWEL}[{_toned('oO')}][aAeE]{_OPEN_END}"
    f"|{_NOT_AFTER_VOWEL_OR_Q}[{_toned('uU')}][yY]{_OPEN_END}"
)
_TO_TRADITIONAL = re.compile(
    f"{_NOT_AFTER_VOWEL}[oO][{_toned('aAeE')}]{_OPEN_END}"
    f"|{_NOT_AFTER_VOWEL_OR_Q}[uU][{_toned('yY')}]{_OPEN_END}"
)


def _move_tone(match: re.Match[str]) -> str:
    """Move the tone mark of a two-vowel cluster to the other vowel."""
    pair = match.group()
    first, second = pair[0], pair[1]
    if first in _SPLIT_TONE:
        plain, mark = _SPLIT_TONE[first]
        return plain + _nfc(second + mark)
    plain, mark = _SPLIT_TONE[second]
    return _nfc(first + mark) + plain


def to_tone_style(text: str, style: ToneStyle) -> str:
    """Place tone marks in the given style; returns NFC.

    Only the open syllables oa, oe and uy (not after q) differ between styles: hòa/hoà,
    hòe/hoè, thủy/thuỷ. Everything else, such as hoàng, quý, thuyền or khuya, is unchanged.
    Case is kept.
    """
    text = _nfc(text)
    if text.isascii():
        return text
    pattern = _TO_TRADITIONAL if style is ToneStyle.TRADITIONAL else _TO_MODERN
    return pattern.sub(_move_tone, text)


# --- diacritics -----------------------------------------------------------------------------

_COMBINING = range(0x0300, 0x0370)  # the Combining Diacritical Marks block
# NFD leaves đ/Đ whole (the bar is not a combining mark), so they are mapped explicitly. Ð
# (U+00D0, Icelandic eth) is how legacy Vietnamese encodings often converted Đ.
_STRIP: dict[int, str | None] = {cp: None for cp in _COMBINING}
_STRIP.update({ord("đ"): "d", ord("Đ"): "D", ord("Ð"): "D"})
_STRIP_TABLE = str.maketrans(_STRIP)


def strip_diacritics(text: str) -> str:
    """Remove tone and vowel marks and turn đ into d, keeping case: "Đặng Thị Hà" -> "Dang Thi Ha".

    Vietnamese input gives ASCII output. Letters without a decomposition (ø, ß) are kept.
    """
    if text.isascii():
        return text
    return _nfc(unicodedata.normalize("NFD", text).translate(_STRIP_TABLE))


def has_diacritics(text: str) -> bool:
    """Whether the text carries any tone or vowel mark, or a đ."""
    if text.isascii():
        return False
    decomposed = unicodedata.normalize("NFD", text)
    return decomposed.translate(_STRIP_TABLE) != decomposed


# --- normalisation --------------------------------------------------------------------------

# Applied to the raw text: invisible characters pasted from documents go, typographic
# apostrophes and hyphens become ASCII, and the legacy Ð becomes Đ.
_INVISIBLE = "\u00ad\u200b\u200c\u200d\u2060\ufeff"
_APOSTROPHES = "\u2018\u2019\u02bc`\u00b4"
_HYPHENS = "\u2010\u2011\u2012\u2013"
_CLEANUP_TABLE = str.maketrans(
    {
        **dict.fromkeys(map(ord, _INVISIBLE)),
        **dict.fromkeys(map(ord, _APOSTROPHES), "'"),
        **dict.fromkeys(map(ord, _HYPHENS), "-"),
        ord("Ð"): "Đ",
    }
)
# A dict-based translate costs more than a whole name's other work, and these characters are
# rare, so look for them first.
_NEEDS_CLEANUP = re.compile(f"[{_INVISIBLE}{_APOSTROPHES}{_HYPHENS}Ð]")
_SEGMENT_SEPARATORS = re.compile(r"([-'])")
_NOT_BASE_LETTER = re.compile(r"[^a-z]+")


def _clean(text: str) -> str:
    return text.translate(_CLEANUP_TABLE) if _NEEDS_CLEANUP.search(text) else text


def _is_name_char(char: str) -> bool:
    """Latin letters, combining marks, hyphen and apostrophe make up names.

    Limiting letters to the Latin script rejects mojibake and keeps case mapping predictable.
    """
    if char in "-'" or ord(char) in _COMBINING:
        return True
    return char.isalpha() and unicodedata.name(char, "").startswith("LATIN ")


def _title_case(lower: str) -> str:
    """Capitalise each part of a word split at hyphens and apostrophes (H'Hen, Ka-Ra)."""
    return "".join(part.capitalize() for part in _SEGMENT_SEPARATORS.split(lower))


def _is_name_word(word: str) -> bool:
    return all(map(_is_name_char, word)) and any(c.isalpha() for c in word)


# Bounded: typos make the vocabulary of incoming data open-ended.
@lru_cache(maxsize=1 << 16)
def _exact_word(word: str) -> str:
    """The canonical spelling of one cleaned NFC word of a name.

    Raises InvalidName (under the default field) for a word that cannot be in a name.
    Exceptions are not cached, which is fine: invalid words are rare.
    """
    exact = ""
    if _is_name_word(word):
        lower = to_tone_style(word.lower(), ToneStyle.TRADITIONAL)
        # Cleaning again after the case change: lower() and capitalize() can produce
        # characters (such as ʼ from ŉ) that the cleanup maps.
        exact = _nfc(_clean(_title_case(lower)))
    # Checking the result too keeps every output a valid input: a few letters capitalise to
    # something that is not a Latin letter (ẚ becomes Aʾ).
    if not _is_name_word(exact):
        raise InvalidName(
            "full_name",
            word,
            Rule.NAME_INVALID_CHARS,
            "họ và tên chỉ được gồm chữ cái, dấu cách, dấu gạch nối và dấu nháy",
            "name may contain only letters, spaces, hyphens and apostrophes",
        )
    return exact


@lru_cache(maxsize=1 << 16)
def _lower_word(word: str) -> str:
    """The lower-case form of one word (as _exact_word takes it), tones kept."""
    return _exact_word(word).lower()


@lru_cache(maxsize=1 << 16)
def _base_word(word: str) -> str:
    """The a-z form of one word (as _exact_word takes it): hyphens separate, the rest vanish."""
    stripped = strip_diacritics(_lower_word(word)).replace("'", "")
    return " ".join(_NOT_BASE_LETTER.sub(" ", stripped).split())


def _empty_name(field: str, raw: str) -> InvalidName:
    return InvalidName(
        field, raw, Rule.NAME_EMPTY, "họ và tên không được để trống", "name must not be empty"
    )


def normalize_name(raw: str, field: str = "full_name") -> str:
    """The canonical spelling of a name: NFC, traditional tones, single spaces, title case.

    "NGUYỄN  VĂN AN" -> "Nguyễn Văn An"; "đặng thị hoà" -> "Đặng Thị Hòa". Raises InvalidName:
    NAME_EMPTY for an empty name, NAME_INVALID_CHARS for digits, symbols or non-Latin letters
    (letters, spaces, hyphens and apostrophes are allowed).
    """
    words = _nfc(_clean(raw)).split()
    if not words:
        raise _empty_name(field, raw)
    try:
        return " ".join(map(_exact_word, words))
    except InvalidName as error:
        raise error.with_field(field, raw) from None


@dataclass(frozen=True, slots=True)
class NameForms:
    """A name at every level that matching compares.

    `exact` is the canonical spelling, `lower` the same lower-cased (tones kept), `base` the
    lower form without diacritics (only a-z and single spaces). `family`, `middle` and `given`
    split `lower`: first word, the words between ("" if none), last word; a one-word name is
    both family and given name.
    """

    exact: str
    lower: str
    base: str
    family: str
    middle: str
    given: str


def name_forms(raw: str, field: str = "full_name") -> NameForms:
    """Normalise a name and derive its comparison forms (see NameForms).

    Raises InvalidName as normalize_name does.
    """
    # This repeats normalize_name's first lines rather than calling it because the words are
    # needed again below; whole-string joins and splits run in C, per-word work is cached.
    words = _nfc(_clean(raw)).split()
    if not words:
        raise _empty_name(field, raw)
    try:
        exact = " ".join(map(_exact_word, words))
    except InvalidName as error:
        raise error.with_field(field, raw) from None
    lower = exact.lower()
    base = " ".join(map(_base_word, words))
    if "  " in base or base[:1] == " " or base[-1:] == " ":
        base = " ".join(base.split())  # some word had no a-z letter at all (ø)
    # The cached per-word strings are reused as they are, so no new strings are made here.
    family, given = _lower_word(words[0]), _lower_word(words[-1])
    middle = " ".join(map(_lower_word, words[1:-1]))
    return _new_name_forms(exact, lower, base, family, middle, given)


# A frozen dataclass's __init__ sets each field through object.__setattr__, which costs about
# a fifth of name_forms' time; writing the slots through their descriptors does the same job
# without the frozen check. Only name_forms uses this; NameForms(...) stays the public way.
_SET_EXACT, _SET_LOWER, _SET_BASE, _SET_FAMILY, _SET_MIDDLE, _SET_GIVEN = (
    NameForms.__dict__[name].__set__ for name in NameForms.__slots__
)


def _new_name_forms(
    exact: str, lower: str, base: str, family: str, middle: str, given: str
) -> NameForms:
    forms: NameForms = object.__new__(NameForms)
    _SET_EXACT(forms, exact)
    _SET_LOWER(forms, lower)
    _SET_BASE(forms, base)
    _SET_FAMILY(forms, family)
    _SET_MIDDLE(forms, middle)
    _SET_GIVEN(forms, given)
    return forms
