"""The kinds of case in the identity review queue (hàng chờ xử lý), with their labels.

The values are the ones stored in ``review_items.kind`` (and allowed by its CHECK constraint).
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["DEDUPE_REASONS", "ReviewKind"]


class ReviewKind(StrEnum):
    """Who queued a review item (loại mục đối soát).

    Examples:
        >>> ReviewKind("dedupe").label
        'Trùng mã số BHXH'
        >>> [kind.value for kind in ReviewKind]
        ['verification', 'match', 'dedupe']
    """

    VERIFICATION = "verification"
    """Verification against the population database could not settle the record alone."""
    MATCH = "match"
    """Probabilistic matching proposed a registry person for a record without a usable ID."""
    DEDUPE = "dedupe"
    """Duplicate detection found two BHXH codes that look like one person."""

    @property
    def label(self) -> str:
        """The kind in Vietnamese, as the console shows it."""
        return _LABELS[self]


_LABELS: dict[ReviewKind, str] = {
    ReviewKind.VERIFICATION: "Xác thực với CSDL dân cư",
    ReviewKind.MATCH: "Đối sánh xác suất",
    ReviewKind.DEDUPE: "Trùng mã số BHXH",
}


DEDUPE_REASONS: dict[str, tuple[str, str]] = {
    "DEDUPE_AUTO": (
        "mô hình chắc chắn các hồ sơ là một người",
        "the model linked the records automatically",
    ),
    "DEDUPE_REVIEW": (
        "mô hình cho rằng các hồ sơ có thể là một người",
        "the model found the records likely one person",
    ),
    "DEDUPE_IDS_DIFFER": (
        "các hồ sơ đã xác thực với số định danh khác nhau",
        "the records are verified with different personal IDs",
    ),
}
"""Reason codes of dedupe review items (``nidb dedupe`` in register mode): Vietnamese, English."""
