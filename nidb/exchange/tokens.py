"""Bearer tokens for staff and tools using the HTTP API; only their SHA-256 is stored."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, insert, select, update

from nidb.exchange.catalogue import ROLES
from nidb.store import models
from nidb.store.audit import write_audit

PREFIX = "nidb_"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling the staff API."""

    token_id: int
    name: str
    role: str

    @property
    def actor(self) -> str:
        return f"staff:{self.name}"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(engine: Engine, name: str, role: str, days: int | None = 90) -> str:
    """Issue a token for ``name`` in ``role``; the plain token is returned once, never stored."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r} (known: {', '.join(ROLES)})")
    if not name.strip() or len(name) > 100:
        raise ValueError("name must be 1 to 100 characters")
    token = PREFIX + secrets.token_urlsafe(32)
    expires = datetime.now(UTC) + timedelta(days=days) if days else None
    with engine.begin() as conn:
        conn.execute(
            insert(models.ApiToken).values(
                name=name.strip(), role=role, token_hash=_digest(token), expires_at=expires
            )
        )
        write_audit(
            conn,
            actor="cli",
            action="token.create",
            subject_type="api_token",
            subject_id=name.strip(),
            purpose="QUANTRI",
            detail={"role": role, "days": days},
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
    return Principal(row.id, row.name, row.role)


def revoke_tokens(engine: Engine, name: str) -> int:
    """Revoke every live token of ``name``; returns how many."""
    with engine.begin() as conn:
        result = conn.execute(
            update(models.ApiToken)
            .where(models.ApiToken.name == name, models.ApiToken.revoked_at.is_(None))
            .values(revoked_at=datetime.now(UTC))
        )
    return int(result.rowcount or 0)
