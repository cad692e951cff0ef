"""One published dataset: the file written and what the catalogue says about it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

__all__ = ["Dataset"]


@dataclass
class Dataset:
    """One file written and what the catalogue says about it."""

    identifier: str
    file: str
    title_vi: str
    title_en: str
    description_vi: str
    description_en: str
    themes: tuple[str, ...]
    temporal: tuple[date, date] | None
    kind: str  # statistics | reference
    rows: int = 0
    suppressed: int = 0
    parquet_file: str | None = None
