"""Errors injected into insurance records: names, dates of birth, sexes and IDs as typed.

Each function draws which rows get an error (only where the error can show) and returns the
damaged column with a boolean mask per error code, for `truth.errors`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from nidb.domain.names import ToneStyle, strip_diacritics, to_tone_style
from nidb.sim.generate import columns as col
from nidb.sim.generate.config import ErrorRates, InjectedError
from nidb.sim.generate.population import split_date

Mask = npt.NDArray[np.bool_]
I16 = npt.NDArray[np.int16]
I64 = npt.NDArray[np.int64]

_TYPO_LETTERS = "abcdeghiklmnopqrstuvxy"  # the Vietnamese alphabet's base letters


@dataclass(frozen=True)
class TokenForms:
    """Every name token in its registry form and in the forms errors turn it into."""

    original: tuple[str, ...]
    modern: tuple[str, ...]
    stripped: tuple[str, ...]

    @classmethod
    def of(cls, tokens: tuple[str, ...]) -> TokenForms:
        """Derive the modern-tone and diacritic-free forms with the domain's functions."""
        return cls(
            original=tokens,
            modern=tuple(to_tone_style(t, ToneStyle.MODERN) for t in tokens),
            stripped=tuple(strip_diacritics(t) for t in tokens),
        )

    def table(self) -> pa.Array:
        """All forms in one array: original, then modern, then stripped."""
        return pa.array(self.original + self.modern + self.stripped, pa.string())

    def tone_moves(self) -> npt.NDArray[np.bool_]:
        """Tokens whose modern form differs (Hòa, Thủy; not Hoàng, Quý, Khoa)."""
        return np.array([m != o for m, o in zip(self.modern, self.original, strict=True)])

    def has_diacritics(self) -> npt.NDArray[np.bool_]:
        """Tokens that change when diacritics are stripped."""
        return np.array([s != o for s, o in zip(self.stripped, self.original, strict=True)])


def full_names(
    forms: pa.Array,
    tokens_per_form: int,
    family: I16,
    middle1: I16,
    middle2: I16,
    given: I16,
    variant: npt.NDArray[np.integer] | int = 0,
) -> pa.Array:
    """Join name tokens; ``variant`` picks the form (0 original, 1 modern, 2 stripped)."""
    shift = np.asarray(variant, dtype=np.int64) * tokens_per_form
    parts = [
        col.strings(forms, np.where(tokens >= 0, tokens + shift, -1))
        for tokens in (family, middle1, middle2, given)
    ]
    return col.join(parts, " ")


def _any_token(flags: npt.NDArray[np.bool_], *tokens: I16) -> Mask:
    result = np.zeros(len(tokens[0]), dtype=bool)
    for part in tokens:
        result |= (part >= 0) & flags[np.maximum(part, 0)]
    return result


def typo(name: str, draws: npt.NDArray[np.float64]) -> str:
    """One edit in one word: a letter substituted or deleted, or two letters transposed."""
    words = name.split(" ")
    candidates = [i for i, w in enumerate(words) if len(w) >= 2]
    if not candidates:
        return name + "h"
    index = candidates[int(draws[0] * len(candidates))]
    word = words[index]
    operation = int(draws[1] * 3)
    swappable = [j for j in range(1, len(word) - 1) if word[j] != word[j + 1]]
    if operation == 2 and swappable:
        j = swappable[int(draws[2] * len(swappable))]
        word = word[:j] + word[j + 1] + word[j] + word[j + 2 :]
    elif operation == 1 and len(word) >= 3:
        j = 1 + int(draws[2] * (len(word) - 1))
        word = word[:j] + word[j + 1 :]
    else:
        j = 1 + int(draws[2] * (len(word) - 1))
        letters = [c for c in _TYPO_LETTERS if c != word[j].lower()]
        letter = letters[int(draws[3] * len(letters))]
        word = word[:j] + (letter.upper() if word[j].isupper() else letter) + word[j + 1 :]
    words[index] = word
    return " ".join(words)


def inject_name_errors(
    rng: np.random.Generator,
    rates: ErrorRates,
    forms: TokenForms,
    family: I16,
    middle1: I16,
    middle2: I16,
    given: I16,
) -> tuple[pa.Array, dict[InjectedError, Mask]]:
    """Names as typed into records, with the masks of the name errors they carry."""
    size = len(family)
    u = rng.random((6, size))
    dropped = (middle1 >= 0) & (u[0] < rates.name_middle_missing)
    middle1 = np.where(dropped, -1, middle1).astype(np.int16)
    middle2 = np.where(dropped, -1, middle2).astype(np.int16)
    tokens = (family, middle1, middle2, given)
    stripped = _any_token(forms.has_diacritics(), *tokens) & (u[1] < rates.name_no_diacritics)
    modern = _any_token(forms.tone_moves(), *tokens) & (u[2] < rates.name_legacy_tone) & ~stripped
    variant = np.where(stripped, 2, np.where(modern, 1, 0))
    names = full_names(forms.table(), len(forms.original), *tokens, variant=variant)

    typos = np.flatnonzero(u[3] < rates.name_typo)
    draws = rng.random((len(typos), 4))
    typed = [typo(name, draws[k]) for k, name in enumerate(names.take(typos).to_pylist())]
    names = col.replace_rows(names, typos, typed)

    upper = u[4] < rates.name_upper
    names = col.pick([names, pc.utf8_upper(names)], upper)
    decomposed = pc.utf8_normalize(names, form="NFD")
    nfd = (u[5] < rates.name_nfd) & ~stripped
    nfd &= np.asarray(pc.not_equal(decomposed, names).to_numpy(zero_copy_only=False))
    names = col.pick([names, decomposed], nfd)
    masks = {
        InjectedError.NAME_NO_DIACRITICS: stripped,
        InjectedError.NAME_NFD: nfd,
        InjectedError.NAME_UPPER: upper,
        InjectedError.NAME_LEGACY_TONE: modern,
        InjectedError.NAME_TYPO: u[3] < rates.name_typo,
        InjectedError.NAME_MIDDLE_MISSING: dropped,
    }
    return names, masks


def inject_dob_errors(
    rng: np.random.Generator,
    rates: ErrorRates,
    dob: npt.NDArray[np.int32],
    precision: npt.NDArray[np.int8],
    today: date,
) -> tuple[pa.Array, dict[InjectedError, Mask]]:
    """Dates of birth as typed into records: the registry's precision, then the errors.

    A day/month swap is only injected where the swapped date is not after ``today``: a birth
    date in the future is refused at import, which is not the error being simulated.
    """
    size = len(dob)
    year, month, day = split_date(dob)
    u = rng.random((4, size))
    year_only = (precision < 2) & (u[0] < rates.dob_year_only)
    not_future = (
        year * 10_000 + day * 100 + month <= today.year * 10_000 + today.month * 100 + today.day
    )
    swappable = (precision == 0) & (day <= 12) & (day != month) & ~year_only & not_future
    swapped = swappable & (u[1] < rates.dob_day_month_swapped)
    dmy = (precision == 0) & ~year_only & (u[2] < rates.dob_format_dmy)
    month, day = np.where(swapped, day, month), np.where(swapped, month, day)

    y4, m2, d2 = col.digits(year, 4), col.digits(month, 2), col.digits(day, 2)
    ones = col.strings(["01"], np.zeros(size, np.int64))
    variants = [
        col.join([y4, m2, d2], "-"),  # 0 ISO
        col.join([d2, m2, y4], "/"),  # 1 DD/MM/YYYY
        col.join([y4, m2], "-"),  # 2 YYYY-MM
        y4,  # 3 YYYY
        col.join([ones, ones, y4], "/"),  # 4 01/01/YYYY
    ]
    style = np.select(
        [year_only & (u[3] < 0.5), year_only, precision == 2, precision == 1, dmy],
        [3, 4, 3, 2, 1],
        0,
    )
    masks = {
        InjectedError.DOB_YEAR_ONLY: year_only,
        InjectedError.DOB_DAY_MONTH_SWAPPED: swapped,
        InjectedError.DOB_FORMAT_DMY: dmy,
    }
    return col.pick(variants, style), masks


def inject_gender_errors(
    rng: np.random.Generator, rates: ErrorRates, male: Mask
) -> tuple[pa.Array, dict[InjectedError, Mask]]:
    """Sexes as typed: some missing, a few wrong."""
    u = rng.random(len(male))
    missing = u < rates.gender_missing
    wrong = ~missing & (u < rates.gender_missing + rates.gender_wrong)
    shown_male = male ^ wrong
    text = col.strings(["F", "M"], shown_male.astype(np.int64), missing)
    return text, {InjectedError.GENDER_MISSING: missing, InjectedError.GENDER_WRONG: wrong}


def _wrong_ids(
    rng: np.random.Generator, ids: I64, taken: I64, width: int = 12, first: int = 6
) -> I64:
    """Change one digit of the serial, or swap two adjacent serial digits; keep prefixes so the
    ID stays plausible, and avoid IDs that belong to someone.

    ``width`` is the number's length and ``first`` the position where its serial starts: a
    12-digit personal ID keeps its province, century-sex and year digits (the first six), an
    old 9-digit CMND the three digits of the place that issued it.
    """
    result = ids.copy()
    pending = np.arange(len(ids))
    for _ in range(20):
        if len(pending) == 0:
            break
        draws = rng.random((len(pending), 3))
        for k, row in enumerate(pending.tolist()):
            digits = list(f"{ids[row]:0{width}d}")
            swaps = [j for j in range(first, width - 1) if digits[j] != digits[j + 1]]
            if draws[k, 0] < 0.5 and swaps:
                j = swaps[int(draws[k, 1] * len(swaps))]
                digits[j], digits[j + 1] = digits[j + 1], digits[j]
            else:
                j = first + int(draws[k, 1] * (width - first))
                digits[j] = str((int(digits[j]) + 1 + int(draws[k, 2] * 9)) % 10)
            result[row] = int("".join(digits))
        pending = pending[contains(taken, result[pending])]
    return result


def contains(sorted_values: I64, values: I64) -> Mask:
    """Which ``values`` occur in the sorted array ``sorted_values``."""
    if len(sorted_values) == 0:
        return np.zeros(len(values), dtype=bool)
    at = np.minimum(np.searchsorted(sorted_values, values), len(sorted_values) - 1)
    return np.asarray(sorted_values[at] == values)


def inject_id_errors(
    rng: np.random.Generator,
    rates: ErrorRates,
    personal_id: I64,
    cmnd: I64,
    other_member_id: I64,
    registry_ids: I64,
) -> tuple[pa.Array, dict[InjectedError, Mask]]:
    """Personal IDs as recorded: the true one, or missing, an old CMND, a wrong or another's ID.

    ``cmnd`` and ``other_member_id`` are -1 where the person had no CMND or lives alone. An old
    CMND is the person's own number, the one the population registry keeps (``old_id``), and
    it is typed wrong as often as a 12-digit ID is (``id_wrong``), in the same ways (one digit
    changed or two neighbours swapped, never another holder's number): realism, not tuning.
    Those draws come from a child generator, so the rest of the data set is the same as before.
    """
    u = rng.random(len(personal_id))
    edges = np.cumsum([rates.id_missing, rates.id_old_cmnd, rates.id_wrong, rates.id_other_person])
    missing = u < edges[0]
    old_cmnd = (u >= edges[0]) & (u < edges[1]) & (cmnd >= 0)
    wrong = (u >= edges[1]) & (u < edges[2])
    other = (u >= edges[2]) & (u < edges[3]) & (other_member_id >= 0)
    value = personal_id.copy()
    value[wrong] = _wrong_ids(rng, personal_id[wrong], np.sort(registry_ids))
    value[other] = other_member_id[other]
    typed_cmnd = np.maximum(cmnd, 0)
    child = rng.spawn(1)[0]
    mistyped = old_cmnd & (child.random(len(cmnd)) < rates.id_wrong)
    typed_cmnd[mistyped] = _wrong_ids(
        child, typed_cmnd[mistyped], np.sort(cmnd[cmnd >= 0]), width=9, first=3
    )
    text = col.pick([col.digits(value, 12), col.digits(typed_cmnd, 9)], old_cmnd)
    masks = {
        InjectedError.ID_MISSING: missing,
        InjectedError.ID_WRONG: wrong,
        InjectedError.ID_OLD_CMND: old_cmnd,
        InjectedError.ID_OTHER_PERSON: other,
    }
    return col.nullify(text, missing), masks


def error_text(masks: dict[InjectedError, Mask], size: int) -> pa.Array:
    """``;``-joined codes per row in `InjectedError` order, null where a row has none."""
    codes = list(InjectedError)
    bits = np.zeros(size, dtype=np.int64)
    for position, code in enumerate(codes):
        if code in masks:
            bits |= masks[code].astype(np.int64) << position
    unique = np.flatnonzero(np.bincount(bits, minlength=1))
    lookup = np.zeros(int(unique[-1]) + 1 if len(unique) else 1, dtype=np.int64)
    lookup[unique] = np.arange(len(unique))
    inverse = lookup[bits]
    labels = [
        ";".join(code.value for k, code in enumerate(codes) if (value >> k) & 1) or None
        for value in unique.tolist()
    ]
    return pa.array(labels, pa.string()).take(pa.array(inverse.astype(np.int64)))
