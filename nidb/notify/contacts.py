"""Where to reach a citizen or an employer, and what they chose.

A citizen's channels are consents (opt-in, Decree 13/2023; topics ``notify_email``,
``notify_sms`` and ``notify_access`` of ``consent_choices``, history kept); the addresses are
``notify_contacts``. An employer's reminders go to its register row's e-mail and phone unless
``notify_contacts`` gives others, and not by a channel it opted out of.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, Row, insert, select, update

from nidb.domain.errors import DomainError
from nidb.store.audit import write_audit
from nidb.store.models import Employer
from nidb.store.models_notify import NotifyContact
from nidb.store.models_web import ConsentChoice

__all__ = [
    "CITIZEN_TOPICS",
    "Contact",
    "InvalidContact",
    "citizen_channels",
    "citizen_contact",
    "clean_email",
    "clean_phone",
    "employer_contact",
    "save_citizen_contact",
    "save_employer_contact",
]

CITIZEN_TOPICS = ("notify_email", "notify_sms", "notify_access")
EMAIL = re.compile(r"^[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
PHONE = re.compile(r"^(?:\+84|0)(3|5|7|8|9)\d{8}$")


class InvalidContact(DomainError):
    """An e-mail address or phone number that cannot be used."""


@dataclass(frozen=True, slots=True)
class Contact:
    """Addresses of a party and whether each channel may be used."""

    email: str | None
    phone: str | None
    email_on: bool
    sms_on: bool


def clean_email(value: str | None, field: str = "email") -> str | None:
    """A trimmed e-mail address, None when empty; InvalidContact when malformed."""
    text = (value or "").strip()
    if not text:
        return None
    if len(text) > 200 or not EMAIL.match(text):
        raise InvalidContact(
            field,
            text[:80],
            "EMAIL_FORMAT",
            "Địa chỉ thư điện tử không đúng dạng (ví dụ: ten@example.vn)",
            "not an e-mail address (e.g. name@example.vn)",
        )
    return text


def clean_phone(value: str | None, field: str = "phone") -> str | None:
    """A Vietnamese mobile number without spaces or dots, None when empty."""
    text = re.sub(r"[\s.\-]", "", value or "")
    if not text:
        return None
    if not PHONE.match(text):
        raise InvalidContact(
            field,
            (value or "")[:40],
            "PHONE_FORMAT",
            "Số điện thoại di động không đúng (10 chữ số, bắt đầu bằng 03, 05, 07, 08 hoặc 09)",
            "not a Vietnamese mobile number (10 digits from 03, 05, 07, 08 or 09)",
        )
    return text


def citizen_channels(
    conn: Connection, personal_ids: list[str] | None = None
) -> dict[str, dict[str, datetime]]:
    """Personal ID → {topic: since when it is granted} for the notification topics in force."""
    query = select(
        ConsentChoice.personal_id,
        ConsentChoice.topic,
        ConsentChoice.granted,
        ConsentChoice.changed_at,
    ).where(ConsentChoice.topic.in_(CITIZEN_TOPICS))
    if personal_ids is not None:
        query = query.where(ConsentChoice.personal_id.in_(personal_ids))
    latest: dict[tuple[str, str], tuple[bool, datetime]] = {}
    for pid, topic, granted, changed_at in conn.execute(query.order_by(ConsentChoice.id)):
        latest[(str(pid), str(topic))] = (bool(granted), _utc(changed_at))
    result: dict[str, dict[str, datetime]] = {}
    for (pid, topic), (granted, since) in latest.items():
        if granted:
            result.setdefault(pid, {})[topic] = since
    return result


def _row(conn: Connection, kind: str, party: str) -> Row[str | None, str | None, bool, bool] | None:
    return conn.execute(
        select(
            NotifyContact.email, NotifyContact.phone, NotifyContact.email_off, NotifyContact.sms_off
        ).where(NotifyContact.party_kind == kind, NotifyContact.party_id == party)
    ).first()


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def citizen_contact(conn: Connection, personal_id: str) -> Contact:
    """A citizen's addresses and channels in force."""
    row = _row(conn, "citizen", personal_id)
    topics = citizen_channels(conn, [personal_id]).get(personal_id, {})
    return Contact(
        row.email if row else None,
        row.phone if row else None,
        "notify_email" in topics,
        "notify_sms" in topics,
    )


def _upsert(conn: Connection, kind: str, party: str, values: dict[str, object]) -> None:
    existing = _row(conn, kind, party)
    table = NotifyContact
    now = datetime.now(UTC)
    if existing is None:
        conn.execute(
            insert(table).values(party_kind=kind, party_id=party, updated_at=now, **values)
        )
    else:
        conn.execute(
            update(table)
            .where(table.party_kind == kind, table.party_id == party)
            .values(updated_at=now, **values)
        )


def save_citizen_contact(
    engine: Engine, personal_id: str, email: str | None, phone: str | None
) -> None:
    """Store a citizen's addresses (already cleaned), audited, in one transaction."""
    with engine.begin() as conn:
        _upsert(conn, "citizen", personal_id, {"email": email, "phone": phone})
        write_audit(
            conn,
            actor=f"citizen:{personal_id}",
            action="notify.contact",
            subject_type="citizen",
            subject_id=personal_id,
            purpose=None,
            detail={"email": bool(email), "phone": bool(phone)},
        )


def employer_contact(conn: Connection, employer_code: str) -> Contact:
    """An employer's addresses (its own, else the register's) and channels not opted out."""
    row = _row(conn, "employer", employer_code)
    employer = conn.execute(
        select(Employer.email, Employer.phone).where(Employer.employer_code == employer_code)
    ).first()
    email = (row.email if row and row.email else None) or (employer[0] if employer else None)
    phone = (row.phone if row and row.phone else None) or (employer[1] if employer else None)
    return Contact(
        email,
        phone,
        not (row.email_off if row else False),
        not (row.sms_off if row else False),
    )


def save_employer_contact(
    engine: Engine,
    employer_code: str,
    *,
    email: str | None,
    phone: str | None,
    email_on: bool,
    sms_on: bool,
    actor: str,
) -> None:
    """Store an employer's addresses and opt-outs, audited, in one transaction."""
    with engine.begin() as conn:
        _upsert(
            conn,
            "employer",
            employer_code,
            {"email": email, "phone": phone, "email_off": not email_on, "sms_off": not sms_on},
        )
        write_audit(
            conn,
            actor=actor,
            action="notify.contact",
            subject_type="employer",
            subject_id=employer_code,
            purpose=None,
            detail={"email_on": email_on, "sms_on": sms_on},
        )
