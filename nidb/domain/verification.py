"""Where verification against the population database leaves a person record (Đề án 06).

The values are the ones stored in ``persons.verification_status``; each status has one
Vietnamese label, used by every page that shows it.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["VerificationStatus"]


class VerificationStatus(StrEnum):
    """The verification status of a person record (trạng thái xác thực).

    Examples:
        >>> VerificationStatus("verified").label
        'Đã xác thực với CSDL quốc gia về dân cư'
        >>> VerificationStatus.REVIEW == "review"
        True
    """

    VERIFIED = "verified"
    """Every identity field agrees with the registry (safe fixes applied), or a staff member
    accepted the candidate; ``verified_personal_id`` holds the personal ID."""
    REVIEW = "review"
    """The record disagrees with the registry in a way a person must settle: queued for staff."""
    UNMATCHED = "unmatched"
    """No usable personal ID, or one the registry does not know or that is someone else's."""
    REJECTED = "rejected"
    """A staff member rejected the candidate the review queue proposed."""
    UNVERIFIED = "unverified"
    """Not verified yet (the state of every imported record)."""

    @property
    def label(self) -> str:
        """The status in Vietnamese, as the portal and the console show it."""
        return _LABELS[self]


_LABELS: dict[VerificationStatus, str] = {
    VerificationStatus.VERIFIED: "Đã xác thực với CSDL quốc gia về dân cư",
    VerificationStatus.REVIEW: "Đang chờ cán bộ xem xét",
    VerificationStatus.UNMATCHED: "Thông tin chưa khớp với CSDL dân cư",
    VerificationStatus.REJECTED: "Bị từ chối",
    VerificationStatus.UNVERIFIED: "Chưa xác thực",
}
