"""The request/response services partners call, as queries over the register.

Each service takes a validated body and the information groups the caller holds for it, and
returns the answer, the subject it read (a BHXH code, for the person's own access history) and
the fields it disclosed. Nothing here knows about envelopes or HTTP. The card check lives in
cardcheck.py and visit submission in visits.py; both are re-exported here.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection, and_, false, func, or_, select, true

from nidb.domain.errors import DomainError
from nidb.domain.identifiers import BhxhCode, PersonalId
from nidb.exchange.answer import Answer
from nidb.exchange.cardcheck import CARD_RESULTS, card_answer, card_check
from nidb.exchange.catalogue import CONSENT_PURPOSES
from nidb.exchange.visits import submit_visits
from nidb.protocol.errors import RefusalCode, Refused
from nidb.store import models, models_web, people

__all__ = [
    "CARD_RESULTS",
    "Answer",
    "card_check",
    "employer_headcount",
    "participation_history",
    "person_summary",
    "resolve_person",
    "submit_visits",
]

_CARD = models.HealthCard
_PERSON = models.Person
_CITIZEN = models.Citizen


# --- person summary and participation history --------------------------------------------------


def require_consent(conn: Connection, bhxh_code: str, purpose: str) -> None:
    """Refuse (not granted) a read for a consent purpose unless the person's latest choice on
    its topic is "yes". The person is known by the personal ID their record was verified as;
    an unverified person cannot have consented through the portal."""
    topic = CONSENT_PURPOSES.get(purpose)
    if topic is None:
        return
    choice = models_web.ConsentChoice
    granted = conn.execute(
        select(choice.granted)
        .where(
            choice.personal_id.in_(people.verified_personal_ids(bhxh_code)),
            choice.topic == topic,
        )
        .order_by(choice.id.desc())
        .limit(1)
    ).scalar()
    if not granted:
        raise Refused(
            RefusalCode.NOT_GRANTED,
            f"the person has not consented to {topic} (purpose {purpose}); consent is given in "
            "the citizen portal",
        )


def resolve_person(conn: Connection, personal_id: str | None, bhxh_code: str | None) -> str:
    """The BHXH code of the person asked for; raises Refused (body invalid, not found).

    Asked by personal ID: the best-attested code of ``nidb.store.people`` (one verified as the
    ID, else one an open identity link ties to it).
    """
    try:
        if bhxh_code:
            code = BhxhCode.parse(bhxh_code).value
            found = conn.execute(
                select(_PERSON.bhxh_code).where(_PERSON.bhxh_code == code).limit(1)
            ).scalar()
        elif personal_id:
            pid = PersonalId.parse(personal_id).value
            found = next(iter(people.codes_of(conn, pid, include_open_links=True)), None)
        else:
            raise Refused(RefusalCode.BODY_INVALID, "personal_id or bhxh_code is required")
    except DomainError as error:
        raise Refused(RefusalCode.BODY_INVALID, f"{error.field}: {error.message_en}") from None
    if found is None:
        raise Refused(RefusalCode.SUBJECT_NOT_FOUND)
    return str(found)


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
        body["health_insurance"] = card_answer("000", card, today).get("card") if card else None
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
    by_employer = true() if employer_code is not None else false()
    by_enterprise = true() if enterprise_code is not None else false()
    condition = or_(
        and_(by_employer, table.employer_code == (employer_code or "")),
        and_(by_enterprise, table.enterprise_code == (enterprise_code or "")),
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
