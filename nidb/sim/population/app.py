"""The HTTP service: FastAPI routes over the in-memory registry, change feed and faults."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from nidb.apidocs import mount_offline_docs
from nidb.sim.population.compare import clean_name
from nidb.sim.population.faults import FaultConfig, FaultInjector, FaultMiddleware
from nidb.sim.population.feed import ChangeEntry, ChangeFeed, InvalidCursor
from nidb.sim.population.loading import load_registry
from nidb.sim.population.registry import ChangeConflict, Person, Registry, UnknownPerson
from nidb.sim.population.schemas import (
    MAX_BATCH,
    AdminChange,
    BatchVerifyRequest,
    BatchVerifyResponse,
    BirthChange,
    ChangeOut,
    ChangesPage,
    DeathChange,
    ErrorResponse,
    FaultSettings,
    FaultStatus,
    Health,
    NameChange,
    OldIdRequest,
    OldIdResponse,
    ResidenceChange,
    SearchRequest,
    SearchResponse,
    VerifyRequest,
    VerifyResponse,
    recheck,
)

__all__ = ["ServiceError", "create_app"]

log = logging.getLogger(__name__)

SEARCH_LIMIT = 10


class ServiceError(Exception):
    """An error the service answers with: HTTP status, stable code, Vietnamese and English."""

    def __init__(self, status_code: int, code: str, message_vi: str, message_en: str) -> None:
        super().__init__(code, message_vi, message_en)
        self.status_code = status_code
        self.code = code
        self.message_vi = message_vi
        self.message_en = message_en


def _error(
    status_code: int, code: str, vi: str, en: str, details: list[dict[str, str]] | None = None
) -> JSONResponse:
    body: dict[str, Any] = {"code": code, "message": f"{vi} ({en})"}
    if details is not None:
        body["details"] = details
    return JSONResponse(body, status_code=status_code)


_ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorResponse} for code in (422, 503)}


# --- dependencies ---------------------------------------------------------------------------


def get_registry(request: Request) -> Registry:
    """The registry the app serves."""
    registry: Registry = request.app.state.registry
    return registry


def get_feed(request: Request) -> ChangeFeed:
    """The app's change feed."""
    feed: ChangeFeed = request.app.state.feed
    return feed


def get_faults(request: Request) -> FaultInjector:
    """The app's fault injector."""
    injector: FaultInjector = request.app.state.faults
    return injector


RegistryDep = Annotated[Registry, Depends(get_registry)]
FeedDep = Annotated[ChangeFeed, Depends(get_feed)]
FaultsDep = Annotated[FaultInjector, Depends(get_faults)]


# --- service endpoints ----------------------------------------------------------------------

service_router = APIRouter(prefix="/v1", tags=["population"])


@service_router.post("/verify", response_model=VerifyResponse, responses=_ERRORS)
async def verify(body: VerifyRequest, registry: RegistryDep) -> dict[str, Any]:
    """Verify one person's name, date of birth and gender against the registry.

    Strict comparison: the same name up to Unicode form, case and spacing; the same date
    (`partial` when the less precise side agrees). The registry's own values are never returned.
    """
    return registry.verify(body.personal_id, body.full_name, body.date_of_birth, body.gender)


@service_router.post(
    "/verify/batch",
    response_model=BatchVerifyResponse,
    responses={**_ERRORS, 413: {"model": ErrorResponse}},
)
async def verify_batch(body: BatchVerifyRequest, registry: RegistryDep) -> Response:
    """Verify up to 1,000 people in one call; answers in the order asked."""
    check = registry.verify
    results = [check(r.personal_id, r.full_name, r.date_of_birth, r.gender) for r in body.requests]
    return Response(_results_json(results), media_type="application/json")


def _json_text(value: str | None) -> str:
    return "null" if value is None else f'"{value}"'


def _result_json(result: dict[str, Any]) -> str:
    fields = result["fields"]
    fields_json = (
        "null"
        if fields is None
        else f'{{"full_name":"{fields["full_name"]}","date_of_birth":"{fields["date_of_birth"]}",'
        f'"gender":{_json_text(fields["gender"])}}}'
    )
    return (
        f'{{"personal_id":"{result["personal_id"]}","found":{"true" if result["found"] else "false"},'
        f'"fields":{fields_json},"status":{_json_text(result["status"])},'
        f'"death_date":{_json_text(result["death_date"])},'
        f'"superseded_by":{_json_text(result["superseded_by"])}}}'
    )


def _results_json(results: list[dict[str, Any]]) -> bytes:
    """A BatchVerifyResponse as JSON, written directly: five times faster than validating and
    dumping the model, which matters for 1,000 answers a call. Safe because every value is a
    validated personal ID, an ISO date or a fixed word, none of which JSON needs to escape
    (a test holds this encoder equal to the model's)."""
    return ('{"results":[' + ",".join(map(_result_json, results)) + "]}").encode()


@service_router.post("/search", response_model=SearchResponse, responses=_ERRORS)
async def search(body: SearchRequest, registry: RegistryDep) -> dict[str, Any]:
    """Find people by name (without diacritics) and birth year (tra cứu), at most 10."""
    people, truncated = registry.search(
        body.full_name, body.date_of_birth, body.gender, body.birth_province, SEARCH_LIMIT
    )
    return {
        "candidates": [
            {
                "personal_id": p.personal_id,
                "full_name": p.full_name,
                "date_of_birth": p.date_of_birth,
                "gender": p.gender,
                "birth_province": p.birth_province,
                "old_id": p.old_id,
            }
            for p in people
        ],
        "truncated": truncated,
    }


@service_router.post("/old-id", response_model=OldIdResponse, responses=_ERRORS)
async def old_id(body: OldIdRequest, registry: RegistryDep) -> dict[str, Any]:
    """Find the person who held an old 9-digit ID card number (số CMND cũ).

    The population database keeps a citizen's old number after the 12-digit personal ID
    replaced it, so a record that carries only the old card's number can still be resolved.
    """
    person = registry.by_old_id(body.old_id)
    return {
        "old_id": body.old_id,
        "found": person is not None,
        "person": None
        if person is None
        else {
            "personal_id": person.personal_id,
            "full_name": person.full_name,
            "date_of_birth": person.date_of_birth,
            "gender": person.gender,
            "birth_province": person.birth_province,
            "old_id": person.old_id,
        },
    }


def _change_out(entry: ChangeEntry) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "kind": entry.kind,
        "personal_id": entry.personal_id,
        "data": dict(entry.data),
        "at": entry.at,
    }


@service_router.get("/changes", response_model=ChangesPage, responses=_ERRORS)
async def changes(
    feed: FeedDep,
    after: Annotated[
        str | None, Query(max_length=32, description="`next_cursor` of the previous page.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """Changes (deaths, name changes, ID corrections) after a cursor, oldest first."""
    try:
        entries, next_cursor = feed.read(after, limit)
    except InvalidCursor as error:
        raise ServiceError(422, "INVALID_CURSOR", error.message_vi, error.message_en) from None
    return {"changes": [_change_out(e) for e in entries], "next_cursor": next_cursor}


# --- admin endpoints (tests and demos only) -------------------------------------------------

admin_router = APIRouter(prefix="/v1/admin", tags=["admin"])


@admin_router.post(
    "/changes",
    response_model=ChangeOut,
    status_code=status.HTTP_201_CREATED,
    responses={code: {"model": ErrorResponse} for code in (404, 409, 422)},
)
async def add_change(body: AdminChange, registry: RegistryDep, feed: FeedDep) -> dict[str, Any]:
    """Apply a change to the registry and append it to the change feed."""
    at = body.at or datetime.now(UTC)
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    try:
        if isinstance(body, DeathChange):
            registry.record_death(body.personal_id, body.data.death_date)
            data = {"death_date": body.data.death_date}
        elif isinstance(body, NameChange):
            registry.change_name(body.personal_id, body.data.full_name)
            data = {"full_name": clean_name(body.data.full_name)}
        elif isinstance(body, BirthChange):
            born = body.data
            registry.add(
                Person(
                    body.personal_id,
                    clean_name(born.full_name),
                    born.date_of_birth,
                    born.gender,
                    (born.birth_province or body.personal_id[:3]).zfill(3),
                    "alive",
                    None,
                )
            )
            data = {k: str(v) for k, v in born.model_dump().items() if v is not None}
            data["full_name"] = clean_name(born.full_name)
        elif isinstance(body, ResidenceChange):
            if registry.get(body.personal_id) is None:
                raise UnknownPerson(body.personal_id)
            data = {k: str(v) for k, v in body.data.model_dump().items() if v is not None}
        else:
            registry.correct_id(body.personal_id, body.data.new_personal_id)
            data = {"new_personal_id": body.data.new_personal_id}
    except UnknownPerson:
        raise ServiceError(
            404,
            "PERSON_NOT_FOUND",
            "không có số định danh cá nhân này trong sổ",
            "no such personal ID in the registry",
        ) from None
    except ChangeConflict as error:
        raise ServiceError(409, "CHANGE_CONFLICT", error.message_vi, error.message_en) from None
    return _change_out(feed.append(body.kind, body.personal_id, data, at))


@admin_router.get("/faults", response_model=FaultStatus)
async def get_fault_settings(faults: FaultsDep) -> dict[str, Any]:
    """The fault injection in force, and the faults injected since it was set."""
    return {**faults.config.as_dict(), "injected": faults.counts()}


@admin_router.post("/faults", response_model=FaultStatus, responses=_ERRORS)
async def set_fault_settings(body: FaultSettings, faults: FaultsDep) -> dict[str, Any]:
    """Put fault injection settings in force (the random sequence and counts restart)."""
    faults.configure(FaultConfig(**body.model_dump()))
    return {**faults.config.as_dict(), "injected": faults.counts()}


# --- the app --------------------------------------------------------------------------------


async def _healthz(request: Request) -> dict[str, Any]:
    return {"status": "ok", "people": len(get_registry(request))}


def _field(loc: tuple[Any, ...]) -> str:
    parts = loc[1:] if loc and loc[0] in ("body", "query", "path", "header") else loc
    return ".".join(str(part) for part in parts) or str(loc[0] if loc else "body")


async def _on_validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    problems = error.errors()
    if any(p["type"] == "too_long" and tuple(p["loc"]) == ("body", "requests") for p in problems):
        return _error(
            413,
            "BATCH_TOO_LARGE",
            f"mỗi lô tối đa {MAX_BATCH} yêu cầu",
            f"a batch holds at most {MAX_BATCH} requests",
        )
    # Input values are left out: they are personal data and the caller has them anyway.
    details = [_detail(problem) for problem in problems]
    return _error(
        422, "INVALID_REQUEST", "yêu cầu không hợp lệ", "the request is not valid", details
    )


def _detail(problem: Any) -> dict[str, str]:
    """One validation problem, with the domain's rule code and reason where there is one."""
    loc = tuple(problem["loc"])
    field = _field(loc)
    if problem["type"] == "string_pattern_mismatch" and loc:
        error = recheck(str(loc[-1]), problem.get("input"))
        if error is not None:
            return {"field": field, "rule": error.rule, "message": error.reason}
    return {"field": field, "rule": problem["type"], "message": problem["msg"]}


async def _on_service_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ServiceError)
    return _error(error.status_code, error.code, error.message_vi, error.message_en)


_HTTP_CODES = {
    404: ("NOT_FOUND", "không tìm thấy", "not found"),
    405: ("METHOD_NOT_ALLOWED", "phương thức không được hỗ trợ", "method not allowed"),
}


async def _on_http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    code, vi, en = _HTTP_CODES.get(error.status_code, ("HTTP_ERROR", "lỗi", str(error.detail)))
    return _error(error.status_code, code, vi, en)


async def _on_crash(request: Request, error: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return _error(500, "INTERNAL_ERROR", "lỗi hệ thống", "internal error")


def create_app(
    registry_path: Path,
    faults: FaultConfig | None = None,
    *,
    admin: bool = False,
    registry: Registry | None = None,
) -> FastAPI:
    """Build the population-database stand-in over a `registry` file (CSV or Parquet).

    `faults` sets fault injection from the start; `admin` adds the /v1/admin endpoints that
    append changes and change faults at run time (tests and demos only). A `registry`
    already loaded may be passed to serve it instead of reading `registry_path`.
    """
    started = time.perf_counter()
    loaded = registry if registry is not None else load_registry(registry_path)
    log.info("registry: %d people loaded in %.1f s", len(loaded), time.perf_counter() - started)
    app = FastAPI(
        title="CSDLQG về dân cư — stand-in",
        summary="The national population database as nidb's tests and demos see it (Đề án 06).",
        version="1",
        docs_url=None,
        redoc_url=None,
    )
    mount_offline_docs(app)  # /docs and /redoc without a CDN
    app.state.registry = loaded
    app.state.feed = ChangeFeed()
    app.state.faults = FaultInjector(faults)
    app.add_api_route("/healthz", _healthz, methods=["GET"], response_model=Health, tags=["ops"])
    app.include_router(service_router)
    if admin:
        app.include_router(admin_router)
    app.add_middleware(FaultMiddleware, injector=app.state.faults)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(ServiceError, _on_service_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(Exception, _on_crash)
    return app
