"""Why an insurance record and a population-registry person disagree: the reason codes.

Shared by verification (``nidb verify``) and matching (``nidb match``): both compare one record
with one registry person field by field, with Vietnamese-aware rules, and name every field that
disagrees with a stable code (``NAME_DIACRITICS``, ``DOB_YEAR_ONLY``…). Differences that carry
no information — Unicode form, tone placement style, letter case, spacing — are not reasons:
the name normaliser has already removed them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from nidb.domain.dates import PartialDate
from nidb.domain.gender import Gender
from nidb.domain.names import NameForms
from nidb.domain.review import DEDUPE_REASONS


class Reason(StrEnum):
    """A coded cause of disagreement between a record and the registry (mã lý do)."""

    NAME_DIACRITICS = "NAME_DIACRITICS"
    """Same letters, different or missing diacritics (Nguyen Van An / Nguyễn Văn An)."""
    NAME_MIDDLE_MISSING = "NAME_MIDDLE_MISSING"
    """Family and given names agree; the record lacks some or all middle names."""
    NAME_TYPO = "NAME_TYPO"
    """One or two letters differ (a typing error)."""
    NAME_DIFFERENT = "NAME_DIFFERENT"
    """The names disagree beyond a typo: another person, or a changed name."""
    DOB_YEAR_ONLY = "DOB_YEAR_ONLY"
    """The record knows only the year (or 01/01 of it) and the year agrees."""
    DOB_DAY_MONTH_SWAPPED = "DOB_DAY_MONTH_SWAPPED"
    """Day and month exchanged (DD/MM vs MM/DD)."""
    DOB_DIFFERENT = "DOB_DIFFERENT"
    """The birth dates disagree otherwise."""
    GENDER_MISSING = "GENDER_MISSING"
    GENDER_MISMATCH = "GENDER_MISMATCH"
    BIRTH_PROVINCE_MISMATCH = "BIRTH_PROVINCE_MISMATCH"
    ID_MISSING = "ID_MISSING"
    """The record carries no identity number."""
    ID_OLD_CMND = "ID_OLD_CMND"
    """The record carries an old 9-digit CMND, not the 12-digit personal ID."""
    ID_CHECK_FAILED = "ID_CHECK_FAILED"
    """The 12-digit ID is malformed or contradicts the record's own gender or birth year."""
    ID_NOT_FOUND = "ID_NOT_FOUND"
    """The 12-digit ID is not in the population database."""
    ID_MISMATCH = "ID_MISMATCH"
    """The record's ID belongs to a registry person who is not this record's person."""
    PERSON_DEAD = "PERSON_DEAD"
    """The registry person has died."""
    ID_MALFORMED = "ID_MALFORMED"
    """The record's ID cell is malformed: set aside (listed in the side file), not used as an ID."""
    DOB_MALFORMED = "DOB_MALFORMED"
    """The record's birth-date cell is malformed or empty: set aside, matched without it."""
    GENDER_MALFORMED = "GENDER_MALFORMED"
    """The record's gender cell is malformed: set aside, matched without it."""

    @property
    def label(self) -> str:
        """The reason in Vietnamese, as the portal shows it (``họ tên khác dấu``)."""
        return _LABELS[self][0]

    @property
    def label_en(self) -> str:
        """The reason in English, for the bilingual staff texts (``diacritics differ``)."""
        return _LABELS[self][1]

    @property
    def bilingual(self) -> str:
        """Vietnamese, then English in brackets, as the console and the CLI show it."""
        vi, en = _LABELS[self]
        return f"{vi} ({en})"


_LABELS: dict[Reason, tuple[str, str]] = {
    Reason.NAME_DIACRITICS: ("họ tên khác dấu", "diacritics differ"),
    Reason.NAME_MIDDLE_MISSING: ("thiếu tên đệm", "middle name missing"),
    Reason.NAME_TYPO: ("họ tên sai chính tả", "typo in the name"),
    Reason.NAME_DIFFERENT: ("họ tên khác", "different name"),
    Reason.DOB_YEAR_ONLY: ("chỉ có năm sinh", "birth year only"),
    Reason.DOB_DAY_MONTH_SWAPPED: ("ngày và tháng sinh bị đảo", "day and month swapped"),
    Reason.DOB_DIFFERENT: ("ngày sinh khác", "different birth date"),
    Reason.GENDER_MISSING: ("thiếu giới tính", "gender missing"),
    Reason.GENDER_MISMATCH: ("giới tính khác", "different gender"),
    Reason.BIRTH_PROVINCE_MISMATCH: ("tỉnh đăng ký khai sinh khác", "different birth province"),
    Reason.ID_MISSING: ("thiếu số định danh", "no personal ID"),
    Reason.ID_OLD_CMND: ("chỉ có CMND 9 số", "old ID card number only"),
    Reason.ID_CHECK_FAILED: (
        "số định danh sai cấu trúc hoặc mâu thuẫn",
        "ID malformed or inconsistent",
    ),
    Reason.ID_NOT_FOUND: (
        "số định danh không có trong CSDL dân cư",
        "ID not in the population database",
    ),
    Reason.ID_MISMATCH: ("số định danh thuộc người khác", "ID belongs to someone else"),
    Reason.PERSON_DEAD: ("CSDL dân cư ghi nhận đã chết", "deceased"),
    Reason.ID_MALFORMED: ("ô số định danh sai định dạng, đã bỏ qua", "malformed ID cell set aside"),
    Reason.DOB_MALFORMED: (
        "ô ngày sinh sai định dạng, đã bỏ qua",
        "malformed birth-date cell set aside",
    ),
    Reason.GENDER_MALFORMED: (
        "ô giới tính sai định dạng, đã bỏ qua",
        "malformed gender cell set aside",
    ),
}
"""One label per reason, Vietnamese then English. Where the portal's and the staff pages' old
tables disagreed, the more precise Vietnamese was kept."""

REASON_LABELS: dict[str, str] = {reason.value: reason.bilingual for reason in Reason} | {
    code: f"{vi} ({en})" for code, (vi, en) in DEDUPE_REASONS.items()
}
"""Reason code → bilingual label, for the staff texts (console pages, ``nidb review``)."""


class NameAgreement(StrEnum):
    """How two names agree, best level first."""

    EXACT = "exact"
    DIACRITICS = "diacritics"
    MIDDLE_MISSING = "middle_missing"
    TYPO = "typo"
    DIFFERENT = "different"


class DateAgreement(StrEnum):
    """How two birth dates agree, best level first."""

    EXACT = "exact"
    YEAR_ONLY = "year_only"
    SWAPPED = "swapped"
    DIFFERENT = "different"


@dataclass(frozen=True, slots=True)
class IdentityView:
    """The identity fields of one side of a comparison; None where unknown."""

    name: NameForms | None
    birth_date: PartialDate | None
    gender: Gender | None = None
    birth_province: str | None = None


def edit_distance(a: str, b: str, limit: int = 2) -> int:
    """Optimal-string-alignment distance (a transposition counts 1), capped at ``limit + 1``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return min(previous[-1], limit + 1)


def compare_names(record: NameForms, registry: NameForms) -> NameAgreement:
    """The best level at which the record's name agrees with the registry's."""
    if record.lower == registry.lower:
        return NameAgreement.EXACT
    if record.base == registry.base:
        return NameAgreement.DIACRITICS
    ours, theirs = record.base.split(), registry.base.split()
    if (
        len(ours) < len(theirs)
        and ours[0] == theirs[0]
        and ours[-1] == theirs[-1]
        and _is_subsequence(ours[1:-1], theirs[1:-1])
    ):
        return NameAgreement.MIDDLE_MISSING
    if edit_distance(record.base, registry.base) <= 2:
        return NameAgreement.TYPO
    return NameAgreement.DIFFERENT


def lost_diacritics(record: NameForms, registry: NameForms) -> bool:
    """Whether the record's name was typed without the diacritics the registry's name has."""
    return record.lower == record.base and registry.lower != registry.base


def compare_birth_dates(record: PartialDate, registry: PartialDate) -> DateAgreement:
    """The best level at which the record's birth date agrees with the registry's."""
    if record == registry:
        return DateAgreement.EXACT
    if record.year == registry.year and (
        record.month is None or (record.looks_like_year_placeholder() and registry.day is not None)
    ):
        return DateAgreement.YEAR_ONLY
    if record.agrees_with(registry):
        # the registry is the less precise side (an old citizen known by year only)
        return DateAgreement.EXACT
    if record.is_day_month_swap_of(registry):
        return DateAgreement.SWAPPED
    return DateAgreement.DIFFERENT


_NAME_REASON = {
    NameAgreement.DIACRITICS: Reason.NAME_DIACRITICS,
    NameAgreement.MIDDLE_MISSING: Reason.NAME_MIDDLE_MISSING,
    NameAgreement.TYPO: Reason.NAME_TYPO,
    NameAgreement.DIFFERENT: Reason.NAME_DIFFERENT,
}
_DATE_REASON = {
    DateAgreement.YEAR_ONLY: Reason.DOB_YEAR_ONLY,
    DateAgreement.SWAPPED: Reason.DOB_DAY_MONTH_SWAPPED,
    DateAgreement.DIFFERENT: Reason.DOB_DIFFERENT,
}


def explain(record: IdentityView, registry: IdentityView) -> tuple[Reason, ...]:
    """Every field on which ``record`` disagrees with ``registry``, in a stable order."""
    reasons: list[Reason] = []
    if record.name is not None and registry.name is not None:
        level = compare_names(record.name, registry.name)
        if level in (NameAgreement.MIDDLE_MISSING, NameAgreement.TYPO) and lost_diacritics(
            record.name, registry.name
        ):
            reasons.append(Reason.NAME_DIACRITICS)
        name = _NAME_REASON.get(level)
        if name is not None:
            reasons.append(name)
    if record.birth_date is not None and registry.birth_date is not None:
        birth = _DATE_REASON.get(compare_birth_dates(record.birth_date, registry.birth_date))
        if birth is not None:
            reasons.append(birth)
    if record.gender is None and registry.gender is not None:
        reasons.append(Reason.GENDER_MISSING)
    elif record.gender is not None and registry.gender not in (None, record.gender):
        reasons.append(Reason.GENDER_MISMATCH)
    if (
        record.birth_province is not None
        and registry.birth_province is not None
        and record.birth_province != registry.birth_province
    ):
        reasons.append(Reason.BIRTH_PROVINCE_MISMATCH)
    return tuple(reasons)


def join_reasons(reasons: tuple[Reason, ...] | list[Reason]) -> str:
    """Reasons as the interchange text: ``;``-separated codes, empty when none."""
    return ";".join(reasons)


def _is_subsequence(short: list[str], long: list[str]) -> bool:
    remaining = iter(long)
    return all(word in remaining for word in short)
