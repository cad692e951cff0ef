"""Signing in with a password (đăng nhập bằng mật khẩu): one rule for staff and employer accounts.

- **Policy** — at least 12 characters, at least 3 of 4 classes (lower case, upper case, digits,
  other characters), and not containing the account's name.
- **Lockout** (khoá tạm thời) — five wrong attempts in a row lock the account for 15 minutes;
  while locked even the right password is refused, and the page says how many minutes are left.
  The counter restarts once the lock is set, so after the lock ends five more attempts are
  allowed.

Staff accounts (``nidb.web.staff_users``, and their second factor) and employer accounts
(``nidb.employers.passwords``) keep ``failed_attempts`` and ``locked_until`` columns and apply
these functions to them; nothing here touches a database.

Examples:
    >>> from datetime import UTC, datetime
    >>> now = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    >>> after_failure(3, now)
    Failures(failed_attempts=4, locked_until=None)
    >>> locked = after_failure(4, now)
    >>> locked.locked, minutes_left(locked.locked_until, now)
    (True, 15)
    >>> minutes_left(None, now)
    0
    >>> locked_message(15)
    'Tài khoản tạm thời bị khóa do nhập sai mật khẩu nhiều lần. Vui lòng thử lại sau 15 phút.'
    >>> [vi for vi, _ in password_problems("ta0001a", "Ta0001a-mat-khau")]
    ['Mật khẩu không được chứa tên đăng nhập.']
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

__all__ = [
    "LOCKOUT",
    "MAX_FAILURES",
    "MIN_PASSWORD_LENGTH",
    "Failures",
    "after_failure",
    "locked_message",
    "minutes_left",
    "password_problems",
]

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 12


def _aware(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; nidb stores UTC
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def minutes_left(locked_until: datetime | None, now: datetime) -> int:
    """Whole minutes until the lock ends, rounded up (at least 1 while locked); 0 if not locked."""
    if locked_until is None:
        return 0
    seconds = (_aware(locked_until) - _aware(now)).total_seconds()
    return max(1, math.ceil(seconds / 60)) if seconds > 0 else 0


@dataclass(frozen=True, slots=True)
class Failures:
    """An account's counter after one more wrong attempt: the columns to store."""

    failed_attempts: int
    locked_until: datetime | None

    @property
    def locked(self) -> bool:
        """This attempt locked the account."""
        return self.locked_until is not None

    def values(self) -> dict[str, object]:
        """The columns ``failed_attempts`` and ``locked_until`` as an UPDATE's values."""
        return {"failed_attempts": self.failed_attempts, "locked_until": self.locked_until}


def after_failure(failed_attempts: int, now: datetime) -> Failures:
    """The counter after one more wrong attempt: the ``MAX_FAILURES``-th locks until
    ``now + LOCKOUT`` and restarts the count."""
    failures = failed_attempts + 1
    if failures >= MAX_FAILURES:
        return Failures(0, now + LOCKOUT)
    return Failures(failures, None)


def locked_message(minutes: int) -> str:
    """What a sign-in page says to a locked account (Vietnamese)."""
    return (
        "Tài khoản tạm thời bị khóa do nhập sai mật khẩu nhiều lần. "
        f"Vui lòng thử lại sau {minutes} phút."
    )


def password_problems(account: str, password: str) -> list[tuple[str, str]]:
    """Why ``password`` is not acceptable for the account named ``account`` (Vietnamese,
    English); an empty list when it is."""
    problems: list[tuple[str, str]] = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(
            (
                f"Mật khẩu phải có ít nhất {MIN_PASSWORD_LENGTH} ký tự.",
                f"at least {MIN_PASSWORD_LENGTH} characters",
            )
        )
    classes = sum(
        (
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        )
    )
    if classes < 3:
        problems.append(
            (
                "Mật khẩu phải có ít nhất 3 trong 4 loại: chữ thường, chữ hoa, chữ số, ký tự đặc biệt.",
                "at least 3 of: lower case, upper case, digits, symbols",
            )
        )
    if account and account.lower() in password.lower():
        problems.append(
            ("Mật khẩu không được chứa tên đăng nhập.", "must not contain the username")
        )
    return problems
