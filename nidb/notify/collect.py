"""Deliveries built from what happened: one row per event and channel, never two.

Sources:
- citizens' notifications (``notifications``, what the portal shows: a dossier received,
  decided, paid…), for citizens who opted in to e-mail or SMS, created since that opt-in and
  within the last ``LOOKBACK``;
- employers' debt reminders (``contribution_reminders`` not yet e-mailed), to the employer's
  e-mail and phone unless it opted out of a channel;
- the access log: for citizens who asked (``notify_access``), the reads of their data by a
  partner or a staff member since the last notice, gathered into one notice at most every
  ``notify_access_every_minutes``. Reads are taken up to ``SETTLE`` ago, so that an entry
  whose writer has not committed yet is not skipped by the cursor.

Each delivery's key (``event_key``) names its event; inserting is "on conflict do nothing",
so running this again, or two runners at once, adds no duplicate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from nidb.contributions.months import add_months, last_day
from nidb.notify import templates
from nidb.notify.contacts import citizen_channels, employer_contact
from nidb.store import models, people
from nidb.store.models_contributions import Reminder
from nidb.store.models_notify import NotifyContact, NotifyCursor, NotifyDelivery
from nidb.store.models_services import Notification

__all__ = ["LOOKBACK", "SETTLE", "Built", "build_deliveries"]

LOOKBACK = timedelta(days=7)
SETTLE = timedelta(seconds=30)


@dataclass
class Built:
    """How many deliveries a pass added, per source."""

    notices: int = 0
    reminders: int = 0
    access: int = 0

    @property
    def total(self) -> int:
        return self.notices + self.reminders + self.access


def _utc(value: Any) -> datetime:
    moment: datetime = (
        datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else value
    )
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _as_date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


class _Rows:
    """Deliveries to insert, written in one statement per pass (unless their (event, channel)
    exists: "on conflict do nothing")."""

    def __init__(self, now: datetime) -> None:
        self.due = min(now, datetime.now(UTC))  # due at once
        self.rows: list[dict[str, Any]] = []

    def add(
        self,
        key: str,
        channel: str,
        kind: str,
        party: str,
        address: str,
        subject: str | None,
        body: str,
    ) -> None:
        self.rows.append(
            {
                "event_key": key,
                "channel": channel,
                "party_kind": kind,
                "party_id": party,
                "address": address,
                "subject": subject,
                "body": body,
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": self.due,
            }
        )

    def write(self, conn: Connection) -> int:
        """Insert the rows; how many were new."""
        if not self.rows:
            return 0
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        statement = (
            dialect.insert(NotifyDelivery)
            .on_conflict_do_nothing(index_elements=["event_key", "channel"])
            .returning(NotifyDelivery.id)
        )
        added = 0
        for start in range(0, len(self.rows), 1000):
            added += len(conn.execute(statement, self.rows[start : start + 1000]).all())
        self.rows.clear()
        return added


def _existing(conn: Connection, keys: list[str]) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        found.update(
            (str(k), str(c))
            for k, c in conn.execute(
                select(NotifyDelivery.event_key, NotifyDelivery.channel).where(
                    NotifyDelivery.event_key.in_(chunk)
                )
            )
        )
    return found


def _names(conn: Connection, pids: list[str]) -> dict[str, str]:
    if not pids:
        return {}
    rows = conn.execute(
        select(models.Citizen.personal_id, models.Citizen.full_name).where(
            models.Citizen.personal_id.in_(pids)
        )
    )
    return {str(p): str(n) for p, n in rows}


def _citizen_addresses(
    conn: Connection, pids: list[str]
) -> dict[str, tuple[str | None, str | None]]:
    if not pids:
        return {}
    rows = conn.execute(
        select(NotifyContact.party_id, NotifyContact.email, NotifyContact.phone).where(
            NotifyContact.party_kind == "citizen", NotifyContact.party_id.in_(pids)
        )
    )
    return {str(p): (e, ph) for p, e, ph in rows}


def _notices(conn: Connection, now: datetime, channels: dict[str, dict[str, datetime]]) -> int:
    out = _Rows(now)
    pids = [p for p, t in channels.items() if "notify_email" in t or "notify_sms" in t]
    addresses = _citizen_addresses(conn, pids)
    pids = [p for p in pids if p in addresses]
    if not pids:
        return 0
    names = _names(conn, pids)
    rows = conn.execute(
        select(
            Notification.id, Notification.personal_id, Notification.text_vi, Notification.created_at
        )
        .where(
            Notification.personal_id.in_(pids),
            Notification.created_at >= now - LOOKBACK,
        )
        .order_by(Notification.id)
    ).all()
    done = _existing(conn, [f"notification:{r[0]}" for r in rows])
    for nid, pid, text_vi, created in rows:
        key, created_at = f"notification:{nid}", _utc(created)
        email, phone = addresses[str(pid)]
        topics = channels[str(pid)]
        message = templates.citizen_notice(
            names.get(str(pid), "Quý công dân"), str(text_vi), created_at
        )
        since_email, since_sms = topics.get("notify_email"), topics.get("notify_sms")
        if email and since_email and created_at >= since_email and (key, "email") not in done:
            out.add(key, "email", "citizen", str(pid), email, message.subject, message.body)
        if phone and since_sms and created_at >= since_sms and (key, "sms") not in done:
            out.add(key, "sms", "citizen", str(pid), phone, None, message.sms)
    return out.write(conn)


def _reminders(conn: Connection, now: datetime) -> int:
    out = _Rows(now)
    rows = conn.execute(
        select(
            Reminder.id,
            Reminder.employer_code,
            func.coalesce(models.Employer.name, Reminder.employer_code),
            Reminder.month,
            Reminder.debt,
            Reminder.months,
            Reminder.oldest,
        )
        .join(
            models.Employer, models.Employer.employer_code == Reminder.employer_code, isouter=True
        )
        .where(Reminder.sent_at.is_(None))
        .order_by(Reminder.id)
    ).all()
    done = _existing(conn, [f"reminder:{r[0]}" for r in rows])
    for rid, code, name, month, debt, months, oldest in rows:
        key = f"reminder:{rid}"
        if (key, "email") in done and (key, "sms") in done:
            continue
        contact = employer_contact(conn, str(code))
        oldest_day = _as_date(oldest)
        message = templates.debt_reminder(
            str(name),
            str(code),
            _as_date(month),
            int(debt),
            int(months),
            oldest_day,
            last_day(add_months(oldest_day, 1)),
        )
        if contact.email and contact.email_on and (key, "email") not in done:
            out.add(
                key,
                "email",
                "employer",
                str(code),
                contact.email,
                message.subject,
                message.body,
            )
        if contact.phone and contact.sms_on and (key, "sms") not in done:
            out.add(key, "sms", "employer", str(code), contact.phone, None, message.sms)
    return out.write(conn)


def _who(actor: str, partners: dict[str, str]) -> str:
    if actor.startswith("staff:"):
        return f"Cán bộ cơ quan BHXH ({actor[6:]})"
    return partners.get(actor, "Một cơ quan, tổ chức được cấp quyền")


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _access(
    conn: Connection, now: datetime, channels: dict[str, dict[str, datetime]], every: timedelta
) -> int:
    out = _Rows(now)
    pids = [
        p
        for p, t in channels.items()
        if "notify_access" in t and ("notify_email" in t or "notify_sms" in t)
    ]
    addresses = _citizen_addresses(conn, pids)
    pids = [p for p in pids if p in addresses and any(addresses[p])]
    if not pids:
        return 0
    names = _names(conn, pids)
    until = now - SETTLE
    log = models.AccessLogEntry
    for pid in pids:
        topics = channels[pid]
        cursor_name = f"access:{pid}"
        cursor = conn.execute(
            select(NotifyCursor.position, NotifyCursor.updated_at).where(
                NotifyCursor.name == cursor_name
            )
        ).first()
        start = cursor.position if cursor else _iso(topics["notify_access"])
        if cursor is not None and now - _utc(cursor.updated_at) < every:
            continue  # gathered into the next notice
        subjects = [pid, *people.codes_of(conn, pid, include_open_links=False)]
        rows = conn.execute(
            select(log.occurred_at, log.actor, log.service, log.purpose, log.fields)
            .where(
                log.subject.in_(subjects),
                log.result == "ok",
                log.occurred_at > start,
                log.occurred_at <= _iso(until),
                ~log.actor.like("citizen:%"),
            )
            .order_by(log.occurred_at)
        ).all()
        if not rows:
            continue
        partner_codes = {str(r[1]) for r in rows if not str(r[1]).startswith("staff:")}
        partners = (
            {
                str(c): str(n)
                for c, n in conn.execute(
                    select(models.Partner.code, models.Partner.name).where(
                        models.Partner.code.in_(partner_codes)
                    )
                )
            }
            if partner_codes
            else {}
        )
        reads = [
            templates.AccessRead(
                _utc(at), _who(str(actor), partners), str(service), purpose, fields
            )
            for at, actor, service, purpose, fields in rows
        ]
        last = str(rows[-1][0])
        key = f"access:{pid}:{last}"
        message = templates.access_digest(names.get(pid, "Quý công dân"), reads)
        email, phone = addresses[pid]
        if email and "notify_email" in topics:
            out.add(key, "email", "citizen", pid, email, message.subject, message.body)
        if phone and "notify_sms" in topics:
            out.add(key, "sms", "citizen", pid, phone, None, message.sms)
        table = NotifyCursor
        if cursor is None:
            conn.execute(insert(table).values(name=cursor_name, position=last, updated_at=now))
        else:
            conn.execute(
                update(table).where(table.name == cursor_name).values(position=last, updated_at=now)
            )
    return out.write(conn)


def build_deliveries(
    engine: Engine, *, now: datetime | None = None, access_every: timedelta = timedelta(hours=1)
) -> Built:
    """Add the deliveries due from every source, in one transaction; returns how many."""
    moment = now or datetime.now(UTC)
    with engine.begin() as conn:
        channels = citizen_channels(conn)
        return Built(
            _notices(conn, moment, channels),
            _reminders(conn, moment),
            _access(conn, moment, channels, access_every),
        )
