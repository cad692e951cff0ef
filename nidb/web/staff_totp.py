"""Staff two-factor sign-in (xác thực hai bước): TOTP codes (RFC 6238) and recovery codes.

After the password, a staff member with a second factor types the 6-digit code of their
authenticator app (30-second steps, one step of clock drift either way). A code is accepted
once: the step of the last accepted code is kept, and a code of that step or an earlier one is
refused, so a code seen over someone's shoulder cannot be replayed. Wrong and replayed codes
count towards the same lockout as wrong passwords (5 in a row: 15 minutes).

The secret is stored **encrypted** (AES-256-GCM under a key file outside the database, the
username as associated data so a ciphertext cannot be moved to another account) and is shown
only during enrolment, until the first code confirms it. Ten recovery codes are shown once, at
enrolment; only their argon2id hashes are kept, and each works once instead of a TOTP code.
"""

from __future__ import annotations

import base64
import hmac
import os
import re
import secrets
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Connection, Engine, delete, func, insert, select, update

from nidb.domain.credentials import after_failure, minutes_left
from nidb.settings import get_settings
from nidb.store.audit import write_audit
from nidb.store.models_web import StaffRecoveryCode, StaffUser, WebSession
from nidb.web.sessions import utcnow
from nidb.web.staff_users import StaffUserError

ISSUER = "BHXH Việt Nam (nidb)"
"""The account's issuer in authenticator apps."""
STEP_SECONDS = 30
DIGITS = 6
DRIFT_STEPS = 1
RECOVERY_CODES = 10
_RECOVERY_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud, typed back
_RECOVERY_LENGTH = 10  # ~49 bits each
_recovery_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
"""argon2id at OWASP's minimum (19 MiB, 2 passes) rather than the password hasher's defaults:
a recovery code is ~49 random bits, not a human's choice, so an offline search of one code is
still ~2^48 hashes; and a sign-in with the last unused code verifies up to ten hashes (measured:
bench/results/staff_second_factor.md)."""
_KEY_BYTES = 32
_CIPHER_PREFIX = "v1:"


class SecondFactorError(ValueError):
    """The key file or a stored secret cannot be used (an operator's problem, not the user's)."""


def key_path() -> Path:
    """The key file: ``NIDB_STAFF_TOTP_KEY_FILE``, else ``NIDB_DATA_DIR/keys/staff-totp.key``."""
    settings = get_settings()
    return settings.staff_totp_key_file or settings.data_dir / "keys" / "staff-totp.key"


@lru_cache(maxsize=4)
def _key_at(path: Path) -> bytes:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:  # created whole with mode 0600, or not at all (another process may race us)
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(descriptor, "wb") as file:
                file.write(base64.urlsafe_b64encode(secrets.token_bytes(_KEY_BYTES)) + b"\n")
    try:
        key = base64.urlsafe_b64decode(path.read_bytes().strip())
    except (OSError, ValueError) as error:
        raise SecondFactorError(f"cannot read the TOTP key file {path}: {error}") from None
    if len(key) != _KEY_BYTES:
        raise SecondFactorError(f"the TOTP key file {path} must hold 32 bytes, base64url")
    return key


def _encrypt(secret: str, username: str) -> str:
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(_key_at(key_path())).encrypt(nonce, secret.encode(), username.encode())
    return _CIPHER_PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()


def _decrypt(stored: str, username: str) -> str:
    if not stored.startswith(_CIPHER_PREFIX):
        raise SecondFactorError(f"the TOTP secret of {username} is not in a known format")
    raw = base64.urlsafe_b64decode(stored.removeprefix(_CIPHER_PREFIX))
    try:
        plain = AESGCM(_key_at(key_path())).decrypt(raw[:12], raw[12:], username.encode())
    except InvalidTag:
        raise SecondFactorError(
            f"the TOTP secret of {username} does not open with the key in {key_path()}"
        ) from None
    return plain.decode()


def grouped(secret: str) -> str:
    """The secret in groups of 4 for typing by hand: ``ABCD EFGH …``."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


# --- enrolment ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Enrolment:
    """What the enrolment page shows: the otpauth:// URI (as a QR code) and the secret."""

    secret: str
    uri: str

    @property
    def grouped(self) -> str:
        """The secret in groups of 4."""
        return grouped(self.secret)


def _user(conn: Connection, username: str, *, lock: bool = False) -> StaffUser:
    query = select(StaffUser).where(StaffUser.username == username)
    user = conn.execute(query.with_for_update() if lock else query).one_or_none()
    if user is None:
        raise StaffUserError("username", f"Không có tài khoản {username}.", f"no user {username}")
    return user  # type: ignore[return-value]


def begin_enrolment(engine: Engine, username: str) -> Enrolment | None:
    """A secret to enrol (the pending one if enrolment was started; else a new one), or None
    when the account already has a second factor (its secret is never shown again)."""
    with engine.begin() as conn:
        user = _user(conn, username, lock=True)
        if user.totp_enrolled_at is not None:
            return None
        secret = None
        if user.totp_secret is not None:
            try:
                secret = _decrypt(user.totp_secret, username)
            except SecondFactorError:  # the key changed since enrolment began: start afresh
                secret = None
        if secret is None:
            secret = pyotp.random_base32()  # 32 characters, 160 bits (RFC 4226's recommendation)
            conn.execute(
                update(StaffUser)
                .where(StaffUser.id == user.id)
                .values(totp_secret=_encrypt(secret, username))
            )
    uri = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=username, issuer_name=ISSUER
    )
    return Enrolment(secret, uri)


def confirm_enrolment(engine: Engine, username: str, code: str, client: str) -> list[str] | None:
    """Check the first code against the pending secret; if right, the second factor is in force
    and the ten recovery codes come back (shown once); None if the code is wrong."""
    digits = _digits(code)
    now = utcnow()
    with engine.begin() as conn:
        user = _user(conn, username, lock=True)
        if user.totp_enrolled_at is not None or user.totp_secret is None or digits is None:
            return None
        step = _matching_step(_decrypt(user.totp_secret, username), digits, now.timestamp())
        if step is None:
            return None
        conn.execute(
            update(StaffUser)
            .where(StaffUser.id == user.id)
            .values(totp_enrolled_at=now, totp_last_step=step, last_sign_in_at=now)
        )
        codes = _new_recovery_codes(conn, user.id)
        write_audit(
            conn, actor=f"staff:{username}", action="staff_user.enrol_2fa",
            subject_type="staff_user", subject_id=username, purpose=None,
            detail={"client": client[:100]},
        )  # fmt: skip
    return codes


def _new_recovery_codes(conn: Connection, user_id: int) -> list[str]:
    conn.execute(delete(StaffRecoveryCode).where(StaffRecoveryCode.staff_user_id == user_id))
    codes = [
        "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH))
        for _ in range(RECOVERY_CODES)
    ]
    conn.execute(
        insert(StaffRecoveryCode),
        [{"staff_user_id": user_id, "code_hash": _recovery_hasher.hash(c)} for c in codes],
    )
    return [f"{c[:5]}-{c[5:]}" for c in codes]


def recovery_codes_left(engine: Engine, username: str) -> int:
    """How many unused recovery codes the account has."""
    with engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count())
                .select_from(StaffRecoveryCode)
                .join(StaffUser, StaffUser.id == StaffRecoveryCode.staff_user_id)
                .where(StaffUser.username == username, StaffRecoveryCode.used_at.is_(None))
            ).scalar_one()
        )


# --- the code at sign-in ------------------------------------------------------------------------


class CodeOutcome(StrEnum):
    """What became of a second-factor code (the page says one of three things)."""

    OK = "ok"
    WRONG = "wrong_code"
    REPLAYED = "replayed_code"
    LOCKED = "locked"


@dataclass(frozen=True)
class CodeResult:
    """The outcome; ``via`` says which kind of code was accepted (totp or recovery_code)."""

    outcome: CodeOutcome
    via: str = ""
    locked_minutes: int = 0


def _digits(code: str) -> str | None:
    cleaned = re.sub(r"[\s-]", "", code)
    return cleaned if re.fullmatch(rf"[0-9]{{{DIGITS}}}", cleaned) else None


def _recovery(code: str) -> str | None:
    cleaned = re.sub(r"[\s-]", "", code).upper()
    pattern = rf"[{_RECOVERY_ALPHABET}]{{{_RECOVERY_LENGTH}}}"
    return cleaned if re.fullmatch(pattern, cleaned) else None


def _matching_step(secret: str, code: str, at: float) -> int | None:
    """The step (of now − 1, now, now + 1) whose code is ``code``, or None."""
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    now_step = int(at // STEP_SECONDS)
    found = None
    for step in range(now_step - DRIFT_STEPS, now_step + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            found = step  # no early exit: the same work whichever step matches
    return found


def _use_recovery_code(conn: Connection, user_id: int, code: str) -> bool:
    rows = conn.execute(
        select(StaffRecoveryCode.id, StaffRecoveryCode.code_hash).where(
            StaffRecoveryCode.staff_user_id == user_id, StaffRecoveryCode.used_at.is_(None)
        )
    ).all()
    for row_id, code_hash in rows:
        try:
            _recovery_hasher.verify(code_hash, code)
        except (VerificationError, InvalidHashError):
            continue
        used = conn.execute(
            update(StaffRecoveryCode)
            .where(StaffRecoveryCode.id == row_id, StaffRecoveryCode.used_at.is_(None))
            .values(used_at=utcnow())
        )
        return bool(used.rowcount)
    return False


def check_code(engine: Engine, username: str, code: str, client: str) -> CodeResult:
    """Check the second step of a sign-in (a TOTP code or a recovery code), apply the lockout
    rule shared with passwords, and audit it, in one transaction."""
    now = utcnow()
    with engine.begin() as conn:
        user = _user(conn, username, lock=True)
        result: CodeResult
        if minutes_left(user.locked_until, now):
            result = CodeResult(
                CodeOutcome.LOCKED, locked_minutes=minutes_left(user.locked_until, now)
            )
        elif user.totp_enrolled_at is None or user.totp_secret is None:
            result = CodeResult(CodeOutcome.WRONG)
        else:
            result = _check(conn, user, code, now.timestamp())
        if result.outcome is CodeOutcome.OK:
            conn.execute(
                update(StaffUser)
                .where(StaffUser.id == user.id)
                .values(failed_attempts=0, locked_until=None, last_sign_in_at=now)
            )
        elif result.outcome is not CodeOutcome.LOCKED:
            failures = after_failure(user.failed_attempts, now)
            if failures.locked:
                result = CodeResult(
                    CodeOutcome.LOCKED, locked_minutes=minutes_left(failures.locked_until, now)
                )
            conn.execute(
                update(StaffUser).where(StaffUser.id == user.id).values(**failures.values())
            )
        ok = result.outcome is CodeOutcome.OK
        write_audit(
            conn,
            actor=f"staff:{username}",
            action="staff.sign_in" if ok else "staff.sign_in_failed",
            subject_type="staff_user",
            subject_id=username,
            purpose=None,
            detail={"outcome": result.outcome.value, "second_factor": result.via or "none",
                    "client": client[:100]},
        )  # fmt: skip
    return result


def _check(conn: Connection, user: StaffUser, code: str, at: float) -> CodeResult:
    assert user.totp_secret is not None
    digits = _digits(code)
    if digits is not None:
        step = _matching_step(_decrypt(user.totp_secret, user.username), digits, at)
        if step is None:
            return CodeResult(CodeOutcome.WRONG)
        # conditional, so that a code is taken once even by two requests racing each other
        taken = conn.execute(
            update(StaffUser)
            .where(
                StaffUser.id == user.id,
                (StaffUser.totp_last_step.is_(None)) | (StaffUser.totp_last_step < step),
            )
            .values(totp_last_step=step)
        )
        if not taken.rowcount:
            return CodeResult(CodeOutcome.REPLAYED)
        return CodeResult(CodeOutcome.OK, via="totp")
    recovery = _recovery(code)
    if recovery is not None and _use_recovery_code(conn, user.id, recovery):
        return CodeResult(CodeOutcome.OK, via="recovery_code")
    return CodeResult(CodeOutcome.WRONG)


# --- the operator's reset -----------------------------------------------------------------------


def reset_second_factor(engine: Engine, username: str, *, actor: str) -> None:
    """Remove an account's second factor and recovery codes and end its sessions (audited):
    at the next sign-in it enrols again (admins and approvers must)."""
    username = username.strip().lower()
    with engine.begin() as conn:
        user = _user(conn, username, lock=True)
        had = user.totp_enrolled_at is not None
        conn.execute(
            update(StaffUser)
            .where(StaffUser.id == user.id)
            .values(totp_secret=None, totp_enrolled_at=None, totp_last_step=None)
        )
        codes = conn.execute(
            delete(StaffRecoveryCode).where(StaffRecoveryCode.staff_user_id == user.id)
        )
        ended = conn.execute(
            delete(WebSession).where(WebSession.kind == "staff", WebSession.subject == username)
        )
        write_audit(
            conn, actor=actor, action="staff_user.reset_2fa", subject_type="staff_user",
            subject_id=username, purpose=None,
            detail={"was_enrolled": had, "recovery_codes_removed": int(codes.rowcount or 0),
                    "sessions_ended": int(ended.rowcount or 0)},
        )  # fmt: skip
