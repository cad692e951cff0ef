"""Bearer tokens for staff and tools using the HTTP API; only their SHA-256 is stored."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, insert, select, update

from nidb.domain.errors import DomainError
from nidb.domain.provinces import province
from nidb.domain.staff import StaffRole
from nidb.store import models
from nidb.store.audit import write_audit

ROLES = tuple(role.value for role in StaffRole)
"""The roles a token may carry: the staff roles (``nidb.domain.staff``, which also says what
each may do); the staff console adds provinces and sessions on top."""

PREFIX = "nidb_"
SCOPE_LEVELS = ("central", "province", "district")
"""The areas a token may cover, as a staff account's (``nidb.web.console.scope`` applies them)."""


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling the staff API."""

    token_id: int
    name: str
    role: str
    scope_level: str = "province"
    province_code: str | None = None
    district_code: str | None = None
    """The area the holder covers (central: all; else the province, and district if any)."""

    @property
    def actor(self) -> str:
        return f"staff:{self.name}"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _check_area(scope_level: str, province_code: str | None, district_code: str | None) -> None:
    if scope_level not in SCOPE_LEVELS:
        raise ValueError(f"unknown area level {scope_level!r} (known: {', '.join(SCOPE_LEVELS)})")
    if scope_level == "central":
        if province_code or district_code:
            raise ValueError("a central token covers every province: give no province or district")
        return
    if not province_code:
        raise ValueError(f"a {scope_level} token needs a province code")
    try:
        province(province_code, field="province")
    except DomainError as error:
        raise ValueError(error.message_en) from None
    if scope_level == "district":
        if not (district_code and district_code.isdigit() and 3 <= len(district_code) <= 5):
            raise ValueError("a district token needs a district code of 3 to 5 digits")
    elif district_code:
        raise ValueError("a province token takes no district code")


def create_token(
    engine: Engine,
    name: str,
    role: str,
    days: int | None = 90,
    *,
    scope_level: str,
    province_code: str | None = None,
    district_code: str | None = None,
) -> str:
    """Issue a token for ``name`` in ``role`` covering an area (as a staff account does); the
    plain token is returned once, never stored."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r} (known: {', '.join(ROLES)})")
    if not name.strip() or len(name) > 100:
        raise ValueError("name must be 1 to 100 characters")
    _check_area(scope_level, province_code, district_code)
    token = PREFIX + secrets.token_urlsafe(32)
    expires = datetime.now(UTC) + timedelta(days=days) if days else None
    with engine.begin() as conn:
        conn.execute(
            insert(models.ApiToken).values(
                name=name.strip(),
                role=role,
                token_hash=_digest(token),
                expires_at=expires,
                scope_level=scope_level,
                province_code=province_code,
                district_code=district_code,
            )
        )
        write_audit(
            conn,
            actor="cli",
            action="token.create",
            subject_type="api_token",
            subject_id=name.strip(),
            purpose="QUANTRI",
            detail={
                "role": role,
                "days": days,
                "scope_level": scope_level,
                "province_code": province_code,
                "district_code": district_code,
            },
        )
    return token


def authenticate(engine: Engine, token: str) -> Principal | None:
    """The principal holding ``token`` if it is known, not revoked and not expired."""
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    with engine.connect() as conn:
        row = conn.execute(
            select(models.ApiToken.__table__).where(models.ApiToken.token_hash == _digest(token))
        ).first()
    if row is None or row.revoked_at is not None:
        return None
    if row.expires_at is not None:
        expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=UTC)
        if expires <= datetime.now(UTC):
            return None
    return Principal(
        row.id, row.name, row.role, row.scope_level, row.province_code, row.district_code
    )


def revoke_tokens(engine: Engine, name: str) -> int:
    """Revoke every live token of ``name``; returns how many."""
    with engine.begin() as conn:
        result = conn.execute(
            update(models.ApiToken)
            .where(models.ApiToken.name == name, models.ApiToken.revoked_at.is_(None))
            .values(revoked_at=datetime.now(UTC))
        )
    return int(result.rowcount or 0)
