"""The claims services partners call through the exchange (mounted by nidb.api)."""

from __future__ import annotations

from typing import Any

from pydantic import Field
from sqlalchemy import Connection

from nidb.claims.intake import submit_claims
from nidb.exchange.answer import Answer
from nidb.exchange.bodies import Strict
from nidb.exchange.catalogue import SERVICES
from nidb.exchange.gate import Admission
from nidb.exchange.runtime import Route

MAX_ENVELOPE_CHARS = 240_000
"""The XML envelope fits the exchange's 256 KB message limit with its JSON around it."""


class ClaimsSubmitBody(Strict):
    """An XML 130 envelope (GIAMDINHHS) as text: one facility, up to 100 claims."""

    giamdinhhs: str = Field(min_length=1, max_length=MAX_ENVELOPE_CHARS)


def _submit(conn: Connection, body: Any, admission: Admission) -> Answer:
    return submit_claims(conn, admission.header.sender, body.giamdinhhs)


def exchange_routes() -> dict[str, Route]:
    """The claims services, for `nidb.exchange.runtime.ExchangeRuntime`."""
    return {
        "claims.submit/v1": Route(
            SERVICES["claims.submit/v1"], ClaimsSubmitBody, _submit, writes=True
        ),
    }
