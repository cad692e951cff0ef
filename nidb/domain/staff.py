"""Staff roles (vai trò cán bộ) and the one table of what each role may do.

The staff console, the staff HTTP API, bearer tokens and staff accounts all read this table,
so a role cannot be allowed an action in one place and refused it in another. Where a staff
member may act (their province or district) is a separate question, answered by the console's
scope (``nidb.web.console.scope``).

Examples:
    >>> can(StaffRole.REVIEWER, StaffAction.DECIDE_REVIEW_ITEM)
    True
    >>> can("approver", StaffAction.DECIDE_REVIEW_ITEM)
    False
    >>> StaffRole.AUDITOR.label
    'Kiểm toán viên'
    >>> second_factor_required("admin"), second_factor_required("reviewer")
    (True, False)
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "SECOND_FACTOR_ROLES",
    "StaffAction",
    "StaffRole",
    "can",
    "roles_allowed",
    "second_factor_required",
]


class StaffRole(StrEnum):
    """A staff member's role; the values are those stored in ``staff_users.role`` and
    ``api_tokens.role``."""

    REVIEWER = "reviewer"
    """Decides identity review items and citizens' correction requests; checks dossiers."""
    APPROVER = "approver"
    """Approves or refuses online-service dossiers."""
    AUDITOR = "auditor"
    """Reads only: access histories, the audit log, the review queue and correction requests."""
    ADMIN = "admin"
    """Administers the system; may do what reviewers and auditors do, but decides no dossier."""

    @property
    def label(self) -> str:
        """The role in Vietnamese, as the console shows it."""
        return _LABELS[self]


class StaffAction(StrEnum):
    """Something a role may or may not do (whatever the door: console page or staff API)."""

    READ_REVIEW_QUEUE = "review.read"
    """List the identity review queue and open an item (record and registry side by side)."""
    DECIDE_REVIEW_ITEM = "review.decide"
    """Accept or reject a review item."""
    READ_CORRECTIONS = "correction.read"
    """List citizens' correction requests, open one, download its evidence."""
    DECIDE_CORRECTION = "correction.decide"
    """Accept or reject a correction request."""
    READ_ACCESS_LOG = "access.read"
    """Read a person's access history and the audit log (the audit log: central scope only)."""
    PROCESS_DOSSIERS = "dossier.process"
    """Work on online-service dossiers: the navigation's dossier pages. Any staff member may
    still read a dossier of their area by its address."""
    CHECK_DOSSIER = "dossier.check"
    """Mark a dossier checked (đã thẩm định)."""
    DECIDE_DOSSIER = "dossier.decide"
    """Approve or refuse a dossier."""
    DECIDE_ALERT = "alert.decide"
    """Confirm or dismiss an access-anomaly alert (never one about oneself)."""
    READ_DEBTORS = "debt.read"
    """List employers in debt (nợ đóng) per province, flagged when the enterprise closed: a
    collection task of province staff; auditors read it too."""
    READ_CLAIMS = "claims.read"
    """List the health-insurance claims the assessment flagged and open one (lines, rules)."""
    REVIEW_CLAIM = "claims.review"
    """Accept a flagged claim's assessment or adjust its lines, with a reason."""
    READ_EMPLOYER_ACCOUNTS = "employer_account.read"
    """Find an employer of the register and see whether it is enrolled for electronic
    transactions (đăng ký giao dịch điện tử), its keys and the state of its sign-in."""
    MANAGE_EMPLOYER_ACCOUNTS = "employer_account.manage"
    """Enrol an employer with its public key, add or revoke a key, set or issue the password of
    its pages, lift a sign-in lock: the front office's work of reviewers; admins too."""


_LABELS: dict[StaffRole, str] = {
    StaffRole.REVIEWER: "Cán bộ thẩm định",
    StaffRole.APPROVER: "Cán bộ phê duyệt",
    StaffRole.AUDITOR: "Kiểm toán viên",
    StaffRole.ADMIN: "Quản trị hệ thống",
}

_REVIEWER, _APPROVER, _AUDITOR, _ADMIN = StaffRole
_ALLOWED: dict[StaffAction, frozenset[StaffRole]] = {
    StaffAction.READ_REVIEW_QUEUE: frozenset({_REVIEWER, _AUDITOR, _ADMIN}),
    StaffAction.DECIDE_REVIEW_ITEM: frozenset({_REVIEWER, _ADMIN}),
    StaffAction.READ_CORRECTIONS: frozenset({_REVIEWER, _AUDITOR, _ADMIN}),
    StaffAction.DECIDE_CORRECTION: frozenset({_REVIEWER, _ADMIN}),
    StaffAction.READ_ACCESS_LOG: frozenset({_AUDITOR, _ADMIN}),
    StaffAction.PROCESS_DOSSIERS: frozenset({_REVIEWER, _APPROVER, _ADMIN}),
    StaffAction.CHECK_DOSSIER: frozenset({_REVIEWER}),
    StaffAction.DECIDE_DOSSIER: frozenset({_APPROVER}),
    StaffAction.DECIDE_ALERT: frozenset({_AUDITOR, _ADMIN}),
    StaffAction.READ_DEBTORS: frozenset({_REVIEWER, _AUDITOR, _ADMIN}),
    StaffAction.READ_CLAIMS: frozenset({_REVIEWER, _AUDITOR, _ADMIN}),
    StaffAction.REVIEW_CLAIM: frozenset({_REVIEWER, _ADMIN}),
    StaffAction.READ_EMPLOYER_ACCOUNTS: frozenset({_REVIEWER, _AUDITOR, _ADMIN}),
    StaffAction.MANAGE_EMPLOYER_ACCOUNTS: frozenset({_REVIEWER, _ADMIN}),
}
"""Who may do what: the one rule table (docs/console.md, docs/services.md)."""


def can(role: StaffRole | str, action: StaffAction | str) -> bool:
    """Whether ``role`` may do ``action``; an unknown role may do nothing.

    An unknown action is a programming error and raises ValueError.
    """
    allowed = _ALLOWED[StaffAction(action)]
    try:
        return StaffRole(role) in allowed
    except ValueError:
        return False


def roles_allowed(action: StaffAction | str) -> tuple[StaffRole, ...]:
    """The roles that may do ``action``, in the order of ``StaffRole``."""
    allowed = _ALLOWED[StaffAction(action)]
    return tuple(role for role in StaffRole if role in allowed)


SECOND_FACTOR_ROLES = frozenset({_ADMIN, _APPROVER})
"""Roles that must sign in with a second factor (xác thực hai bước): they administer the system
or decide dossiers; the others are offered it."""


def second_factor_required(role: StaffRole | str, *, everyone: bool = False) -> bool:
    """Whether a staff member of ``role`` must enrol a second factor before using the console.

    ``everyone`` (the setting ``NIDB_STAFF_TOTP_REQUIRED_FOR_ALL``) requires it of every role;
    an unknown role is always required to (it should not exist; refusing is the safe side).
    """
    if everyone:
        return True
    try:
        return StaffRole(role) in SECOND_FACTOR_ROLES
    except ValueError:
        return True
