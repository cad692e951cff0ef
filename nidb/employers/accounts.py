"""Employer accounts (tài khoản giao dịch điện tử của đơn vị) and their Ed25519 keys.

Staff enrol an employer the register already knows (from the business-registry feed or an
import) with its first public key; keys are added and revoked with history (a revoked key stays,
with who revoked it, when and why). Every change is audited and announced on the outbox in the
caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from nidb.domain.credentials import minutes_left
from nidb.employers.errors import EmployerError
from nidb.protocol.keys import VerifyKey, b64url
from nidb.store import models
from nidb.store.audit import write_audit, write_event
from nidb.store.models_employers import EmployerAccount, EmployerKey

__all__ = [
    "AccountView",
    "RegisterEntry",
    "add_key",
    "enrol",
    "find_employers",
    "get_account",
    "list_accounts",
    "register_entry",
    "revoke_key",
    "set_password",
    "unlock",
]


@dataclass(frozen=True, slots=True)
class AccountView:
    """An enrolled employer with its keys (newest first)."""

    employer_code: str
    name: str
    province: str
    status: str
    enrolled_at: datetime
    keys: tuple[dict[str, Any], ...]

    @property
    def active_keys(self) -> dict[str, VerifyKey]:
        return {
            k["kid"]: VerifyKey.from_b64(k["public_key"]) for k in self.keys if not k["revoked_at"]
        }


def _read_key(public_key: str) -> VerifyKey:
    try:
        return VerifyKey.from_b64(public_key.strip())
    except ValueError:
        raise EmployerError(
            "public_key",
            public_key,
            "PUBLIC_KEY_FORMAT",
            "khoá công khai phải là 32 byte Ed25519 mã hoá base64url",
            "public key must be 32 Ed25519 bytes in base64url",
        ) from None


def _audit(conn: Connection, actor: str, action: str, code: str, detail: dict[str, Any]) -> None:
    write_audit(
        conn,
        actor=actor,
        action=action,
        subject_type="employer",
        subject_id=code,
        purpose=None,
        detail=detail,
    )
    write_event(conn, action, code, {"employer_code": code, **detail})


def enrol(
    conn: Connection,
    employer_code: str,
    public_key: str,
    actor: str,
    password_hash: str | None = None,
) -> str:
    """Enrol a known employer with its first key; returns the key's ``kid``."""
    employer = conn.execute(
        select(models.Employer.status).where(models.Employer.employer_code == employer_code)
    ).first()
    if employer is None:
        raise EmployerError(
            "employer_code",
            employer_code,
            "EMPLOYER_UNKNOWN",
            "đơn vị chưa có trong cơ sở dữ liệu (từ cơ quan đăng ký kinh doanh hoặc tệp nhập)",
            "the employer is not in the register (business-registry feed or import)",
        )
    if employer.status != "active":
        raise EmployerError(
            "employer_code",
            employer_code,
            "EMPLOYER_CLOSED",
            "đơn vị đã đóng, không thể đăng ký giao dịch",
            "the employer is closed and cannot enrol",
        )
    if conn.execute(
        select(EmployerAccount.employer_code).where(EmployerAccount.employer_code == employer_code)
    ).first():
        raise EmployerError(
            "employer_code",
            employer_code,
            "EMPLOYER_ENROLLED",
            "đơn vị đã đăng ký giao dịch điện tử",
            "the employer is already enrolled",
        )
    key = _read_key(public_key)
    conn.execute(
        insert(EmployerAccount).values(
            employer_code=employer_code,
            status="active",
            enrolled_by=actor,
            password_hash=password_hash,
        )
    )
    _insert_key(conn, employer_code, key, actor)
    _audit(conn, actor, "employer.enrolled", employer_code, {"kid": key.kid})
    return key.kid


def _insert_key(conn: Connection, employer_code: str, key: VerifyKey, actor: str) -> None:
    if conn.execute(select(EmployerKey.kid).where(EmployerKey.kid == key.kid)).first():
        raise EmployerError(
            "public_key",
            key.kid,
            "PUBLIC_KEY_REUSED",
            "khoá này đã được đăng ký trước đây (khoá đã dùng không được đăng ký lại)",
            "this key was registered before (a key is never registered twice)",
        )
    conn.execute(
        insert(EmployerKey).values(
            kid=key.kid,
            employer_code=employer_code,
            public_key=b64url(key.raw),
            added_by=actor,
        )
    )


def _require_account(conn: Connection, employer_code: str) -> None:
    if not conn.execute(
        select(EmployerAccount.employer_code).where(EmployerAccount.employer_code == employer_code)
    ).first():
        raise EmployerError(
            "employer_code",
            employer_code,
            "EMPLOYER_NOT_ENROLLED",
            "đơn vị chưa đăng ký giao dịch điện tử",
            "the employer is not enrolled",
        )


def add_key(conn: Connection, employer_code: str, public_key: str, actor: str) -> str:
    """Register another key of an enrolled employer (e.g. a renewed certificate)."""
    _require_account(conn, employer_code)
    key = _read_key(public_key)
    _insert_key(conn, employer_code, key, actor)
    _audit(conn, actor, "employer.key_added", employer_code, {"kid": key.kid})
    return key.kid


def revoke_key(conn: Connection, employer_code: str, kid: str, actor: str, reason: str) -> None:
    """Revoke one key: submissions signed with it are refused from now on; history stays."""
    _require_account(conn, employer_code)
    done = conn.execute(
        update(EmployerKey)
        .where(
            EmployerKey.kid == kid,
            EmployerKey.employer_code == employer_code,
            EmployerKey.revoked_at.is_(None),
        )
        .values(revoked_at=datetime.now(UTC), revoked_by=actor, revoke_reason=reason)
    )
    if done.rowcount != 1:
        raise EmployerError(
            "kid",
            kid,
            "KEY_NOT_ACTIVE",
            "đơn vị không có khoá đang hiệu lực với mã này",
            "the employer has no active key with this id",
        )
    _audit(conn, actor, "employer.key_revoked", employer_code, {"kid": kid, "reason": reason})


def set_password(
    conn: Connection,
    employer_code: str,
    password_hash: str,
    actor: str,
    *,
    must_change: bool = False,
) -> None:
    """Set the password of the employer's web pages (an argon2id hash) and clear any lockout;
    ``must_change``: a password issued by staff, to be changed at the next sign-in. Audited;
    the hash is neither logged nor announced."""
    _require_account(conn, employer_code)
    conn.execute(
        update(EmployerAccount)
        .where(EmployerAccount.employer_code == employer_code)
        .values(
            password_hash=password_hash,
            failed_attempts=0,
            locked_until=None,
            password_must_change=must_change,
        )
    )
    _audit(conn, actor, "employer.password_set", employer_code, {"must_change": must_change})


def unlock(conn: Connection, employer_code: str, actor: str) -> bool:
    """Clear the sign-in lockout of an enrolled employer (audited ``employer.unlocked``);
    returns whether it was locked."""
    _require_account(conn, employer_code)
    locked_until = conn.execute(
        select(EmployerAccount.locked_until)
        .where(EmployerAccount.employer_code == employer_code)
        .with_for_update()
    ).scalar_one()
    was_locked = minutes_left(locked_until, datetime.now(UTC)) > 0
    conn.execute(
        update(EmployerAccount)
        .where(EmployerAccount.employer_code == employer_code)
        .values(failed_attempts=0, locked_until=None)
    )
    write_audit(
        conn,
        actor=actor,
        action="employer.unlocked",
        subject_type="employer",
        subject_id=employer_code,
        purpose=None,
        detail={"was_locked": was_locked},
    )
    return was_locked


def get_account(conn: Connection, employer_code: str) -> AccountView | None:
    """The enrolled employer with its keys, or None."""
    row = conn.execute(
        select(
            EmployerAccount.employer_code,
            EmployerAccount.status,
            EmployerAccount.enrolled_at,
            models.Employer.name,
            models.Employer.province,
        )
        .join(models.Employer, models.Employer.employer_code == EmployerAccount.employer_code)
        .where(EmployerAccount.employer_code == employer_code)
    ).first()
    if row is None:
        return None
    keys = conn.execute(
        select(EmployerKey.__table__)
        .where(EmployerKey.employer_code == employer_code)
        .order_by(EmployerKey.added_at.desc(), EmployerKey.kid)
    ).mappings()
    return AccountView(
        row.employer_code,
        row.name,
        row.province,
        row.status,
        row.enrolled_at,
        tuple(dict(k) for k in keys),
    )


def list_accounts(conn: Connection) -> list[dict[str, Any]]:
    """Every enrolled employer with its number of active keys."""
    active = (
        select(EmployerKey.employer_code, func.count().label("keys"))
        .where(EmployerKey.revoked_at.is_(None))
        .group_by(EmployerKey.employer_code)
        .subquery()
    )
    rows = conn.execute(
        select(
            EmployerAccount.employer_code,
            models.Employer.name,
            models.Employer.province,
            EmployerAccount.status,
            EmployerAccount.enrolled_at,
            func.coalesce(active.c["keys"], 0).label("active_keys"),
        )
        .join(models.Employer, models.Employer.employer_code == EmployerAccount.employer_code)
        .outerjoin(active, active.c.employer_code == EmployerAccount.employer_code)
        .order_by(EmployerAccount.employer_code)
    ).mappings()
    return [dict(r) for r in rows]


@dataclass(frozen=True, slots=True)
class RegisterEntry:
    """An employer of the register as staff enrol it: the register's facts, and its account's
    state when it is enrolled (``account_status`` None: not enrolled)."""

    employer_code: str
    enterprise_code: str | None
    name: str
    province: str
    employer_type: str
    status: str
    address: str | None
    account_status: str | None = None
    enrolled_at: datetime | None = None
    enrolled_by: str | None = None
    has_password: bool = False
    failed_attempts: int = 0
    locked_until: datetime | None = None
    last_sign_in_at: datetime | None = None
    password_must_change: bool = False

    @property
    def enrolled(self) -> bool:
        return self.account_status is not None


def _entries(conn: Connection, *conditions: Any, limit: int = 20) -> list[RegisterEntry]:
    rows = conn.execute(
        select(
            models.Employer.employer_code,
            models.Employer.enterprise_code,
            models.Employer.name,
            models.Employer.province,
            models.Employer.employer_type,
            models.Employer.status,
            models.Employer.address,
            EmployerAccount.status.label("account_status"),
            EmployerAccount.enrolled_at,
            EmployerAccount.enrolled_by,
            EmployerAccount.password_hash.is_not(None).label("has_password"),
            func.coalesce(EmployerAccount.failed_attempts, 0).label("failed_attempts"),
            EmployerAccount.locked_until,
            EmployerAccount.last_sign_in_at,
            func.coalesce(EmployerAccount.password_must_change, False).label(
                "password_must_change"
            ),
        )
        .outerjoin(EmployerAccount, EmployerAccount.employer_code == models.Employer.employer_code)
        .where(*conditions)
        .order_by(models.Employer.employer_code)
        .limit(limit)
    ).mappings()
    return [
        RegisterEntry(
            **{
                **row,
                "has_password": bool(row["has_password"]),
                "password_must_change": bool(row["password_must_change"]),
            }
        )
        for row in rows
    ]


def register_entry(conn: Connection, employer_code: str) -> RegisterEntry | None:
    """The employer ``employer_code`` of the register with its account's state, or None."""
    found = _entries(conn, models.Employer.employer_code == employer_code, limit=1)
    return found[0] if found else None


def find_employers(conn: Connection, text: str, limit: int = 20) -> list[RegisterEntry]:
    """Employers of the register whose unit code or tax code (mã số thuế, the enterprise code
    of the business registry) is ``text``, spaces and case aside."""
    wanted = "".join(text.split())[:20]
    if not wanted:
        return []
    return _entries(
        conn,
        (models.Employer.employer_code == wanted.upper())
        | (models.Employer.enterprise_code == wanted),
        limit=limit,
    )
