"""The employers' signed JSON API (``/employers/v1/…``): declarations and their status.

Each request is a signed envelope (INTERCHANGE.md, "Partner messages") from an enrolled
employer, or an I-VAN provider signing with the employer's key; each reply is an envelope signed
by nidb. Refusals of the envelope carry the partner protocol's codes (``nidb.protocol.errors``)
with their HTTP status; a declaration whose content is refused answers 422 with every row's
error. The gate (``nidb.employers.gate``), the declaration and its audit entries are one
transaction: a refused envelope leaves nothing, not even its message id.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, MutableMapping
from datetime import UTC, datetime
from typing import Any

import anyio.to_thread
from anyio import CapacityLimiter
from fastapi import APIRouter, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy import Connection, Engine

from nidb.api.exchange import REFUSALS
from nidb.api.observe import note_outcome
from nidb.api.schemas import EnvelopeDoc
from nidb.employers.declarations import submit
from nidb.employers.gate import EmployerAdmission, admit
from nidb.employers.queries import declaration
from nidb.protocol.employers import (
    DECLARATION_PATH,
    DECLARATION_SERVICE,
    EMPLOYER_PURPOSE,
    STATUS_PATH,
    STATUS_SERVICE,
)
from nidb.protocol.envelope import MEMBER_ID, NIDB_MEMBER, new_header, sign
from nidb.protocol.errors import RefusalCode, Refused
from nidb.protocol.keys import SigningKey
from nidb.settings import get_settings
from nidb.store.audit import write_audit

__all__ = ["mount", "router"]

MAX_BODY_BYTES = 2 * 1024 * 1024  # 1,000 workers of a declaration fit in well under 1 MB
UNKNOWN_MEMBER = "XX/UNKNOWN/UNKNOWN/UNKNOWN"

router = APIRouter(tags=["employers"])

_ENVELOPE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["header", "body", "signature"],
    "properties": {
        "header": {
            "type": "object",
            "required": ["message_id", "sender", "receiver", "service", "purpose", "issued_at"],
            "properties": {
                "message_id": {"type": "string", "format": "uuid"},
                "sender": {"type": "string", "example": "VN/DN/TA0001A/KBDT"},
                "receiver": {"type": "string", "example": NIDB_MEMBER},
                "service": {"type": "string", "example": DECLARATION_SERVICE},
                "purpose": {"type": "string", "example": EMPLOYER_PURPOSE},
                "issued_at": {"type": "string", "format": "date-time"},
            },
        },
        "body": {"type": "object"},
        "signature": {"type": "string", "description": "detached compact JWS, EdDSA"},
    },
}
_DECLARATION_EXAMPLE = {
    "declaration_no": "D02-2026-11-001",
    "kind": "increase",
    "month": "2026-11",
    "workers": [
        {
            "personal_id": "001090000101",
            "full_name": "Trần Thị Bình",
            "date_of_birth": "1990-05-12",
            "wage": 9000000,
            "position": "Kế toán",
            "contract_type": "indefinite",
            "full_time": True,
            "facility_code": "01001",
        }
    ],
}


_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": EnvelopeDoc, "description": codes}
    for status, codes in {
        **REFUSALS,
        422: "E_BODY_INVALID; or the declaration refused: `errors` names row, field, value, rule",
    }.items()
}
"""What a signed employer service answers besides 200: the envelope's refusals, signed."""


def _openapi(summary_body: dict[str, Any]) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": _ENVELOPE_SCHEMA,
                    "example": {"header": {}, "body": summary_body, "signature": "…"},
                }
            },
        }
    }


def _reply(
    key: SigningKey, service: str, to: Any, body: dict[str, Any], status: int
) -> JSONResponse:
    sender = getattr(to, "sender", None) or UNKNOWN_MEMBER
    if not MEMBER_ID.fullmatch(sender):
        sender = UNKNOWN_MEMBER
    purpose = getattr(to, "purpose", None) or EMPLOYER_PURPOSE
    header = new_header(
        NIDB_MEMBER, sender, service, purpose, datetime.now(UTC), getattr(to, "message_id", None)
    )
    return JSONResponse(sign(header, body, key), status_code=status)


Handler = Callable[[Connection, EmployerAdmission], tuple[int, dict[str, Any]]]


def _handle(
    engine: Engine,
    key: SigningKey,
    service: str,
    raw: bytes,
    handler: Handler,
    scope: MutableMapping[str, Any],
) -> JSONResponse:
    header = None
    try:
        if len(raw) > MAX_BODY_BYTES:
            raise Refused(RefusalCode.MALFORMED, f"more than {MAX_BODY_BYTES} bytes")
        try:
            data = json.loads(raw)
        except ValueError:
            raise Refused(RefusalCode.MALFORMED, "not JSON") from None
        with engine.begin() as conn:
            admission = admit(conn, data, service=service)
            header = admission.envelope.header
            status, body = handler(conn, admission)
    except Refused as refused:
        with engine.begin() as conn:  # who tried what, without the body (personal data)
            write_audit(
                conn,
                actor="api:employers",
                action="employer.submission_refused",
                subject_type="message",
                subject_id=str(refused.code),
                purpose=EMPLOYER_PURPOSE,
                detail={"service": service, "detail": (refused.detail or "")[:300]},
            )
        note_outcome(scope, service, str(refused.code))
        return _reply(key, service, header, refused.as_body(), refused.status)
    # a declaration answered with its errors (422) was read and judged: not a refusal
    note_outcome(scope, service, "ok" if status < 400 else "rejected")
    return _reply(key, service, header, body, status)


def _declare(conn: Connection, admission: EmployerAdmission) -> tuple[int, dict[str, Any]]:
    outcome = submit(
        conn,
        admission.employer_code,
        admission.body,
        actor=f"employer:{admission.employer_code}",
        channel="api",
        message_id=admission.envelope.header.message_id,
    )
    return (200 if outcome.status == "applied" else 422), outcome.as_json()


def _status(conn: Connection, admission: EmployerAdmission) -> tuple[int, dict[str, Any]]:
    number = admission.body.get("declaration_no")
    if not isinstance(number, str):
        raise Refused(RefusalCode.BODY_INVALID, "body.declaration_no must be a string")
    found = declaration(conn, admission.employer_code, number)
    if found is None:
        raise Refused(RefusalCode.SUBJECT_NOT_FOUND, f"no declaration {number}")
    return 200, {
        key: found[key]
        for key in ("declaration_no", "kind", "status", "errors", "flags", "results", "attempts")
    } | {"decided_at": found["decided_at"].isoformat()}


@router.post(
    DECLARATION_PATH,
    summary="Nộp hồ sơ khai báo lao động (D02-LT / TK1-TS), có ký số",
    description=(
        "A signed envelope whose body is a declaration (docs/employers.md): `register_unit`, "
        "`increase`, `decrease`, `salary_change` or `correction`. 200: applied (or the same "
        "declaration again: `repeated`); 422: refused, `errors` names row, field, value and "
        "rule in Vietnamese and English; 400/401/403/409: the envelope is refused "
        "(E_MALFORMED, E_UNSIGNED, E_BAD_SIGNATURE, E_UNKNOWN_SENDER, E_SENDER_SUSPENDED, "
        "E_STALE, E_FUTURE, E_REPLAY). Replies are signed by nidb."
    ),
    response_model=EnvelopeDoc,
    responses=_RESPONSES,
    openapi_extra=_openapi(_DECLARATION_EXAMPLE),
)
async def post_declaration(request: Request) -> JSONResponse:
    raw = await request.body()
    app = request.app
    state = app.state
    limiter = getattr(state, "declaration_limiter", None)
    if limiter is None:  # made in the worker's own event loop, on its first declaration
        limiter = state.declaration_limiter = CapacityLimiter(get_settings().declaration_threads)
    return await anyio.to_thread.run_sync(
        functools.partial(
            _handle, state.engine, state.key, DECLARATION_SERVICE, raw, _declare, request.scope
        ),
        limiter=limiter,
    )


@router.post(
    STATUS_PATH,
    summary="Tra cứu trạng thái hồ sơ khai báo theo số hồ sơ của đơn vị",
    description=(
        'A signed envelope with body `{"declaration_no": …}`; answers the declaration\'s '
        "status, errors, flags and results (404 E_SUBJECT_NOT_FOUND if unknown)."
    ),
    response_model=EnvelopeDoc,
    responses=_RESPONSES,
    openapi_extra=_openapi({"declaration_no": "D02-2026-11-001"}),
)
async def post_status(request: Request) -> JSONResponse:
    raw = await request.body()
    app = request.app
    return await run_in_threadpool(
        _handle, app.state.engine, app.state.key, STATUS_SERVICE, raw, _status, request.scope
    )


def mount(app: FastAPI) -> None:
    """Add the employers' API to ``app``."""
    app.include_router(router)
