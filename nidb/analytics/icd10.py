"""ICD-10 chapters as open data publishes them (the table itself is ``nidb.domain.icd10``).

Open-data visit counts are published by chapter, not by code: a code is too fine for counts
that must not single anyone out. A chapter is named by its roman numeral; a code in no chapter
is counted under ``?`` rather than dropped, so the totals still add up.
"""

from __future__ import annotations

from nidb.domain.icd10 import CHAPTERS, UnknownIcd10Chapter
from nidb.domain.icd10 import chapter_of as _chapter

__all__ = ["CHAPTERS", "UNKNOWN_CHAPTER", "chapter_of"]

UNKNOWN_CHAPTER = "?"


def chapter_of(code: str) -> str:
    """The chapter (roman numeral) of an ICD-10 code such as ``J18.9``; ``?`` if none."""
    try:
        return _chapter(code).roman
    except UnknownIcd10Chapter:
        return UNKNOWN_CHAPTER
