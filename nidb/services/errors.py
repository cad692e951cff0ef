"""Errors of the online public services, each with its field and a Vietnamese message.

They are DomainErrors, so web pages and the CLI show ``message_vi`` (and ``message_en``) the
same way as every other validation error of nidb. Rule codes are stable strings.
"""

from __future__ import annotations

from nidb.domain.errors import DomainError

__all__ = [
    "ConcurrentDecision",
    "DossierNotFound",
    "FormInvalid",
    "NotEligible",
    "PaymentRefused",
    "ServiceError",
    "TransitionRefused",
]


class ServiceError(DomainError):
    """Something about a dossier cannot be done; nothing was written."""


class FormInvalid(ServiceError):
    """A value typed into a form is not acceptable (format, range, file, script)."""


class NotEligible(ServiceError):
    """The register says the request cannot be granted (a check against it failed)."""


class DossierNotFound(ServiceError):
    """No dossier with this number (or not one the caller may see)."""

    def __init__(self, dossier_id: object) -> None:
        super().__init__(
            "dossier_id",
            dossier_id,
            "DOSSIER_NOT_FOUND",
            f"không tìm thấy hồ sơ số {dossier_id}",
            f"no dossier {dossier_id}",
        )


class TransitionRefused(ServiceError):
    """The kind's transition table does not allow this step from the dossier's state."""


class ConcurrentDecision(ServiceError):
    """Someone else moved the dossier since the caller read it (optimistic concurrency)."""

    def __init__(self, dossier_id: int, seen: int) -> None:
        super().__init__(
            "version",
            seen,
            "DOSSIER_CHANGED",
            f"hồ sơ số {dossier_id} vừa được người khác xử lý; hãy tải lại và xem lại quyết định",
            f"dossier {dossier_id} was changed by someone else; reload it and decide again",
        )


class PaymentRefused(ServiceError):
    """A payment callback was refused (signature, timestamp, amount, reference)."""
