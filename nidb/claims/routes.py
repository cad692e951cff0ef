"""The claims services partners call through the exchange (mounted by nidb.api)."""

from __future__ import annotations

from typing import Any

from pydantic import Field
from sqlalchemy import Connection

from nidb.claims.intake import sender_facility, submit_claims
from nidb.exchange.answer import Answer
from nidb.exchange.bodies import CardCheckBody, Strict
from nidb.exchange.catalogue import SERVICES
from nidb.exchange.gate import Admission
from nidb.exchange.runtime import Route

MAX_ENVELOPE_CHARS = 240_000
"""The XML envelope fits the exchange's 256 KB message limit with its JSON around it."""


class ClaimsSubmitBody(Strict):
    """An XML 130 envelope (GIAMDINHHS) as text: one facility, up to 100 claims."""

    giamdinhhs: str = Field(min_length=1, max_length=MAX_ENVELOPE_CHARS)


class SettlementBody(Strict):
    """The quarter whose settlement the facility downloads."""

    year: int = Field(ge=2000, le=2100)
    quarter: int = Field(ge=1, le=4)


def _settlement(conn: Connection, body: Any, admission: Admission) -> Answer:
    import base64

    from nidb.claims.settlement import settlement, statement_pdf

    facility = sender_facility(admission.header.sender)
    data = settlement(conn, facility, body.year, body.quarter)
    pdf = base64.b64encode(statement_pdf(data)).decode("ascii")
    return Answer({**data.as_dict(), "statement_pdf": pdf}, None, ("settlement",))


class HistoryBody(Strict):
    """A patient (personal ID or BHXH code) and how many months back."""

    personal_id: str | None = Field(default=None, min_length=9, max_length=12)
    bhxh_code: str | None = Field(default=None, min_length=10, max_length=10)
    months: int = Field(default=12, ge=1, le=60)


def _history(conn: Connection, body: Any, admission: Admission) -> Answer:
    from nidb.claims.history import visit_history
    from nidb.exchange.services import require_consent, resolve_person

    code = resolve_person(conn, body.personal_id, body.bhxh_code)
    require_consent(conn, code, admission.header.purpose)
    return visit_history(conn, code, body.months, admission.groups, admission.today)


def _fhir_coverage(conn: Connection, body: Any, admission: Admission) -> Answer:
    from nidb.claims.fhir import fhir_card_check

    return fhir_card_check(conn, body, admission.today)


def _fhir_visits(conn: Connection, body: Any, admission: Admission) -> Answer:
    from nidb.claims.fhir import fhir_visits
    from nidb.exchange.services import require_consent, resolve_person

    code = resolve_person(conn, body.personal_id, body.bhxh_code)
    require_consent(conn, code, admission.header.purpose)
    return fhir_visits(conn, code, body.months, admission.groups, admission.today)


def _submit(conn: Connection, body: Any, admission: Admission) -> Answer:
    return submit_claims(conn, admission.header.sender, body.giamdinhhs)


def exchange_routes() -> dict[str, Route]:
    """The claims services, for `nidb.exchange.runtime.ExchangeRuntime`."""
    return {
        "claims.submit/v1": Route(
            SERVICES["claims.submit/v1"], ClaimsSubmitBody, _submit, writes=True
        ),
        "visits.history/v1": Route(SERVICES["visits.history/v1"], HistoryBody, _history),
        "claims.settlement/v1": Route(
            SERVICES["claims.settlement/v1"], SettlementBody, _settlement
        ),
        "fhir.coverage/v1": Route(SERVICES["fhir.coverage/v1"], CardCheckBody, _fhir_coverage),
        "fhir.visits/v1": Route(SERVICES["fhir.visits/v1"], HistoryBody, _fhir_visits),
    }
