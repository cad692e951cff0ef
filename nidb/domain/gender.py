"""Gender (giới tính) and its many spellings in incoming data."""

from __future__ import annotations

import unicodedata
from enum import StrEnum

from nidb.domain.errors import InvalidGender, Rule

__all__ = ["Gender", "parse_gender"]


class Gender(StrEnum):
    """Sex as recorded in the population database: `M` or `F`."""

    MALE = "M"
    FEMALE = "F"


# Keys are NFC and case-folded. "1"/"2" is the hospital XML convention (GIOI_TINH, Decision
# 130/QĐ-BYT); its "3" (unknown) is deliberately absent, so the caller decides what unknown means.
# "nu" is "Nữ" typed without diacritics, which incoming data must never be rejected for.
_SPELLINGS: dict[str, Gender] = {
    # The two canonical spellings first, so the common case is a single dict hit.
    "M": Gender.MALE,
    "F": Gender.FEMALE,
    "m": Gender.MALE,
    "f": Gender.FEMALE,
    "nam": Gender.MALE,
    "nữ": Gender.FEMALE,
    "nu": Gender.FEMALE,
    "male": Gender.MALE,
    "female": Gender.FEMALE,
    "1": Gender.MALE,
    "2": Gender.FEMALE,
}


def parse_gender(raw: str | None, field: str = "gender") -> Gender | None:
    """Read a gender from any accepted spelling; None when the value is missing.

    Missing means None, empty or whitespace only. Accepted (any case, NFC or NFD): M/F,
    Nam/Nữ (also Nu), male/female, and 1/2 (1 male, 2 female, as in hospital XML).
    Anything else raises InvalidGender (rule GENDER_INVALID).
    """
    if raw is None:
        return None
    key = raw.strip()
    if not key:
        return None
    found = _SPELLINGS.get(key) or _SPELLINGS.get(unicodedata.normalize("NFC", key).casefold())
    if found is None:
        raise InvalidGender(
            field,
            raw,
            Rule.GENDER_INVALID,
            "giới tính phải là M/F, Nam/Nữ hoặc 1/2",
            "gender must be M/F, Nam/Nữ or 1/2",
        )
    return found
