"""The gate every employer submission passes: the partner protocol's envelope, keys and refusal
codes (``nidb.protocol``), with employers' keys and a replay check kept in the database.

An employer signs as the member ``VN/DN/<employer_code>/KBDT`` to the receiver
``VN/GOV/BHXH/CSDLBH``, for a service of ``nidb.protocol.employers`` and the purpose ``KBDT``
(kê khai điện tử). Order of checks: shape (E_MALFORMED, E_UNSIGNED) → receiver
(E_WRONG_RECEIVER) → service (E_WRONG_SERVICE) → sender is an enrolled employer
(E_UNKNOWN_SENDER) → the signature's ``kid`` is one of its active keys and the signature
verifies (E_BAD_SIGNATURE) → account not suspended (E_SENDER_SUSPENDED) → clock window
(E_STALE, E_FUTURE) → the ``message_id`` was never admitted (E_REPLAY: a row of
``employer_messages``, written in the caller's transaction, so the check holds across processes
and a refused-then-rolled-back message is not burnt).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, and_, bindparam, select, text

from nidb.protocol.employers import (
    DECLARATION_SERVICE,
    EMPLOYER_MEMBER,
    EMPLOYER_PURPOSE,
    employer_member,
)
from nidb.protocol.envelope import (
    NIDB_MEMBER,
    ClockWindow,
    Envelope,
    JwsHeader,
    parse_envelope,
    split_signature,
    verify_signature,
)
from nidb.protocol.errors import RefusalCode, Refused
from nidb.protocol.keys import VerifyKey
from nidb.store.direct import Direct
from nidb.store.models_employers import EmployerAccount, EmployerKey, EmployerMessage

__all__ = [
    "DECLARATION_SERVICE",
    "EMPLOYER_PURPOSE",
    "EmployerAdmission",
    "admit",
    "employer_member",
]


@dataclass(frozen=True, slots=True)
class EmployerAdmission:
    """A submission that passed the gate."""

    employer_code: str
    kid: str
    envelope: Envelope

    @property
    def body(self) -> dict[str, Any]:
        return self.envelope.body


# The gate's statements, built once (see nidb.employers.declarations).
_ACCOUNT_KEY = Direct(
    select(EmployerAccount.status, EmployerKey.public_key, EmployerKey.revoked_at)
    .select_from(EmployerAccount)
    .outerjoin(
        EmployerKey,
        and_(
            EmployerKey.employer_code == EmployerAccount.employer_code,
            EmployerKey.kid == bindparam("p_kid"),
        ),
    )
    .where(EmployerAccount.employer_code == bindparam("p_employer"))
)
"""The account and the signature's key (None when the employer has no such kid): one query."""
_CLAIM = Direct(
    text(
        f"INSERT INTO {EmployerMessage.__tablename__} (message_id, employer_code, kid) "
        "VALUES (:message_id, :employer_code, :kid) "
        "ON CONFLICT (message_id) DO NOTHING RETURNING message_id"
    )
)


def admit(
    conn: Connection,
    raw: Any,
    *,
    service: str = DECLARATION_SERVICE,
    clock: ClockWindow | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> EmployerAdmission:
    """Check ``raw`` (decoded JSON); raises Refused. Records the message id on ``conn``."""
    envelope = parse_envelope(raw)
    header = envelope.header
    if header.receiver != NIDB_MEMBER:
        raise Refused(RefusalCode.WRONG_RECEIVER)
    if header.service != service:
        raise Refused(RefusalCode.WRONG_SERVICE, f"endpoint is {service}")
    match = EMPLOYER_MEMBER.fullmatch(header.sender)
    if match is None:
        raise Refused(RefusalCode.UNKNOWN_SENDER, "sender must be VN/DN/<employer_code>/KBDT")
    employer_code = match[1]
    try:
        parts: tuple[JwsHeader, bytes] | None = split_signature(envelope.signature)
    except Refused:  # the sender is checked first: an unknown one is refused as such
        parts = None
    kid = parts[0]["kid"] if parts is not None else ""
    account = _ACCOUNT_KEY.first(conn, {"p_employer": employer_code, "p_kid": kid})
    if account is None:
        raise Refused(RefusalCode.UNKNOWN_SENDER, "employer is not enrolled")
    if parts is None:
        parts = split_signature(envelope.signature)  # raises its refusal again
    if account.public_key is None:
        raise Refused(RefusalCode.BAD_SIGNATURE, "kid is not a registered key of the employer")
    if account.revoked_at is not None:
        raise Refused(RefusalCode.BAD_SIGNATURE, "the key was revoked")
    verify_signature(envelope, _verify_key(account.public_key), parts)
    if account.status != "active":
        raise Refused(RefusalCode.SENDER_SUSPENDED)
    (clock or ClockWindow()).check(header.issued_at, now())
    if header.purpose != EMPLOYER_PURPOSE:
        raise Refused(RefusalCode.NOT_GRANTED, f"purpose must be {EMPLOYER_PURPOSE}")
    _claim(conn, header.message_id, employer_code, kid)
    return EmployerAdmission(employer_code, kid, envelope)


@lru_cache(maxsize=1024)
def _verify_key(public_b64: str) -> VerifyKey:
    """An employer's key, decoded once per process (keys are few; a revoked one is refused
    before it is used)."""
    return VerifyKey.from_b64(public_b64)


def _claim(conn: Connection, message_id: str, employer_code: str, kid: str) -> None:
    """Record the message id, or refuse it as a replay: one statement, no savepoint (a
    concurrent admission of the same id waits for the other transaction and then sees it)."""
    claimed = _CLAIM.first(
        conn, {"message_id": message_id, "employer_code": employer_code, "kid": kid}
    )
    if claimed is None:
        raise Refused(RefusalCode.REPLAY)
