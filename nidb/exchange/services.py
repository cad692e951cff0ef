"""The request/response services partners call, as queries over the register.

Each service takes a validated body and the information groups the caller holds for it, and
returns the answer, the subject it read (a BHXH code, for the person's own access history) and
the fields it disclosed. Nothing here knows about envelopes or HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from psycopg.rows import namedtuple_row
from sqlalchemy import Connection, and_, bindparam, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.postgresql import psycopg as postgresql_psycopg
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from nidb.domain.dates import parse_birth_date
from nidb.domain.errors import DomainError
from nidb.domain.gender import parse_gender
from nidb.domain.identifiers import BhxhCode, HealthCardCode, PersonalId
from nidb.domain.names import normalize_name, strip_diacritics
from nidb.exchange.errors import RefusalCode, Refused
from nidb.store import models


@dataclass(frozen=True, slots=True)
class Answer:
    """A service's answer with what the access log must know about it."""

    body: dict[str, Any]
    subject: str | None
    fields: tuple[str, ...]
    result: str = "ok"
    disclosed: tuple[tuple[str, str], ...] = ()
    """Further people whose data the answer discloses, as (BHXH code, fields): bulk extracts
    log one access entry per person, so each sees the read in their own history."""


# --- card check (tra cứu thẻ BHYT) -------------------------------------------------------------

CARD_RESULTS: dict[str, str] = {
    "000": "Thông tin thẻ chính xác",
    "010": "Thẻ hết giá trị sử dụng",
    "050": "Không thấy thông tin thẻ BHYT",
    "051": "Mã thẻ không đúng",
    "052": "Mã tỉnh cấp thẻ không đúng",
    "053": "Mã quyền lợi (mức hưởng) trên thẻ không đúng",
    "054": "Mã đối tượng trên thẻ không đúng",
    "060": "Thẻ sai họ tên",
    "061": "Thẻ sai họ tên (đúng ký tự đầu)",
    "070": "Thẻ sai ngày sinh",
    "080": "Thẻ sai giới tính",
    "110": "Thẻ đã thu hồi",
    "120": "Thẻ đã báo giảm (tạm dừng)",
}
"""Result codes of the hospitals' card check (maKetQua of the insurance's look-up service)."""

_CARD = models.HealthCard
_PERSON = models.Person
_CITIZEN = models.Citizen


def _card_result(code: str, card: Any | None, visit_date: date) -> dict[str, Any]:
    body: dict[str, Any] = {
        "result_code": code,
        "message_vi": CARD_RESULTS[code],
        "valid": code == "000",
    }
    if card is not None:
        body["card"] = {
            "card_code": card.card_code,
            "group_code": card.group_code,
            "benefit_level": card.benefit_level,
            "province_code": card.province_code,
            "facility_code": card.facility_code,
            "valid_from": card.valid_from.isoformat(),
            "valid_to": card.valid_to.isoformat(),
            "five_years_from": card.five_years_from.isoformat() if card.five_years_from else None,
            "five_years_reached": card.five_years_from is not None
            and card.five_years_from <= visit_date,
            "status": card.status,
        }
    return body


# One round trip per card check: the cards of the code, each joined to its holder's identity as
# verified in the population database where it is (a verified record first). Built once, so
# SQLAlchemy compiles it once.
_CARDS_WITH_HOLDER = (
    select(
        _CARD.card_code,
        _CARD.group_code,
        _CARD.benefit_level,
        _CARD.province_code,
        _CARD.facility_code,
        _CARD.valid_from,
        _CARD.valid_to,
        _CARD.five_years_from,
        _CARD.status,
        func.coalesce(_CITIZEN.full_name, _PERSON.full_name).label("holder_name"),
        func.coalesce(_CITIZEN.date_of_birth, _PERSON.date_of_birth).label("holder_birth"),
        func.coalesce(_CITIZEN.gender, _PERSON.gender).label("holder_gender"),
    )
    .select_from(_CARD)
    .outerjoin(_PERSON, _PERSON.bhxh_code == _CARD.bhxh_code)
    .outerjoin(_CITIZEN, _CITIZEN.personal_id == _PERSON.verified_personal_id)
    .where(_CARD.bhxh_code == bindparam("bhxh_code"))
    .order_by(_CARD.valid_from.desc(), _PERSON.verified_personal_id.is_(None), _PERSON.record_id)
)


# The same statement as PostgreSQL text, run straight on the driver's cursor as a prepared
# statement: card checks are the hottest path of the system (a hospital checks every visit), and
# this skips about 120 µs of SQLAlchemy result handling per check.
_CARDS_WITH_HOLDER_PG = _CARDS_WITH_HOLDER.compile(dialect=postgresql_psycopg.dialect()).string


def _cards_of(conn: Connection, bhxh_code: str) -> list[Any]:
    if conn.dialect.name == "postgresql":
        cursor = conn.connection.dbapi_connection.cursor(row_factory=namedtuple_row)  # type: ignore[union-attr]
        cursor.execute(_CARDS_WITH_HOLDER_PG, {"bhxh_code": bhxh_code}, prepare=True)
        return cursor.fetchall()
    return list(conn.execute(_CARDS_WITH_HOLDER, {"bhxh_code": bhxh_code}).all())


@dataclass(frozen=True, slots=True)
class _Holder:
    full_name: str
    date_of_birth: str
    gender: str | None


def _identity_result(holder: Any, full_name: str, birth: str, gender: str | None) -> str | None:
    try:
        claimed = normalize_name(full_name)
    except DomainError:
        return "060"
    if claimed != holder.full_name:
        if strip_diacritics(claimed[:1]).lower() == strip_diacritics(holder.full_name[:1]).lower():
            return "061"
        return "060"
    try:
        if not parse_birth_date(birth).agrees_with(parse_birth_date(holder.date_of_birth)):
            return "070"
    except DomainError:
        return "070"
    if gender is not None and holder.gender is not None:
        claimed_gender = parse_gender(gender)
        if claimed_gender is not None and claimed_gender != holder.gender:
            return "080"
    return None


def card_check(
    conn: Connection,
    card_code: str,
    full_name: str,
    date_of_birth: str,
    gender: str | None,
    visit_date: date,
) -> Answer:
    """Is this card valid for a visit today, and does the patient's identity match it?"""
    raw = card_code.strip().upper()
    presented: HealthCardCode | None = None
    try:
        if len(raw) == 15:
            presented = HealthCardCode.parse(raw)
            bhxh_code = presented.value[5:]
        else:
            bhxh_code = BhxhCode.parse(raw).value
    except DomainError:
        return Answer(_card_result("051", None, visit_date), None, (), "051")
    cards = _cards_of(conn, bhxh_code)
    if not cards:
        return Answer(_card_result("050", None, visit_date), None, (), "050")
    current = next((c for c in cards if c.valid_from <= visit_date <= c.valid_to), cards[0])
    code = _card_code_result(current, presented, visit_date)
    if code is None:
        first = cards[0]
        holder = (
            None
            if first.holder_name is None
            else _Holder(first.holder_name, first.holder_birth, first.holder_gender)
        )
        code = (
            "000"
            if holder is None
            else (_identity_result(holder, full_name, date_of_birth, gender) or "000")
        )
    return Answer(_card_result(code, current, visit_date), bhxh_code, ("card",), code)


def _card_code_result(card: Any, presented: HealthCardCode | None, visit_date: date) -> str | None:
    if card.status == "revoked":
        return "110"
    if card.status == "suspended":
        return "120"
    if not card.valid_from <= visit_date <= card.valid_to or card.status == "expired":
        return "010"
    if presented is not None:
        value = presented.value
        if value[:2] != card.group_code:
            return "054"
        if int(value[2]) != card.benefit_level:
            return "053"
        if value[3:5] != card.province_code:
            return "052"
    return None


# --- person summary and participation history --------------------------------------------------


def resolve_person(conn: Connection, personal_id: str | None, bhxh_code: str | None) -> str:
    """The BHXH code of the person asked for; raises Refused (body invalid, not found)."""
    try:
        if bhxh_code:
            code = BhxhCode.parse(bhxh_code).value
            found = conn.execute(
                select(_PERSON.bhxh_code).where(_PERSON.bhxh_code == code).limit(1)
            ).first()
        elif personal_id:
            pid = PersonalId.parse(personal_id).value
            found = (
                conn.execute(
                    select(_PERSON.bhxh_code).where(_PERSON.verified_personal_id == pid).limit(1)
                ).first()
                or conn.execute(
                    select(models.IdentityLink.bhxh_code)
                    .where(
                        models.IdentityLink.personal_id == pid,
                        models.IdentityLink.valid_to.is_(None),
                    )
                    .limit(1)
                ).first()
            )
        else:
            raise Refused(RefusalCode.BODY_INVALID, "personal_id or bhxh_code is required")
    except DomainError as error:
        raise Refused(RefusalCode.BODY_INVALID, f"{error.field}: {error.message_en}") from None
    if found is None:
        raise Refused(RefusalCode.SUBJECT_NOT_FOUND)
    return str(found[0])


def _open_period(conn: Connection, bhxh_code: str, scheme: str) -> Any | None:
    table = models.ParticipationPeriod
    return conn.execute(
        select(table.employer_code, table.participant_type, table.start_month)
        .where(table.bhxh_code == bhxh_code, table.scheme == scheme, table.end_month.is_(None))
        .order_by(table.start_month.desc())
        .limit(1)
    ).first()


def _months(conn: Connection, bhxh_code: str, column: Any) -> int:
    table = models.Contribution
    return int(
        conn.execute(
            select(func.count()).where(table.bhxh_code == bhxh_code, column > 0)
        ).scalar_one()
    )


def person_summary(
    conn: Connection, bhxh_code: str, groups: tuple[str, ...], today: date
) -> Answer:
    """A person's summary, one section per information group the caller holds."""
    body: dict[str, Any] = {"bhxh_code": bhxh_code}
    fields: list[str] = []
    person = conn.execute(
        select(_PERSON.__table__, _CITIZEN.household_id, _CITIZEN.status.label("life_status"))
        .outerjoin(_CITIZEN, _CITIZEN.personal_id == _PERSON.verified_personal_id)
        .where(_PERSON.bhxh_code == bhxh_code)
        .order_by(_PERSON.verified_personal_id.is_(None), _PERSON.record_id)
        .limit(1)
    ).first()
    if person is None:
        raise Refused(RefusalCode.SUBJECT_NOT_FOUND)
    record = person
    if "a" in groups:
        body["identity"] = {
            "full_name": record.full_name,
            "date_of_birth": record.date_of_birth,
            "gender": record.gender,
            "personal_id": record.verified_personal_id,
            "birth_province": record.birth_province,
            "address": record.address,
            "verification_status": record.verification_status,
            "life_status": person.life_status,
        }
        fields.append("identity")
    if "c" in groups:
        body["household"] = {"household_id": person.household_id}
        fields.append("household")
    if "d" in groups:
        period = _open_period(conn, bhxh_code, "BHXH")
        body["social_insurance"] = {
            "participating": period is not None,
            "employer_code": period.employer_code if period else None,
            "participant_type": period.participant_type if period else None,
            "months_contributed": _months(conn, bhxh_code, models.Contribution.bhxh_amount),
        }
        fields.append("social_insurance")
    if "dd" in groups:
        card = conn.execute(
            select(_CARD)
            .where(_CARD.bhxh_code == bhxh_code)
            .order_by(_CARD.valid_from.desc())
            .limit(1)
        ).first()
        body["health_insurance"] = _card_result("000", card, today).get("card") if card else None
        fields.append("health_insurance")
    if "e" in groups:
        period = _open_period(conn, bhxh_code, "BHTN")
        body["unemployment_insurance"] = {
            "participating": period is not None,
            "months_contributed": _months(conn, bhxh_code, models.Contribution.bhtn_amount),
        }
        fields.append("unemployment_insurance")
    return Answer(body, bhxh_code, tuple(fields))


_SCHEME_GROUP = {"BHXH": "d", "BHYT": "dd", "BHTN": "e"}


def participation_history(
    conn: Connection, bhxh_code: str, groups: tuple[str, ...], limit_months: int = 600
) -> Answer:
    """Periods of participation per scheme and monthly contributions, filtered by group."""
    periods_table = models.ParticipationPeriod
    schemes = [scheme for scheme, group in _SCHEME_GROUP.items() if group in groups]
    periods = conn.execute(
        select(periods_table.__table__)
        .where(periods_table.bhxh_code == bhxh_code, periods_table.scheme.in_(schemes))
        .order_by(periods_table.start_month, periods_table.scheme)
    ).all()
    body: dict[str, Any] = {
        "bhxh_code": bhxh_code,
        "periods": [
            {
                "scheme": p.scheme,
                "employer_code": p.employer_code,
                "participant_type": p.participant_type,
                "start_month": p.start_month.isoformat()[:7],
                "end_month": p.end_month.isoformat()[:7] if p.end_month else None,
            }
            for p in periods
        ],
    }
    amounts = {"d": "bhxh_amount", "dd": "bhyt_amount", "e": "bhtn_amount"}
    shown = [column for group, column in amounts.items() if group in groups]
    table = models.Contribution
    rows = conn.execute(
        select(table.__table__)
        .where(table.bhxh_code == bhxh_code)
        .order_by(table.period.desc(), table.employer_code)
        .limit(limit_months)
    ).all()
    body["contributions"] = [
        {
            "period": row.period.isoformat()[:7],
            "employer_code": row.employer_code,
            **({"wage": row.wage} if "d" in groups else {}),
            **{column: getattr(row, column) for column in shown},
        }
        for row in rows
    ]
    fields = ["periods:" + "+".join(schemes), "contributions:" + "+".join(shown)]
    return Answer(body, bhxh_code, tuple(fields))


# --- employers -----------------------------------------------------------------------------------


def employer_headcount(
    conn: Connection, employer_code: str | None, enterprise_code: str | None
) -> Answer:
    """An employer's registered and currently insured workers."""
    table = models.Employer
    if not employer_code and not enterprise_code:
        raise Refused(RefusalCode.BODY_INVALID, "employer_code or enterprise_code is required")
    condition = or_(
        and_(employer_code is not None, table.employer_code == (employer_code or "")),
        and_(enterprise_code is not None, table.enterprise_code == (enterprise_code or "")),
    )
    employer = conn.execute(select(table.__table__).where(condition).limit(1)).first()
    if employer is None:
        raise Refused(RefusalCode.SUBJECT_NOT_FOUND)
    periods = models.ParticipationPeriod
    insured = conn.execute(
        select(func.count(func.distinct(periods.bhxh_code))).where(
            periods.employer_code == employer.employer_code,
            periods.scheme == "BHXH",
            periods.end_month.is_(None),
        )
    ).scalar_one()
    body = {
        "employer_code": employer.employer_code,
        "enterprise_code": employer.enterprise_code,
        "name": employer.name,
        "province": employer.province,
        "status": employer.status,
        "registered_workers": employer.registered_workers,
        "insured_workers": int(insured),
    }
    return Answer(body, None, ("employer",))


# --- visits from hospitals -----------------------------------------------------------------------


def _naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def submit_visits(conn: Connection, sender: str, visits: list[Any]) -> Answer:
    """Store a hospital's visit summaries; each gets accepted, duplicate or rejected (why).

    A hospital may only send visits of its own facility: the five digits that end its
    subsystem code (``VN/GOV/BYT/BV-01001`` sends for facility ``01001``).
    """
    facility = sender.rsplit("-", 1)[-1] if "-" in sender else ""
    results: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    for visit in visits:
        reason = _visit_problem(visit, facility)
        if reason is not None:
            results.append({"visit_id": visit.visit_id, "result": "rejected", "reason": reason})
            continue
        raw = visit.card_code.strip().upper()
        rows.append(
            {
                "visit_id": visit.visit_id,
                "card_code": raw,
                "bhxh_code": raw[-10:],
                "facility_code": visit.facility_code,
                "admitted_at": _naive_utc(visit.admitted_at),
                "discharged_at": _naive_utc(visit.discharged_at),
                "inpatient": visit.inpatient,
                "icd10": visit.icd10.replace(".", ""),
                "total_cost": visit.total_cost,
                "insurer_paid": visit.insurer_paid,
                "patient_paid": visit.patient_paid,
            }
        )
    stored: set[str] = set()
    if rows:
        table = models.HealthVisit.__table__
        dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        statement = dialect_insert(table).on_conflict_do_nothing().returning(table.c.visit_id)
        stored = set(conn.execute(statement, rows).scalars())
    for row in rows:
        results.append(
            {
                "visit_id": row["visit_id"],
                "result": "accepted" if row["visit_id"] in stored else "duplicate",
            }
        )
    counts = {
        kind: sum(1 for r in results if r["result"] == kind)
        for kind in ("accepted", "duplicate", "rejected")
    }
    return Answer({"results": results, **counts}, None, ("visits",))


def _visit_problem(visit: Any, facility: str) -> str | None:
    if visit.facility_code != facility:
        return "FACILITY_NOT_SENDER"
    raw = visit.card_code.strip().upper()
    try:
        HealthCardCode.parse(raw) if len(raw) == 15 else BhxhCode.parse(raw)
    except DomainError:
        return "CARD_CODE_INVALID"
    if visit.discharged_at < visit.admitted_at:
        return "DISCHARGE_BEFORE_ADMISSION"
    if visit.insurer_paid + visit.patient_paid > visit.total_cost:
        return "PAID_MORE_THAN_COST"
    return None
