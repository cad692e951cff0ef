"""Issuing BHXH codes (cấp mã số BHXH): the candidate codes for a new participant.

A BHXH code is 10 digits, issued once for life: the first two are the province of the issuing
office, the other eight a serial. The real numbering plan of Vietnam Social Security is not
published; nidb issues codes of that shape from a deterministic walk over the serials (so that a
replayed declaration proposes the same code first), and the store refuses a code any record,
link or earlier issue already holds (``nidb.employers.codes``: the ``issued_bhxh_codes`` table's
primary key makes a reuse impossible even between two processes).

Examples:
    >>> codes = bhxh_code_candidates("01", "001085012345")
    >>> first = next(codes)
    >>> len(first), first[:2]
    (10, '01')
"""

from __future__ import annotations

from collections.abc import Iterator

from nidb.domain.identifiers import BhxhCode

__all__ = ["bhxh_code_candidates"]

_SERIALS = 10**8
_STEP = 7_919_993  # prime, coprime with 10**8: the walk visits every serial once


def bhxh_code_candidates(province_code: str, personal_id: str) -> Iterator[str]:
    """Every code of the province once, starting from one derived from the personal ID."""
    if len(province_code) != 2 or not province_code.isdigit():
        raise ValueError(f"province code {province_code!r} must be 2 digits")
    start = int(personal_id[-8:]) if personal_id[-8:].isdigit() else 0
    for attempt in range(_SERIALS):
        yield str(BhxhCode(f"{province_code}{(start + attempt * _STEP) % _SERIALS:08d}"))
