"""The hospitals' card check (tra cứu thẻ BHYT): is the card valid today, is it the patient's?

One prepared statement per check (the cards of the BHXH code joined to the holder as verified
in the population database); result codes as the insurance's look-up service gives them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple, Protocol

from psycopg.rows import namedtuple_row
from sqlalchemy import Connection, Select, String, any_, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import asyncpg as postgresql_asyncpg
from sqlalchemy.dialects.postgresql import psycopg as postgresql_psycopg

from nidb.domain.dates import parse_birth_date
from nidb.domain.errors import DomainError
from nidb.domain.gender import parse_gender
from nidb.domain.identifiers import BhxhCode, HealthCardCode
from nidb.domain.names import normalize_name, strip_diacritics
from nidb.exchange.answer import Answer
from nidb.store import models
from nidb.store.drivers import psycopg_connection

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


def card_answer(code: str, card: Any | None, visit_date: date) -> dict[str, Any]:
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


def _cards_with_holder(*extra: Any) -> Select[*tuple[Any, ...]]:
    """The cards of a code, each joined to its holder's identity as verified in the population
    database where it is (a verified record first); ``extra`` columns after the twelve."""
    return (
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
            *extra,
        )
        .select_from(_CARD)
        .outerjoin(_PERSON, _PERSON.bhxh_code == _CARD.bhxh_code)
        .outerjoin(_CITIZEN, _CITIZEN.personal_id == _PERSON.verified_personal_id)
        .order_by(
            _CARD.valid_from.desc(), _PERSON.verified_personal_id.is_(None), _PERSON.record_id
        )
    )


# One round trip per card check. Built once, so SQLAlchemy compiles it once.
_CARDS_WITH_HOLDER = _cards_with_holder().where(_CARD.bhxh_code == bindparam("bhxh_code"))


# The same statement as PostgreSQL text, run straight on the driver's cursor as a prepared
# statement: card checks are the hottest path of the system (a hospital checks every visit), and
# this skips about 120 µs of SQLAlchemy result handling per check.
# (SQLAlchemy's dialect classes have unannotated constructors: no-untyped-call.)
_PG_DIALECT = postgresql_psycopg.dialect()  # type: ignore[no-untyped-call]
_CARDS_WITH_HOLDER_PG = _CARDS_WITH_HOLDER.compile(dialect=_PG_DIALECT).string


# For the event-loop path (nidb.exchange.pgasync): the same statement for the cards of several
# codes at once (the checks that arrived together share one round trip), each row ending with
# the code it was found under.
_ASYNCPG_DIALECT = postgresql_asyncpg.dialect()  # type: ignore[no-untyped-call]
CARDS_OF_CODES_ASYNCPG = (
    _cards_with_holder(_CARD.bhxh_code)
    .where(_CARD.bhxh_code == any_(bindparam("bhxh_codes", type_=ARRAY(String))))
    .compile(dialect=_ASYNCPG_DIALECT)
    .string
)


class CardRow(NamedTuple):
    """One row of `_CARDS_WITH_HOLDER`, by name (asyncpg's records are read by key)."""

    card_code: str
    group_code: str
    benefit_level: int
    province_code: str
    facility_code: str
    valid_from: date
    valid_to: date
    five_years_from: date | None
    status: str
    holder_name: str | None
    holder_birth: str | None
    holder_gender: str | None


def _cards_of(conn: Connection, bhxh_code: str) -> list[Any]:
    if conn.dialect.name == "postgresql":
        cursor = psycopg_connection(conn).cursor(row_factory=namedtuple_row)
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
    presented = read_card_code(card_code)
    if isinstance(presented, Answer):
        return presented
    bhxh_code, card = presented
    cards = _cards_of(conn, bhxh_code)
    return card_verdict(cards, bhxh_code, card, full_name, date_of_birth, gender, visit_date)


class CardReader(Protocol):
    """Where the event-loop path reads cards from (`nidb.exchange.pgasync.AsyncCardReader`)."""

    async def cards(self, bhxh_code: str) -> Sequence[Any]: ...


async def card_check_async(
    reader: CardReader,
    card_code: str,
    full_name: str,
    date_of_birth: str,
    gender: str | None,
    visit_date: date,
) -> Answer:
    """`card_check` with the cards read on the event loop."""
    presented = read_card_code(card_code)
    if isinstance(presented, Answer):
        return presented
    bhxh_code, card = presented
    cards = await reader.cards(bhxh_code)
    return card_verdict(cards, bhxh_code, card, full_name, date_of_birth, gender, visit_date)


def read_card_code(card_code: str) -> tuple[str, HealthCardCode | None] | Answer:
    """The BHXH code a presented card (or bare BHXH) code names, or the 051 answer."""
    raw = card_code.strip().upper()
    try:
        if len(raw) == 15:
            presented = HealthCardCode.parse(raw)
            return presented.value[5:], presented
        return BhxhCode.parse(raw).value, None
    except DomainError:
        return Answer(card_answer("051", None, date.today()), None, (), "051")


def card_verdict(
    cards: Sequence[Any],
    bhxh_code: str,
    presented: HealthCardCode | None,
    full_name: str,
    date_of_birth: str,
    gender: str | None,
    visit_date: date,
) -> Answer:
    """The answer for the cards found under ``bhxh_code`` (rows of `_CARDS_WITH_HOLDER`)."""
    if not cards:
        return Answer(card_answer("050", None, visit_date), None, (), "050")
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
    return Answer(card_answer(code, current, visit_date), bhxh_code, ("card",), code)


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
