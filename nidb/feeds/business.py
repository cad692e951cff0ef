"""The business registry's change feed (enterprises registered, changed, closed) → employers.

`follow_business` reads pages after the stored cursor (source ``business``) and applies each
page in one transaction with the cursor move, its audit entries, alerts and outbox events:

- **registered** → an employer row, or an update of the one(s) linked by
  ``employers.enterprise_code``. A new employer's insurance unit code (``employer_code``) is
  the enterprise code's digits (``0101234567``; a branch ``0101234567-001`` gives
  ``0101234567001``), or ``DN`` + those digits if another employer already holds that code.
- **changed** → the linked employers' fields, audited old → new. The registry's ``suspended``
  is stored as ``paused`` (``employers.status`` holds 8 characters).
- **closed** → status ``closed``; an ``employer_closed_worker`` alert, routed to the employer's
  province, for every person with an open participation period there, and one
  ``employer_closed`` alert for the employer.

Events are checked at the edge: one with a malformed enterprise code, an unknown province or a
missing field is not applied; a ``feed_rejected`` alert and audit entry name the event, the
field, the value and the rule, and the feed moves on. Re-applying an event changes nothing
more. The feed client and the page loop are `nidb.feeds.feed`'s.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any

from sqlalchemy import Connection, Engine, RowMapping, insert, select, update

from nidb.domain.errors import DomainError
from nidb.domain.identifiers import EnterpriseCode
from nidb.domain.provinces import is_province_code
from nidb.feeds.feed import (
    EventRejected,
    FeedClient,
    FeedSource,
    alert,
    audit,
    follow_feed,
    outbox,
    reject,
)
from nidb.store import models

SOURCE = "business"

# --- the business registry's events ------------------------------------------------------------

STATUS = {"active": "active", "suspended": "paused", "closed": "closed"}
_EMPLOYERS = models.Employer.__table__
_TEXT_LIMITS = {"name": 300, "address": 1000, "business_line": 200}


@dataclass
class BusinessFeedReport:
    """What a run applied; `rejected` holds one message per event that was not."""

    pages: int = 0
    events: int = 0
    registered: int = 0
    changed: int = 0
    closed: int = 0
    workers_flagged: int = 0
    unchanged: int = 0
    unknown_enterprise: int = 0
    rejected: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "rejected"}


def _field(data: dict[str, Any], name: str) -> Any:
    value = data.get(name)
    if name in _TEXT_LIMITS:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if not isinstance(value, str) or len(value) > _TEXT_LIMITS[name]:
            raise EventRejected(
                f"data.{name}",
                value,
                "TEXT",
                "văn bản không hợp lệ",
                f"must be text of at most {_TEXT_LIMITS[name]} characters",
            )
        return value.strip()
    if name == "province":
        if not (isinstance(value, str) and len(value) == 2 and is_province_code(value)):
            raise EventRejected(
                "data.province",
                value,
                "PROVINCE_UNKNOWN",
                "mã tỉnh (2 chữ số) không tồn tại",
                "unknown 2-digit province code",
            )
        return value
    if name == "registered_workers":
        if value is not None and (type(value) is not int or value < 0):
            raise EventRejected(
                "data.registered_workers",
                value,
                "COUNT",
                "số lao động không hợp lệ",
                "must be a whole number >= 0",
            )
        return value
    if value not in STATUS:
        raise EventRejected(
            "data.status",
            value,
            "STATUS",
            "trạng thái không hợp lệ",
            "must be active, suspended or closed",
        )
    return STATUS[value]


def _parse(entry: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """(kind, enterprise code, checked fields) of an event; raises EventRejected."""
    kind = entry.get("kind")
    if kind not in ("registered", "changed", "closed"):
        raise EventRejected(
            "kind",
            kind,
            "KIND",
            "loại sự kiện không hợp lệ",
            "kind must be registered, changed or closed",
        )
    raw_code = entry.get("enterprise_code")
    if not isinstance(raw_code, str) or not raw_code.strip():
        raise EventRejected.missing("enterprise_code")
    try:
        code = EnterpriseCode.parse(raw_code).value
    except DomainError as error:
        raise EventRejected.of(error, "enterprise_code") from None
    data = entry.get("data")
    if not isinstance(data, dict):
        raise EventRejected.missing("data")
    if kind == "closed":
        try:
            closed = date.fromisoformat(data["closed_date"]) if data.get("closed_date") else None
        except (TypeError, ValueError):
            raise EventRejected(
                "data.closed_date",
                data.get("closed_date"),
                "DATE",
                "ngày không hợp lệ",
                "must be an ISO date",
            ) from None
        return kind, code, {"closed_date": closed.isoformat() if closed else None}
    if kind == "registered":
        for name in ("name", "province"):
            if data.get(name) in (None, ""):
                raise EventRejected.missing(f"data.{name}")
        data = {"status": "active", **data}
    # fields the registry may add later are ignored, so that they do not stop the feed
    names = [
        n
        for n in ("name", "province", "address", "business_line", "registered_workers", "status")
        if n in data
    ]
    if not names:
        raise EventRejected(
            "data",
            ",".join(sorted(map(str, data)))[:100] or None,
            "FIELDS",
            "không có trường nào để thay đổi",
            "no known field to change",
        )
    checked = {name: _field(data, name) for name in names}
    if kind == "changed" and checked.get("name", "-") is None:
        raise EventRejected.missing("data.name")
    return kind, code, checked


def _employer_code(conn: Connection, enterprise_code: str) -> str:
    digits = enterprise_code.replace("-", "")
    for candidate in (digits, f"DN{digits}"):
        taken = select(models.Employer.employer_code).where(
            models.Employer.employer_code == candidate
        )
        if conn.execute(taken).first() is None:
            return candidate
    raise EventRejected(
        "enterprise_code",
        enterprise_code,
        "EMPLOYER_CODE_TAKEN",
        "mã đơn vị đã được dùng",
        "the derived unit codes are taken",
    )


def _update(
    conn: Connection,
    row: RowMapping,
    new: dict[str, Any],
    seq: object,
    closed_date: str | None,
    report: BusinessFeedReport,
) -> None:
    """Apply changed fields to one employer (a move to closed goes through _close)."""
    diff = {k: v for k, v in new.items() if k != "status" or v != "closed"}
    diff = {k: v for k, v in diff.items() if row[k] != v}
    code = row["employer_code"]
    if diff:
        conn.execute(
            update(models.Employer).where(models.Employer.employer_code == code).values(**diff)
        )
        detail = {"old": {k: row[k] for k in diff}, "new": diff, "feed_seq": seq}
        audit(conn, SOURCE, "employer.changed", "employer", code, detail)
        outbox(
            conn,
            "employer.changed",
            f"employer:{code}",
            {"employer_code": code, "enterprise_code": row["enterprise_code"], **detail},
        )
        report.changed += 1
    closing = new.get("status") == "closed" and row["status"] != "closed"
    if closing:
        _close(conn, code, closed_date, seq, report)
    elif not diff:
        report.unchanged += 1


def _superseded(conn: Connection, code: str, seq: object) -> bool:
    """Whether this feed already applied this event, or a later one, to the employer: a page
    read again (lost commit acknowledgement, cursor reset) must not put older values back."""
    if not isinstance(seq, int):
        return False
    entry = models.AuditEntry
    details = conn.execute(
        select(entry.detail).where(entry.subject_id == code, entry.actor == f"feed:{SOURCE}")
    ).scalars()
    seen = [d.get("feed_seq") for d in details]
    return any(isinstance(last, int) and seq <= last for last in seen)


def _close(
    conn: Connection, code: str, closed_date: str | None, seq: object, report: BusinessFeedReport
) -> None:
    emp = models.Employer
    newly = conn.execute(
        update(emp).where(emp.employer_code == code, emp.status != "closed").values(status="closed")
    ).rowcount
    raised = select(models.Alert.id).where(
        models.Alert.kind == "employer_closed", models.Alert.subject_id == code
    )
    if not newly and conn.execute(raised).first() is not None:
        report.unchanged += 1
        return
    row = conn.execute(select(_EMPLOYERS).where(emp.employer_code == code)).mappings().one()
    pp = models.ParticipationPeriod
    open_periods = conn.execute(
        select(pp.bhxh_code, pp.scheme)
        .where(pp.employer_code == code, pp.end_month.is_(None))
        .order_by(pp.bhxh_code, pp.scheme)
    ).all()
    workers: dict[str, list[str]] = {}
    for bhxh_code, scheme in open_periods:
        workers.setdefault(bhxh_code, []).append(scheme)
    about = {
        "employer_code": code,
        "enterprise_code": row["enterprise_code"],
        "employer_name": row["name"],
        "closed_date": closed_date,
        "feed_seq": seq,
    }
    if workers:
        conn.execute(
            insert(models.Alert),
            [
                {
                    "kind": "employer_closed_worker",
                    "province": row["province"],
                    "subject_type": "person",
                    "subject_id": bhxh,
                    "status": "open",
                    "detail": {**about, "schemes": schemes},
                }
                for bhxh, schemes in workers.items()
            ],
        )
    summary = {**about, "open_workers": len(workers)}
    alert(conn, "employer_closed", row["province"], "employer", code, summary)
    audit(conn, SOURCE, "employer.closed", "employer", code, summary)
    outbox(conn, "employer.closed", f"employer:{code}", summary)
    report.closed += 1
    report.workers_flagged += len(workers)


def apply_business_event(
    conn: Connection, entry: dict[str, Any], report: BusinessFeedReport
) -> None:
    """Apply one feed event in the caller's transaction; a bad event is rejected and recorded."""
    try:
        kind, ecode, data = _parse(entry)
        seq = entry.get("seq")
        emp = models.Employer
        rows = (
            conn.execute(
                select(_EMPLOYERS).where(emp.enterprise_code == ecode).order_by(emp.employer_code)
            )
            .mappings()
            .all()
        )
        current = [r for r in rows if not _superseded(conn, r["employer_code"], seq)]
        report.unchanged += len(rows) - len(current)
        if kind == "closed":
            for row in current:
                _close(conn, row["employer_code"], data["closed_date"], seq, report)
        elif kind == "changed" or rows:
            for row in current:
                _update(conn, row, data, seq, None, report)
        else:
            code = _employer_code(conn, ecode)
            values = {
                "employer_code": code,
                "enterprise_code": ecode,
                "employer_type": "enterprise",
                **data,
            }
            conn.execute(insert(emp).values(**values))
            audit(
                conn, SOURCE, "employer.registered", "employer", code, {**values, "feed_seq": seq}
            )
            outbox(conn, "employer.registered", f"employer:{code}", {**values, "feed_seq": seq})
            report.registered += 1
        if not rows and kind != "registered":
            report.unknown_enterprise += 1
    except EventRejected as error:
        report.rejected = [*report.rejected, reject(conn, SOURCE, entry, error)]


def follow_business(
    engine: Engine, client: FeedSource, page_size: int = 500, max_pages: int | None = None
) -> BusinessFeedReport:
    """Apply every business-registry event after the stored cursor; returns what was done.

    Raises FeedUnavailable when the registry cannot be reached: rerun to continue from the
    last page applied (nothing is lost or applied twice)."""
    report = BusinessFeedReport()

    def apply(conn: Connection, entry: dict[str, Any]) -> None:
        apply_business_event(conn, entry, report)

    follow_feed(engine, client, SOURCE, apply, report, page_size, max_pages)
    return report


def business_client(base_url: str, **options: Any) -> FeedClient:
    """A FeedClient of the business registry at `base_url` (options as FeedClient's)."""
    return FeedClient(base_url, SOURCE, **options)


__all__ = [
    "SOURCE",
    "BusinessFeedReport",
    "apply_business_event",
    "business_client",
    "follow_business",
]
