"""Staff accounts (tài khoản cán bộ): argon2id passwords, a password policy, lockout.

The policy and the lockout are the rule shared with employer accounts
(``nidb.domain.credentials``): a wrong password five times in a row locks the account for 15
minutes; while locked even the right password is refused. Wrong second-factor codes (``nidb.web.staff_totp``) count towards the
same lockout, and the right password does not clear failures while the code is still to come. Every sign-in attempt, success or failure, is in the audit log
(without the password). An unknown username costs the same argon2 work as a known one, so
timing does not reveal which usernames exist.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, insert, select, update

from nidb.domain.credentials import after_failure, minutes_left, password_problems
from nidb.domain.errors import DomainError
from nidb.domain.provinces import province
from nidb.store.audit import write_audit
from nidb.store.models_web import SCOPE_LEVELS, STAFF_ROLES, StaffUser
from nidb.web.sessions import must_use_second_factor, utcnow

USERNAME = re.compile(r"^[a-z][a-z0-9._-]{2,63}$")

_hasher = PasswordHasher()  # argon2id, the library's current recommended parameters
_DUMMY_HASH = _hasher.hash("nidb-dummy-password-for-timing")


class StaffUserError(ValueError):
    """Bad input for a staff account: which field, why (Vietnamese first)."""

    def __init__(self, field: str, message_vi: str, message_en: str) -> None:
        super().__init__(f"{field}: {message_vi} ({message_en})")
        self.field = field
        self.message_vi = message_vi
        self.message_en = message_en


def check_password(username: str, password: str) -> None:
    """Raise StaffUserError if ``password`` breaks the policy."""
    problems = password_problems(username, password)
    if problems:
        raise StaffUserError(
            "password", " ".join(vi for vi, _ in problems), "; ".join(en for _, en in problems)
        )


def _check_scope(scope_level: str, province_code: str | None, district_code: str | None) -> None:
    if scope_level not in SCOPE_LEVELS:
        raise StaffUserError(
            "scope", f"Cấp phạm vi không hợp lệ: {scope_level}.", f"unknown scope {scope_level}"
        )
    if scope_level in ("province", "district"):
        if not province_code:
            raise StaffUserError(
                "province", "Cần mã tỉnh cho phạm vi tỉnh/huyện.", "province code required"
            )
        try:
            province(province_code, field="province")
        except DomainError as error:
            raise StaffUserError("province", error.message_vi, error.message_en) from None
    if scope_level == "district" and not (
        district_code and re.fullmatch(r"\d{3,5}", district_code)
    ):
        raise StaffUserError(
            "district",
            "Cần mã huyện (3–5 chữ số) cho phạm vi huyện.",
            "district code (3-5 digits) required",
        )


def create_staff_user(
    engine: Engine,
    *,
    username: str,
    full_name: str,
    password: str,
    role: str,
    scope_level: str = "central",
    province_code: str | None = None,
    district_code: str | None = None,
    actor: str,
) -> int:
    """Create an account (audited); raise StaffUserError on any bad field."""
    username = username.strip().lower()
    if not USERNAME.fullmatch(username):
        raise StaffUserError(
            "username",
            "Tên đăng nhập gồm 3–64 ký tự a-z, 0-9, dấu chấm, gạch ngang, gạch dưới, bắt đầu bằng chữ.",
            "3-64 of a-z 0-9 . _ -, starting with a letter",
        )
    if not full_name.strip():
        raise StaffUserError("full_name", "Cần họ và tên.", "full name required")
    if role not in STAFF_ROLES:
        raise StaffUserError(
            "role",
            f"Vai trò không hợp lệ: {role} (chọn {', '.join(STAFF_ROLES)}).",
            f"unknown role {role}",
        )
    _check_scope(scope_level, province_code, district_code)
    check_password(username, password)
    now = utcnow()
    with engine.begin() as conn:
        if conn.execute(select(StaffUser.id).where(StaffUser.username == username)).first():
            raise StaffUserError(
                "username", f"Tên đăng nhập {username} đã tồn tại.", f"{username} exists"
            )
        new_id = conn.execute(
            insert(StaffUser).values(
                username=username,
                full_name=full_name.strip(),
                password_hash=_hasher.hash(password),
                role=role,
                scope_level=scope_level,
                province_code=province_code if scope_level != "central" else None,
                district_code=district_code if scope_level == "district" else None,
                active=True,
                failed_attempts=0,
                password_changed_at=now,
            )
        ).inserted_primary_key
        assert new_id is not None
        write_audit(
            conn,
            actor=actor,
            action="staff_user.create",
            subject_type="staff_user",
            subject_id=username,
            purpose=None,
            detail={"role": role, "scope": scope_level, "province": province_code},
        )
    return int(new_id[0])


class SignInOutcome(StrEnum):
    """Why a sign-in succeeded or not (the page shows one generic message for all failures)."""

    OK = "ok"
    CODE_NEEDED = "code_needed"
    """The password is right; the second factor's code comes next."""
    WRONG = "wrong_credentials"
    LOCKED = "locked"
    DISABLED = "disabled"


@dataclass(frozen=True)
class SignInResult:
    """The outcome, and the user when it is OK; ``must_enrol`` when an admin or approver
    without a second factor must set one up before any console page."""

    outcome: SignInOutcome
    username: str
    locked_minutes: int = 0
    must_enrol: bool = False


def authenticate(engine: Engine, username: str, password: str, client: str) -> SignInResult:
    """Check a sign-in attempt, apply the lockout rule and audit it, in one transaction."""
    username = username.strip().lower()[:64]
    now = utcnow()
    with engine.begin() as conn:
        user = conn.execute(
            select(StaffUser).where(StaffUser.username == username).with_for_update()
        ).one_or_none()
        outcome: SignInOutcome
        locked_minutes = 0
        must_enrol = False
        if user is None:
            _verify(_DUMMY_HASH, password)
            outcome = SignInOutcome.WRONG
        elif not user.active:
            _verify(_DUMMY_HASH, password)
            outcome = SignInOutcome.DISABLED
        elif minutes_left(user.locked_until, now):
            _verify(_DUMMY_HASH, password)
            outcome = SignInOutcome.LOCKED
            locked_minutes = minutes_left(user.locked_until, now)
        elif _verify(user.password_hash, password):
            values: dict[str, object] = {}
            if user.totp_enrolled_at is not None:
                # failures are cleared by the right code, not by the password alone: else a
                # thief of the password could try codes for ever, 4 at a time
                outcome = SignInOutcome.CODE_NEEDED
            else:
                outcome = SignInOutcome.OK
                must_enrol = must_use_second_factor(user.role)
                values = {"failed_attempts": 0, "locked_until": None, "last_sign_in_at": now}
            if _hasher.check_needs_rehash(user.password_hash):
                values["password_hash"] = _hasher.hash(password)
            if values:
                conn.execute(update(StaffUser).where(StaffUser.id == user.id).values(**values))
        else:
            failures = after_failure(user.failed_attempts, now)
            outcome = SignInOutcome.LOCKED if failures.locked else SignInOutcome.WRONG
            locked_minutes = minutes_left(failures.locked_until, now)
            conn.execute(
                update(StaffUser).where(StaffUser.id == user.id).values(**failures.values())
            )
        if outcome is SignInOutcome.CODE_NEEDED or must_enrol:
            action = "staff.sign_in_password"  # the second step is still to come
        elif outcome is SignInOutcome.OK:
            action = "staff.sign_in"
        else:
            action = "staff.sign_in_failed"
        write_audit(
            conn,
            actor=f"staff:{username}" if user is not None else "anonymous",
            action=action,
            subject_type="staff_user",
            subject_id=username,
            purpose=None,
            detail={"outcome": outcome.value, "client": client[:100]},
        )
    return SignInResult(outcome, username, locked_minutes, must_enrol)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def set_password(engine: Engine, username: str, password: str, *, actor: str) -> None:
    """Replace a user's password (policy-checked), clear any lockout, and audit it."""
    username = username.strip().lower()
    check_password(username, password)
    with engine.begin() as conn:
        done = conn.execute(
            update(StaffUser)
            .where(StaffUser.username == username)
            .values(
                password_hash=_hasher.hash(password),
                password_changed_at=utcnow(),
                failed_attempts=0,
                locked_until=None,
            )
        )
        if not done.rowcount:
            raise StaffUserError(
                "username", f"Không có tài khoản {username}.", f"no user {username}"
            )
        write_audit(
            conn, actor=actor, action="staff_user.set_password", subject_type="staff_user",
            subject_id=username, purpose=None, detail={},
        )  # fmt: skip


def set_active(engine: Engine, username: str, active: bool, *, actor: str) -> None:
    """Disable (or re-enable) an account; a disabled user's sessions stop at their next request."""
    username = username.strip().lower()
    with engine.begin() as conn:
        done = conn.execute(
            update(StaffUser)
            .where(StaffUser.username == username)
            .values(active=active, failed_attempts=0, locked_until=None)
        )
        if not done.rowcount:
            raise StaffUserError(
                "username", f"Không có tài khoản {username}.", f"no user {username}"
            )
        write_audit(
            conn, actor=actor, action="staff_user.enable" if active else "staff_user.disable",
            subject_type="staff_user", subject_id=username, purpose=None, detail={},
        )  # fmt: skip


def list_staff_users(engine: Engine) -> list[StaffUser]:
    """Every account, by username."""
    with engine.connect() as conn:
        return list(conn.execute(select(StaffUser).order_by(StaffUser.username)).all())  # type: ignore[arg-type]
