"""Staff API: the identity review queue and a person's access history (bearer tokens).

A token carries a role and an area, as a staff account does, and the API applies the console's
rules: what a role may do is ``nidb.domain.staff.can``; which records an area covers is
``nidb.web.console.scope`` (an item outside the area answers 404, as one that does not exist).
Every person a list or a page shows is written to the access log and the audit log.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine, select
from starlette.concurrency import run_in_threadpool

from nidb.accesslog import AccessLog, access_history, staff_read
from nidb.api.schemas import (
    AccessOut,
    DecisionIn,
    ErrorDoc,
    FieldOut,
    RejectIn,
    ReviewDetailOut,
    ReviewItemOut,
)
from nidb.domain.errors import DomainError
from nidb.domain.identifiers import BhxhCode
from nidb.domain.review import ReviewKind
from nidb.domain.staff import StaffAction, can, roles_allowed
from nidb.exchange.tokens import Principal, authenticate
from nidb.identity import review
from nidb.store import models
from nidb.web.console.queries import item_bhxh_code
from nidb.web.console.scope import scope_of


def _responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The error answers an operation gives, as it gives them (all ``ErrorDoc``)."""
    words = {
        400: "the decision cannot be made (E_…, named)",
        401: "no valid bearer token (E_UNAUTHENTICATED)",
        403: "the token's role may not do this (E_FORBIDDEN)",
        404: "no such item or person in the token's area (as if absent)",
        409: "already decided, no candidate, or the record is gone",
        422: "invalid input (E_INVALID, E_BAD_FILTER, E_NOTEREQUIRED, E_NOTEINVALID, …)",
    }
    return {status: {"model": ErrorDoc, "description": words[status]} for status in statuses}


router = APIRouter(prefix="/staff/v1", tags=["staff"], responses=_responses(401, 403, 422))
_bearer = HTTPBearer(auto_error=False)

_UNAUTHORISED = {
    "code": "E_UNAUTHENTICATED",
    "message_vi": "Cần đăng nhập bằng mã truy cập hợp lệ",
    "message_en": "a valid bearer token is required",
}


def _error(status: int, code: str, message_vi: str, message_en: str) -> HTTPException:
    return HTTPException(
        status, detail={"code": code, "message_vi": message_vi, "message_en": message_en}
    )


async def principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The staff member behind the bearer token, or 401."""
    if credentials is None:
        raise HTTPException(401, detail=_UNAUTHORISED, headers={"WWW-Authenticate": "Bearer"})
    found = await run_in_threadpool(authenticate, request.app.state.engine, credentials.credentials)
    if found is None:
        raise HTTPException(401, detail=_UNAUTHORISED, headers={"WWW-Authenticate": "Bearer"})
    return found


def allowed_to(action: StaffAction) -> Any:
    """A dependency: the token's principal, if its role may do ``action`` (the one rule table
    of ``nidb.domain.staff``, shared with the staff console); else 403."""

    async def check(who: Annotated[Principal, Depends(principal)]) -> Principal:
        if not can(who.role, action):
            raise _error(
                403,
                "E_FORBIDDEN",
                "Vai trò của bạn không được làm việc này",
                f"role {who.role} may not do this (needs {' or '.join(roles_allowed(action))})",
            )
        return who

    return check


ItemId = Annotated[int, Path(ge=1, le=2**63 - 1, description="số của mục đối soát")]
QueueReader = Annotated[Principal, Depends(allowed_to(StaffAction.READ_REVIEW_QUEUE))]
Reviewer = Annotated[Principal, Depends(allowed_to(StaffAction.DECIDE_REVIEW_ITEM))]
Auditor = Annotated[Principal, Depends(allowed_to(StaffAction.READ_ACCESS_LOG))]


def _item(row: review.ReviewRow) -> ReviewItemOut:
    return ReviewItemOut(
        id=row.id,
        record_id=row.record_id,
        kind=row.kind,
        candidate_personal_id=row.candidate_personal_id,
        score=row.score,
        reasons=list(row.reasons),
        status=row.status,
        created_at=row.created_at.isoformat() if row.created_at else None,
        decided_by=row.decided_by,
        decided_at=row.decided_at.isoformat() if row.decided_at else None,
        note=row.note,
        full_name=row.full_name,
    )


def _review_error(error: review.ReviewError) -> HTTPException:
    status = {
        review.ItemNotFound: 404,
        review.ItemAlreadyDecided: 409,
        review.NoteRequired: 422,
        review.NoteInvalid: 422,
        review.NoCandidate: 409,
        review.RecordNotFound: 409,
    }.get(type(error), 400)
    return _error(status, f"E_{type(error).__name__.upper()}", error.message_vi, error.message_en)


@router.get("/review/items", response_model=list[ReviewItemOut], summary="Hàng đợi đối soát")
async def list_review_items(
    request: Request,
    who: QueueReader,
    status: Annotated[str | None, Query(pattern="^(open|accepted|rejected)$")] = "open",
    kind: Annotated[ReviewKind | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> list[ReviewItemOut]:
    scope = scope_of(who)
    try:
        rows = await run_in_threadpool(
            lambda: review.read_items(
                request.app.state.engine,
                actor=who.actor,
                status=status,
                kind=kind.value if kind is not None else None,
                limit=limit,
                offset=offset,
                area=None if scope.sees_all else scope.bhxh_condition,
            )
        )
    except ValueError as error:
        raise _error(422, "E_BAD_FILTER", "Bộ lọc không hợp lệ", str(error)) from None
    log: AccessLog = request.app.state.access_log
    await asyncio.gather(
        *(
            log.record_async(
                staff_read(
                    who.actor, who.role, "review.list/v1", code, "identity", {"item": row.id}
                )
            )
            for row, code in rows
        )
    )
    return [_item(row) for row, _ in rows]


async def _in_area(request: Request, who: Principal, item_id: int) -> None:
    """404 unless the item exists and its record lies in the token's area (as the console)."""
    exists, code = await run_in_threadpool(item_bhxh_code, request.app.state.engine, item_id)
    scope = scope_of(who)
    if not exists or not (scope.sees_all or scope.allows_bhxh_code(code)):
        raise _review_error(review.ItemNotFound(item_id))


@router.get(
    "/review/items/{item_id}",
    response_model=ReviewDetailOut,
    summary="Xem so sánh",
    responses=_responses(404),
)
async def get_review_item(item_id: ItemId, request: Request, who: QueueReader) -> ReviewDetailOut:
    engine = request.app.state.engine
    await _in_area(request, who, item_id)
    try:
        detail = await run_in_threadpool(review.get_item, engine, item_id, actor=who.actor)
    except review.ReviewError as error:
        raise _review_error(error) from None
    subject = (detail.record or {}).get("bhxh_code")
    await _log_read(request, who, "review.view/v1", subject, "identity", {"item": item_id})
    return ReviewDetailOut(
        item=_item(detail.item),
        fields=[
            FieldOut(
                field=f.field,
                label=f.label,
                record=f.record,
                registry=f.registry,
                reasons=list(f.reasons),
                agrees=f.agrees,
            )
            for f in detail.fields
        ],
    )


@router.post(
    "/review/items/{item_id}/accept",
    response_model=ReviewItemOut,
    summary="Chấp nhận",
    responses=_responses(400, 404, 409),
)
async def accept_review_item(
    item_id: ItemId, decision: DecisionIn, request: Request, who: Reviewer
) -> ReviewItemOut:
    await _in_area(request, who, item_id)
    try:
        row = await run_in_threadpool(
            review.accept, request.app.state.engine, item_id, who.actor, decision.note
        )
    except review.ReviewError as error:
        raise _review_error(error) from None
    return _item(row)


@router.post(
    "/review/items/{item_id}/reject",
    response_model=ReviewItemOut,
    summary="Từ chối",
    responses=_responses(400, 404, 409),
)
async def reject_review_item(
    item_id: ItemId, decision: RejectIn, request: Request, who: Reviewer
) -> ReviewItemOut:
    await _in_area(request, who, item_id)
    try:
        row = await run_in_threadpool(
            review.reject, request.app.state.engine, item_id, who.actor, decision.note
        )
    except review.ReviewError as error:
        raise _review_error(error) from None
    return _item(row)


@router.get(
    "/people/{bhxh_code}/access-log",
    response_model=list[AccessOut],
    summary="Ai đã truy cập dữ liệu của người này",
    responses=_responses(404),
)
async def person_access_log(
    bhxh_code: Annotated[
        str, Path(description="mã số BHXH", json_schema_extra={"pattern": "^[0-9]{10}$"})
    ],
    request: Request,
    who: Auditor,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AccessOut]:
    try:
        code = BhxhCode.parse(bhxh_code).value
    except DomainError as error:
        raise _error(422, "E_BAD_BHXH_CODE", error.message_vi, error.message_en) from None
    scope = scope_of(who)
    if not scope.allows_bhxh_code(code) or not await run_in_threadpool(
        _person_exists, request.app.state.engine, code
    ):  # absent or outside the area: the same answer, as the console gives
        raise _error(
            404,
            "E_PERSON_NOT_FOUND",
            f"Không tìm thấy người có mã số BHXH {code} trong phạm vi của bạn",
            "no person with this BHXH code in your area",
        )
    views = await run_in_threadpool(access_history, request.app.state.engine, code, limit)
    await _log_read(request, who, "access.history/v1", code, "access_log", {})
    return [
        AccessOut(
            occurred_at=view.occurred_at,
            actor=view.actor,
            service=view.service,
            purpose=view.purpose,
            fields=view.fields,
        )
        for view in views
    ]


async def _log_read(
    request: Request,
    who: Principal,
    service: str,
    subject: str | None,
    fields: str,
    detail: dict[str, Any],
) -> None:
    """A staff read of personal data goes to the access log before the answer leaves."""
    record = staff_read(who.actor, who.role, service, subject, fields, detail)
    log: AccessLog = request.app.state.access_log
    await log.record_async(record)


def _person_exists(engine: Engine, code: str) -> bool:
    persons = models.Person.__table__
    with engine.connect() as conn:
        found = conn.execute(select(persons.c.record_id).where(persons.c.bhxh_code == code))
        return found.first() is not None
