"""Partners, their keys and their grants (`nidb partner ...`), and the in-memory directory.

Changes are written with an audit entry in the same transaction. The HTTP gate reads a snapshot
of this table set (the Directory) and refreshes it every few seconds, so a revocation takes
effect within ``Directory.ttl`` seconds on every worker.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import Connection, Engine, insert, select, update

from nidb.exchange.catalogue import PARTNER_KINDS, PURPOSES, SERVICES, parse_groups
from nidb.protocol.envelope import MEMBER_ID
from nidb.protocol.keys import VerifyKey
from nidb.store import models
from nidb.store.audit import write_audit


class PartnerError(ValueError):
    """A partner or grant command that cannot be carried out, with a Vietnamese message."""

    def __init__(self, field: str, message_vi: str, message_en: str) -> None:
        self.field, self.message_vi, self.message_en = field, message_vi, message_en
        super().__init__(f"{field}: {message_en}")


@dataclass(frozen=True, slots=True)
class GrantInfo:
    id: int
    service: str
    purpose: str
    groups: tuple[str, ...]
    legal_basis: str
    valid_from: date
    valid_to: date | None
    revoked: bool

    def in_force(self, on: date) -> bool:
        return (
            not self.revoked
            and self.valid_from <= on
            and (self.valid_to is None or on <= self.valid_to)
        )


@dataclass(slots=True)
class PartnerInfo:
    code: str
    name: str
    kind: str
    rate_limit: int
    webhook_url: str | None
    suspended: bool
    keys: dict[str, VerifyKey] = field(default_factory=dict)
    grants: list[GrantInfo] = field(default_factory=list)

    def grant_for(self, service: str, purpose: str, on: date) -> GrantInfo | None:
        """The grant in force for this service and purpose, if any (widest groups first)."""
        usable = [g for g in self.grants if g.service == service and g.purpose == purpose]
        usable = [g for g in usable if g.in_force(on)]
        return max(usable, key=lambda g: len(g.groups), default=None)


def _audit(
    conn: Connection, actor: str, action: str, subject: str, detail: dict[str, object]
) -> None:
    write_audit(
        conn,
        actor=actor,
        action=action,
        subject_type="partner",
        subject_id=subject,
        purpose="QUANTRI",
        detail=detail,
    )


def _verify_key(public_key: str) -> VerifyKey:
    try:
        return VerifyKey.from_b64(public_key)
    except ValueError:
        raise PartnerError(
            "public_key",
            "Khóa công khai phải là 32 byte Ed25519 mã hóa base64url",
            "public key must be 32 Ed25519 bytes in base64url",
        ) from None


def add_partner(
    engine: Engine,
    code: str,
    name: str,
    kind: str,
    public_key: str,
    actor: str,
    rate_limit: int = 100,
    webhook_url: str | None = None,
) -> PartnerInfo:
    """Register a partner system with its Ed25519 public key (base64url, 32 bytes)."""
    if not MEMBER_ID.fullmatch(code):
        raise PartnerError(
            "code",
            "Mã hệ thống phải có dạng QG/LOẠI/THÀNH-VIÊN/HỆ-THỐNG, ví dụ VN/GOV/BYT/BV-01001",
            "code must look like VN/GOV/BYT/BV-01001 (country/class/member/subsystem)",
        )
    if kind not in PARTNER_KINDS:
        raise PartnerError(
            "kind",
            f"Loại đối tác không hợp lệ: {kind}",
            f"unknown kind (known: {', '.join(PARTNER_KINDS)})",
        )
    if not 1 <= rate_limit <= 100_000:
        raise PartnerError(
            "rate_limit",
            "Giới hạn phải từ 1 đến 100000 yêu cầu/giây",
            "rate limit must be 1..100000",
        )
    key = _verify_key(public_key)
    with engine.begin() as conn:
        if conn.execute(select(models.Partner.code).where(models.Partner.code == code)).first():
            raise PartnerError(
                "code", f"Đối tác {code} đã tồn tại", f"partner {code} already exists"
            )
        conn.execute(
            insert(models.Partner).values(
                code=code, name=name, kind=kind, rate_limit=rate_limit, webhook_url=webhook_url
            )
        )
        conn.execute(
            insert(models.PartnerKey).values(kid=key.kid, partner_code=code, public_key=public_key)
        )
        _audit(
            conn,
            actor,
            "partner.add",
            code,
            {"kind": kind, "kid": key.kid, "rate_limit": rate_limit},
        )
    return PartnerInfo(code, name, kind, rate_limit, webhook_url, False, {key.kid: key})


def add_key(engine: Engine, code: str, public_key: str, actor: str) -> str:
    """Register another public key of a partner (key rotation); returns its kid."""
    key = _verify_key(public_key)
    with engine.begin() as conn:
        if not conn.execute(select(models.Partner.code).where(models.Partner.code == code)).first():
            raise PartnerError("partner", f"Không có đối tác {code}", f"no partner {code}")
        known = conn.execute(
            select(models.PartnerKey.partner_code, models.PartnerKey.revoked_at).where(
                models.PartnerKey.kid == key.kid
            )
        ).first()
        if known is not None and known.partner_code != code:
            raise PartnerError(
                "public_key",
                "Khóa này đã được đăng ký cho một đối tác khác",
                "this key is registered to another partner",
            )
        if known is not None and known.revoked_at is not None:
            raise PartnerError(
                "public_key",
                "Khóa này đã bị bỏ; hãy tạo khóa mới",
                "this key was retired; generate a new one",
            )
        if known is not None:
            return key.kid
        conn.execute(
            insert(models.PartnerKey).values(kid=key.kid, partner_code=code, public_key=public_key)
        )
        _audit(conn, actor, "partner.add_key", code, {"kid": key.kid})
    return key.kid


def retire_key(engine: Engine, code: str, kid: str, actor: str, reason: str) -> None:
    """Stop accepting one key of a partner (the end of a key rotation); the row stays, for the
    record. Refuses to retire the partner's last live key: it would cut the partner off without
    a word (suspend or revoke its grants for that)."""
    with engine.begin() as conn:
        # lock the partner's keys, so that two retirements at once cannot leave none live
        live = (
            conn.execute(
                select(models.PartnerKey.kid)
                .where(
                    models.PartnerKey.partner_code == code,
                    models.PartnerKey.revoked_at.is_(None),
                )
                .with_for_update()
            )
            .scalars()
            .all()
        )
        if (
            not live
            and not conn.execute(
                select(models.Partner.code).where(models.Partner.code == code)
            ).first()
        ):
            raise PartnerError("partner", f"Không có đối tác {code}", f"no partner {code}")
        if kid not in live:
            raise PartnerError(
                "kid",
                f"Đối tác {code} không có khóa đang dùng {kid}",
                f"partner {code} has no live key {kid}",
            )
        if len(live) == 1:
            raise PartnerError(
                "kid",
                f"Không thể bỏ khóa cuối cùng của {code}: hãy thêm khóa mới trước "
                "(nidb partner key add)",
                f"cannot retire the last live key of {code}: add the new key first",
            )
        conn.execute(
            update(models.PartnerKey)
            .where(models.PartnerKey.kid == kid, models.PartnerKey.partner_code == code)
            .values(revoked_at=datetime.now(UTC))
        )
        _audit(conn, actor, "partner.retire_key", code, {"kid": kid, "reason": reason})


def ensure_partner(
    engine: Engine,
    code: str,
    name: str,
    kind: str,
    public_key: str,
    actor: str,
    rate_limit: int = 100,
) -> bool:
    """Register the partner, or add ``public_key`` to it if it exists; True if it was created."""
    with engine.connect() as conn:
        exists = conn.execute(
            select(models.Partner.code).where(models.Partner.code == code)
        ).first()
    if exists:
        add_key(engine, code, public_key, actor)
        return False
    add_partner(engine, code, name, kind, public_key, actor, rate_limit)
    return True


def add_grant(
    engine: Engine,
    partner_code: str,
    service: str,
    purpose: str,
    groups: str,
    legal_basis: str,
    actor: str,
    valid_from: date | None = None,
    valid_to: date | None = None,
) -> int:
    """Grant a partner a service for a purpose over information groups; returns the grant id."""
    if service not in SERVICES:
        raise PartnerError(
            "service",
            f"Không có dịch vụ {service}",
            f"unknown service (known: {', '.join(SERVICES)})",
        )
    if SERVICES[service].bulk:
        raise PartnerError(
            "service",
            f"{service} không cấp quyền riêng: quyền của dịch vụ được trích xuất sẽ áp dụng",
            f"{service} has no grant of its own: the grant of the extracted service applies",
        )
    if purpose not in PURPOSES:
        raise PartnerError(
            "purpose",
            f"Mục đích không hợp lệ: {purpose}",
            f"unknown purpose (known: {', '.join(PURPOSES)})",
        )
    try:
        group_codes = parse_groups(groups)
    except ValueError as error:
        raise PartnerError("groups", "Nhóm thông tin không hợp lệ", str(error)) from None
    if not legal_basis.strip():
        raise PartnerError("legal_basis", "Phải nêu căn cứ pháp lý", "a legal basis is required")
    start = valid_from or datetime.now(UTC).date()
    if valid_to is not None and valid_to < start:
        raise PartnerError(
            "valid_to", "Ngày hết hiệu lực trước ngày bắt đầu", "valid_to is before valid_from"
        )
    with engine.begin() as conn:
        if not conn.execute(
            select(models.Partner.code).where(models.Partner.code == partner_code)
        ).first():
            raise PartnerError(
                "partner", f"Không có đối tác {partner_code}", f"no partner {partner_code}"
            )
        grant_id = conn.execute(
            insert(models.Grant)
            .values(
                partner_code=partner_code,
                service=service,
                purpose=purpose,
                info_groups=",".join(group_codes),
                legal_basis=legal_basis.strip(),
                valid_from=start,
                valid_to=valid_to,
                granted_by=actor,
            )
            .returning(models.Grant.id)
        ).scalar_one()
        _audit(
            conn,
            actor,
            "grant.add",
            partner_code,
            {
                "grant": grant_id,
                "service": service,
                "purpose": purpose,
                "groups": list(group_codes),
            },
        )
    return int(grant_id)


def revoke_grant(engine: Engine, grant_id: int, actor: str, reason: str) -> None:
    """Revoke a grant from now on (the row stays, for the record)."""
    with engine.begin() as conn:
        row = conn.execute(
            select(models.Grant.partner_code, models.Grant.revoked_at).where(
                models.Grant.id == grant_id
            )
        ).first()
        if row is None:
            raise PartnerError("grant", f"Không có quyền số {grant_id}", f"no grant {grant_id}")
        if row.revoked_at is not None:
            raise PartnerError(
                "grant",
                f"Quyền số {grant_id} đã bị thu hồi",
                f"grant {grant_id} is already revoked",
            )
        conn.execute(
            update(models.Grant)
            .where(models.Grant.id == grant_id)
            .values(revoked_at=datetime.now(UTC), revoked_by=actor)
        )
        _audit(conn, actor, "grant.revoke", row.partner_code, {"grant": grant_id, "reason": reason})


def load_partners(conn: Connection) -> dict[str, PartnerInfo]:
    """Every partner with its live keys and all its grants."""
    partners = {
        row.code: PartnerInfo(
            row.code,
            row.name,
            row.kind,
            row.rate_limit,
            row.webhook_url,
            row.suspended_at is not None,
        )
        for row in conn.execute(select(models.Partner))
    }
    for key_row in conn.execute(
        select(models.PartnerKey).where(models.PartnerKey.revoked_at.is_(None))
    ):
        if key_row.partner_code in partners:
            key = VerifyKey.from_b64(key_row.public_key)
            partners[key_row.partner_code].keys[key.kid] = key
    for grant_row in conn.execute(select(models.Grant).order_by(models.Grant.id)):
        if grant_row.partner_code in partners:
            partners[grant_row.partner_code].grants.append(
                GrantInfo(
                    grant_row.id,
                    grant_row.service,
                    grant_row.purpose,
                    tuple(grant_row.info_groups.split(",")),
                    grant_row.legal_basis,
                    grant_row.valid_from,
                    grant_row.valid_to,
                    grant_row.revoked_at is not None,
                )
            )
    return partners


class Directory:
    """A snapshot of the partners table, reloaded when older than ``ttl`` seconds."""

    def __init__(self, engine: Engine, ttl: float = 5.0) -> None:
        self.engine, self.ttl = engine, ttl
        self._partners: dict[str, PartnerInfo] = {}
        self._loaded = -float("inf")
        self._lock = threading.Lock()

    def refresh(self) -> None:
        with self.engine.connect() as conn:
            partners = load_partners(conn)
        self._partners, self._loaded = partners, time.monotonic()

    def get(self, code: str) -> PartnerInfo | None:
        if time.monotonic() - self._loaded > self.ttl:
            with self._lock:
                if time.monotonic() - self._loaded > self.ttl:
                    self.refresh()
        return self._partners.get(code)
