"""Employers' web passwords and sign-in: argon2id, the password policy and lockout of staff.

The policy and the lockout are the rule staff accounts follow (``nidb.domain.credentials``):
five wrong passwords in a row lock the account for 15 minutes, during which even the right one
is refused; every attempt is audited (``employer.sign_in`` / ``employer.sign_in_failed``, with
the outcome and the client address, never the password). An unknown employer code costs the
same argon2 work as a known one, so timing does not reveal which employers are enrolled.
Staff clear a lock with ``nidb employer unlock`` (or by setting a new password). A password
staff issued (shown once) must be changed at the first sign-in (``change_password``).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, Engine, select, update

from nidb.domain.credentials import after_failure, minutes_left, password_problems
from nidb.employers.errors import EmployerError
from nidb.store import models
from nidb.store.audit import write_audit
from nidb.store.models_employers import EmployerAccount

__all__ = [
    "SignInOutcome",
    "SignInResult",
    "change_password",
    "check_password",
    "hash_password",
    "new_password",
    "sign_in",
    "verify_password",
]

MAX_PASSWORD_LENGTH = 256
_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("nidb-dummy-employer-password")
# no 0/O, 1/l/I: a password read out over the telephone or copied from paper
_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def hash_password(password: str) -> str:
    """An argon2id hash of ``password`` (refuses fewer than 10 characters)."""
    if len(password) < 10:
        raise ValueError("a password has at least 10 characters")
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` is the one hashed."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def check_password(employer_code: str, password: str) -> None:
    """Raise EmployerError (rule ``PASSWORD_POLICY``) if ``password`` breaks the policy."""
    problems = password_problems(employer_code, password)
    if len(password) > MAX_PASSWORD_LENGTH:
        problems.append(("Mật khẩu quá dài (tối đa 256 ký tự).", "at most 256 characters"))
    if problems:
        raise EmployerError(
            "password",
            "…",  # never the password itself, not even in an error
            "PASSWORD_POLICY",
            " ".join(vi for vi, _ in problems),
            "; ".join(en for _, en in problems),
        )


def new_password() -> str:
    """A random password meeting the policy (16 characters, about 93 bits), for staff to hand
    to an employer once."""
    while True:
        groups = ["".join(secrets.choice(_ALPHABET) for _ in range(4)) for _ in range(4)]
        password = "-".join(groups)
        if not password_problems("", password):
            return password


class SignInOutcome(StrEnum):
    """Why an employer's sign-in succeeded or not (the page shows one message for WRONG and
    DISABLED, so it does not tell which employers are enrolled)."""

    OK = "ok"
    WRONG = "wrong_credentials"
    LOCKED = "locked"
    DISABLED = "disabled"
    """The account is suspended or has no password for the pages."""


@dataclass(frozen=True, slots=True)
class SignInResult:
    """The outcome; the employer's name when it is OK, the minutes left when LOCKED."""

    outcome: SignInOutcome
    employer_code: str
    name: str = ""
    locked_minutes: int = 0
    must_change: bool = False
    """The password was issued by staff: the pages ask for a new one first."""


def sign_in(engine: Engine, employer_code: str, password: str, client: str) -> SignInResult:
    """Check an employer's sign-in, apply the lockout rule and audit it, in one transaction."""
    code = employer_code.strip().upper()[:20]
    password = password[:MAX_PASSWORD_LENGTH]
    now = datetime.now(UTC)
    with engine.begin() as conn:
        account = conn.execute(
            select(
                EmployerAccount.status,
                EmployerAccount.password_hash,
                EmployerAccount.failed_attempts,
                EmployerAccount.locked_until,
                EmployerAccount.password_must_change,
                models.Employer.name,
            )
            .join(models.Employer, models.Employer.employer_code == EmployerAccount.employer_code)
            .where(EmployerAccount.employer_code == code)
            .with_for_update(of=EmployerAccount)
        ).first()
        locked_minutes = 0
        if account is None or account.status != "active" or account.password_hash is None:
            _verify_nothing(password)
            outcome = SignInOutcome.WRONG if account is None else SignInOutcome.DISABLED
        elif minutes_left(account.locked_until, now):
            _verify_nothing(password)
            outcome = SignInOutcome.LOCKED
            locked_minutes = minutes_left(account.locked_until, now)
        elif verify_password(account.password_hash, password):
            outcome = SignInOutcome.OK
            values: dict[str, object] = {
                "failed_attempts": 0,
                "locked_until": None,
                "last_sign_in_at": now,
            }
            if _hasher.check_needs_rehash(account.password_hash):
                values["password_hash"] = _hasher.hash(password)
            _update(conn, code, values)
        else:
            failures = after_failure(account.failed_attempts, now)
            outcome = SignInOutcome.LOCKED if failures.locked else SignInOutcome.WRONG
            locked_minutes = minutes_left(failures.locked_until, now)
            _update(conn, code, failures.values())
        write_audit(
            conn,
            actor=f"employer-web:{code}" if account is not None else "anonymous",
            action="employer.sign_in" if outcome is SignInOutcome.OK else "employer.sign_in_failed",
            subject_type="employer",
            subject_id=code,
            purpose=None,
            detail={"outcome": outcome.value, "client": client[:100]},
        )
    if account is None or outcome is not SignInOutcome.OK:
        return SignInResult(outcome, code, locked_minutes=locked_minutes)
    return SignInResult(outcome, code, account.name, must_change=account.password_must_change)


def change_password(
    engine: Engine, employer_code: str, current: str, new: str, client: str
) -> SignInResult:
    """The signed-in employer replaces its password: the current one is checked under the
    lockout rule (a wrong one counts as a failed sign-in), the new one against the policy
    (EmployerError otherwise). Audited ``employer.password_changed`` or
    ``employer.password_change_failed``; returns the check's outcome (OK: changed)."""
    check_password(employer_code, new)
    if new == current:
        raise EmployerError(
            "password",
            "…",
            "PASSWORD_UNCHANGED",
            "Mật khẩu mới phải khác mật khẩu hiện tại.",
            "the new password must differ from the current one",
        )
    now = datetime.now(UTC)
    with engine.begin() as conn:
        account = conn.execute(
            select(
                EmployerAccount.password_hash,
                EmployerAccount.failed_attempts,
                EmployerAccount.locked_until,
            )
            .where(EmployerAccount.employer_code == employer_code)
            .with_for_update()
        ).first()
        locked_minutes = 0
        if account is None or account.password_hash is None:
            outcome = SignInOutcome.DISABLED
        elif minutes_left(account.locked_until, now):
            outcome = SignInOutcome.LOCKED
            locked_minutes = minutes_left(account.locked_until, now)
        elif verify_password(account.password_hash, current[:MAX_PASSWORD_LENGTH]):
            outcome = SignInOutcome.OK
            _update(
                conn,
                employer_code,
                {
                    "password_hash": _hasher.hash(new),
                    "password_must_change": False,
                    "failed_attempts": 0,
                    "locked_until": None,
                },
            )
        else:
            failures = after_failure(account.failed_attempts, now)
            outcome = SignInOutcome.LOCKED if failures.locked else SignInOutcome.WRONG
            locked_minutes = minutes_left(failures.locked_until, now)
            _update(conn, employer_code, failures.values())
        ok = outcome is SignInOutcome.OK
        write_audit(
            conn,
            actor=f"employer-web:{employer_code}",
            action="employer.password_changed" if ok else "employer.password_change_failed",
            subject_type="employer",
            subject_id=employer_code,
            purpose=None,
            detail={"outcome": outcome.value, "client": client[:100]},
        )
    return SignInResult(outcome, employer_code, locked_minutes=locked_minutes)


def _update(conn: Connection, employer_code: str, values: dict[str, object]) -> None:
    conn.execute(
        update(EmployerAccount)
        .where(EmployerAccount.employer_code == employer_code)
        .values(**values)
    )


def _verify_nothing(password: str) -> None:
    # the same argon2 work as a real check: the answer's timing tells nothing
    verify_password(_DUMMY_HASH, password)
