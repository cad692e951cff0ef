"""MOLISA's social-welfare feed (beneficiaries added, ended) → welfare rows and state-paid cards.

`follow_molisa` reads pages after the stored cursor (source ``molisa``) and applies each page in
one transaction with the cursor move, its audit entries and outbox events:

- **added** → the ``welfare_beneficiaries`` row (personal ID, program, start date) is inserted
  or updated. If the person is known (``persons.verified_personal_id``) and holds no active
  card of the program's group valid on the start date, a state-paid health card is issued
  (``welfare.card_issued``): group and level from the catalogue (BTXH → BT, HONGHEO → HN,
  NCC → CC, levels from ``BENEFICIARY_GROUPS``); province of issue = that of the person's
  latest card, else the province of birth registration in the personal ID; facility = the
  latest card's, else ``<province>000`` (none chosen yet: the province office assigns one);
  valid from the start date to the end of that year, or to the end date if earlier. People not
  known yet keep their welfare row and are counted: a card is issued when a later ``added``
  event finds them verified (yearly renewal and issuing at verification are not built).
- **ended** → the row's end date; the program's active cards valid past it end on that date
  (``welfare.ended``).

Bad events (malformed personal ID, unknown program, missing or wrong dates) are rejected with a
``feed_rejected`` alert and audit entry naming event, field, value and rule; the feed moves on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from nidb.domain.catalogues import BENEFICIARY_GROUPS
from nidb.domain.errors import DomainError
from nidb.domain.identifiers import HealthCardCode, PersonalId
from nidb.feeds.feed import (
    EventRejected,
    FeedClient,
    FeedSource,
    audit,
    follow_feed,
    outbox,
    reject,
)
from nidb.store import models, people

SOURCE = "molisa"
PROGRAM_GROUPS = {"BTXH": "BT", "HONGHEO": "HN", "NCC": "CC"}
"""The card group (mã đối tượng) a welfare program gives: social protection allowance, poor
household, people with merits to the revolution."""


@dataclass
class MolisaFeedReport:
    """What a run applied; `rejected` holds one message per event that was not."""

    pages: int = 0
    events: int = 0
    added: int = 0
    updated: int = 0
    ended: int = 0
    unchanged: int = 0
    cards_issued: int = 0
    cards_shortened: int = 0
    already_covered: int = 0
    persons_unknown: int = 0
    entries_unknown: int = 0
    rejected: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "rejected"}


@dataclass(frozen=True, slots=True)
class _Event:
    kind: str
    personal_id: str
    program: str
    start: date | None
    end: date | None
    amount: int | None
    seq: object


def _date(data: dict[str, Any], name: str, required: bool) -> date | None:
    value = data.get(name)
    if value in (None, ""):
        if required:
            raise EventRejected.missing(f"data.{name}")
        return None
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise EventRejected(
            f"data.{name}", value, "DATE", "ngày không hợp lệ", "must be an ISO date YYYY-MM-DD"
        ) from None


def _parse(entry: dict[str, Any]) -> _Event:
    kind = entry.get("kind")
    if kind not in ("added", "ended"):
        raise EventRejected(
            "kind", kind, "KIND", "loại sự kiện không hợp lệ", "kind must be added or ended"
        )
    raw_pid = entry.get("personal_id")
    if not isinstance(raw_pid, str) or not raw_pid.strip():
        raise EventRejected.missing("personal_id")
    try:
        pid = PersonalId.parse(raw_pid).value
    except DomainError as error:
        raise EventRejected.of(error, "personal_id") from None
    data = entry.get("data")
    if not isinstance(data, dict):
        raise EventRejected.missing("data")
    program = data.get("program")
    if program is None:
        raise EventRejected.missing("data.program")
    if program not in PROGRAM_GROUPS:
        raise EventRejected(
            "data.program",
            program,
            "PROGRAM_UNKNOWN",
            "chương trình an sinh không có trong danh mục",
            "program must be BTXH, HONGHEO or NCC",
        )
    start = _date(data, "start_date", kind == "added")
    end = _date(data, "end_date", kind == "ended")
    if start and end and end < start:
        raise EventRejected(
            "data.end_date",
            end.isoformat(),
            "END_BEFORE_START",
            "ngày kết thúc trước ngày bắt đầu",
            "end date is before the start date",
        )
    amount = data.get("monthly_amount")
    if amount is not None and (type(amount) is not int or amount < 0):
        raise EventRejected(
            "data.monthly_amount",
            amount,
            "AMOUNT",
            "số tiền không hợp lệ",
            "must be whole đồng >= 0",
        )
    return _Event(kind, pid, program, start, end, amount, entry.get("seq"))


def _bhxh_code(conn: Connection, personal_id: str) -> str | None:
    """The BHXH code of the person verified as this personal ID (None: not known yet)."""
    return next(iter(people.codes_of(conn, personal_id, include_open_links=False)), None)


def _added(conn: Connection, event: _Event, report: MolisaFeedReport) -> None:
    assert event.start is not None
    welfare = models.WelfareBeneficiary
    key = (
        welfare.personal_id == event.personal_id,
        welfare.program == event.program,
        welfare.start_date == event.start,
    )
    row = conn.execute(select(welfare.end_date, welfare.monthly_amount).where(*key)).first()
    values = {"end_date": event.end, "monthly_amount": event.amount}
    if row is not None and row.end_date is not None:
        # an `added` read again after its `ended` (cursor reset, lost acknowledgement) must not
        # reopen the entry: the stand-in, like MOLISA, never adds the same entry twice
        values["end_date"] = row.end_date
    detail: dict[str, Any] = {
        "personal_id": event.personal_id,
        "program": event.program,
        "start_date": event.start.isoformat(),
        "end_date": event.end.isoformat() if event.end else None,
        "monthly_amount": event.amount,
        "feed_seq": event.seq,
    }
    subject = f"{event.personal_id}:{event.program}"
    if row is None:
        conn.execute(
            insert(welfare).values(
                personal_id=event.personal_id,
                program=event.program,
                start_date=event.start,
                **values,
            )
        )
        audit(conn, SOURCE, "welfare.recorded", "welfare", subject, detail)
        report.added += 1
    elif (row.end_date, row.monthly_amount) != (values["end_date"], values["monthly_amount"]):
        conn.execute(update(welfare).where(*key).values(**values))
        old = {
            "end_date": str(row.end_date) if row.end_date else None,
            "monthly_amount": row.monthly_amount,
        }
        audit(conn, SOURCE, "welfare.recorded", "welfare", subject, {**detail, "old": old})
        report.updated += 1
    else:
        report.unchanged += 1
    bhxh = _bhxh_code(conn, event.personal_id)
    if bhxh is None:
        report.persons_unknown += 1
        return
    _issue_card(conn, event, bhxh, report)


def _issue_card(conn: Connection, event: _Event, bhxh: str, report: MolisaFeedReport) -> None:
    assert event.start is not None
    card = models.HealthCard
    group_code = PROGRAM_GROUPS[event.program]
    covered = conn.execute(
        select(card.id).where(
            card.bhxh_code == bhxh,
            card.group_code == group_code,
            card.status == "active",
            card.valid_from <= event.start,
            card.valid_to >= event.start,
        )
    ).first()
    latest = conn.execute(
        select(card.province_code, card.facility_code)
        .where(card.bhxh_code == bhxh)
        .order_by(card.valid_to.desc(), card.id.desc())
        .limit(1)
    ).first()
    province = latest.province_code if latest else event.personal_id[1:3]
    level = BENEFICIARY_GROUPS[group_code].default_benefit_level
    code = HealthCardCode.build(group_code, level, province, bhxh).value
    issued = conn.execute(
        select(card.id).where(card.card_code == code, card.valid_from == event.start)
    ).first()
    if covered or issued:
        report.already_covered += 1
        return
    year_end = date(event.start.year, 12, 31)
    valid_to = min(year_end, event.end) if event.end else year_end
    values = {
        "card_code": code,
        "bhxh_code": bhxh,
        "group_code": group_code,
        "benefit_level": level,
        "province_code": province,
        "facility_code": latest.facility_code if latest else f"{province}000",
        "valid_from": event.start,
        "valid_to": valid_to,
        "status": "active",
    }
    conn.execute(insert(card).values(**values))
    detail = {
        **values,
        "valid_from": event.start.isoformat(),
        "valid_to": valid_to.isoformat(),
        "personal_id": event.personal_id,
        "program": event.program,
        "feed_seq": event.seq,
    }
    audit(conn, SOURCE, "welfare.card_issued", "health_card", code, detail)
    outbox(conn, "welfare.card_issued", f"person:{bhxh}", detail)
    report.cards_issued += 1


def _ended(conn: Connection, event: _Event, report: MolisaFeedReport) -> None:
    assert event.end is not None
    welfare = models.WelfareBeneficiary
    which = (
        welfare.start_date == event.start
        if event.start
        else (welfare.end_date.is_(None) | (welfare.end_date == event.end)),
        welfare.personal_id == event.personal_id,
        welfare.program == event.program,
    )
    rows = conn.execute(
        update(welfare)
        .where(*which)
        .where(welfare.end_date.is_(None) | (welfare.end_date != event.end))
        .values(end_date=event.end)
        .returning(welfare.start_date)
    ).all()
    if not rows and conn.execute(select(welfare.id).where(*which)).first() is None:
        report.entries_unknown += 1
    bhxh = _bhxh_code(conn, event.personal_id)
    cards: Sequence[Any] = ()
    if bhxh is not None:
        card = models.HealthCard
        cards = conn.execute(
            update(card)
            .where(
                card.bhxh_code == bhxh,
                card.group_code == PROGRAM_GROUPS[event.program],
                card.status == "active",
                card.valid_from <= event.end,
                card.valid_to > event.end,
            )
            .values(valid_to=event.end)
            .returning(card.card_code)
        ).all()
    if not (rows or cards):
        report.unchanged += 1
        return
    detail = {
        "personal_id": event.personal_id,
        "bhxh_code": bhxh,
        "program": event.program,
        "start_dates": sorted(r[0].isoformat() for r in rows),
        "end_date": event.end.isoformat(),
        "cards_shortened": [c.card_code for c in cards],
        "feed_seq": event.seq,
    }
    subject = f"{event.personal_id}:{event.program}"
    audit(conn, SOURCE, "welfare.ended", "welfare", subject, detail)
    outbox(conn, "welfare.ended", f"person:{bhxh or event.personal_id}", detail)
    report.ended += 1
    report.cards_shortened += len(cards)


def apply_molisa_event(conn: Connection, entry: dict[str, Any], report: MolisaFeedReport) -> None:
    """Apply one feed event in the caller's transaction; a bad event is rejected and recorded."""
    try:
        event = _parse(entry)
        if event.kind == "added":
            _added(conn, event, report)
        else:
            _ended(conn, event, report)
    except EventRejected as error:
        report.rejected = [*report.rejected, reject(conn, SOURCE, entry, error)]


def follow_molisa(
    engine: Engine, client: FeedSource, page_size: int = 500, max_pages: int | None = None
) -> MolisaFeedReport:
    """Apply every MOLISA event after the stored cursor; returns what was done.

    Raises FeedUnavailable when MOLISA cannot be reached: rerun to continue from the last page
    applied (nothing is lost or applied twice)."""
    report = MolisaFeedReport()

    def apply(conn: Connection, entry: dict[str, Any]) -> None:
        apply_molisa_event(conn, entry, report)

    follow_feed(engine, client, SOURCE, apply, report, page_size, max_pages)
    return report


def molisa_client(base_url: str, **options: Any) -> FeedClient:
    """A FeedClient of MOLISA's feed at `base_url` (options as FeedClient's)."""
    return FeedClient(base_url, SOURCE, **options)


__all__ = [
    "PROGRAM_GROUPS",
    "SOURCE",
    "MolisaFeedReport",
    "apply_molisa_event",
    "follow_molisa",
    "molisa_client",
]
