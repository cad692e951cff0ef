"""The FastAPI application of `nidb serve`: partner services, staff API, health."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy import Engine, text

from nidb.api import contributions as contribution_routes
from nidb.api import employers as employer_routes
from nidb.api import exchange, metrics, staff
from nidb.api import payments as service_routes
from nidb.api.fastpath import PartnerFastPath
from nidb.api.observe import Observe
from nidb.apidocs import mount_offline_docs
from nidb.claims.routes import exchange_routes as claims_routes
from nidb.exchange.runtime import ExchangeRuntime, route_table
from nidb.exchange.signing import publish
from nidb.protocol.keys import KeyFile, SigningKey, VerifyKey
from nidb.settings import get_settings, signing_key_path
from nidb.store.db import ensure_schema, make_engine, schema_revisions
from nidb.web import routes as web_routes


def app_from_settings() -> PartnerFastPath:
    """The app over the configured database (uvicorn's factory for `nidb serve`), with the
    partner messages on the plain ASGI fast path."""
    return PartnerFastPath(create_app())


def create_app(engine: Engine | None = None, key: SigningKey | None = None) -> FastAPI:
    """The API over ``engine`` (default: the configured database), signing with ``key``."""
    engine = engine or make_engine()
    # the key file is followed (`signing_key` below): a rotation reaches every worker within
    # NIDB_SIGNING_KEY_CHECK_SECONDS, without a restart; a key given here is kept
    key_file: KeyFile | None = None
    if key is None:
        key_file = KeyFile(signing_key_path())
        key = key_file.current
    partner_routes = {**route_table(), **claims_routes()}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ensure_schema(engine)
        runtime = ExchangeRuntime(engine, key, routes=partner_routes)
        await runtime.start_async()
        app.state.exchange = runtime
        app.state.access_log = runtime.log  # staff reads (API and console) are logged here too
        gauges = asyncio.create_task(_watch_access_log(runtime))
        every = get_settings().signing_key_check_seconds
        follower = asyncio.create_task(_follow_key_file(signing_key, every)) if key_file else None
        try:
            yield
        finally:
            for task in (gauges, follower):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            await runtime.stop_async()
            runtime.close()
            metrics.worker_stopped()

    app = FastAPI(
        title="nidb — CSDL quốc gia về Bảo hiểm",
        version="1",
        summary="Dịch vụ chia sẻ dữ liệu có ký số, phân quyền và ghi nhật ký truy cập",
        description=(
            "Partner services take and return signed envelopes (INTERCHANGE.md). "
            "nidb signs as `VN/GOV/BHXH/CSDLBH` with an Ed25519 key; its public keys (the "
            "current one, and those retired within the grace period) are at `/keys`."
        ),
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    mount_offline_docs(app)  # /docs and /redoc without a CDN
    app.add_middleware(Observe)  # request id, metrics, the request's log line
    app.state.engine = engine
    app.state.key = key

    def signing_key() -> SigningKey:
        """The key this worker signs with from now on: the key file's, looked at again (two
        ``stat`` calls unless it changed). Called every few seconds by the lifespan, and by
        /keys and /readyz so that they tell what the file holds. Two calls at once may leave
        the older key set for a moment; it is still published, and the next call corrects it."""
        if key_file is not None:
            key_file.refresh()
            current = key_file.current
            app.state.key = current
            runtime = getattr(app.state, "exchange", None)
            if runtime is not None:
                runtime.key = current
        found: SigningKey = app.state.key
        return found

    app.include_router(exchange.mount(partner_routes))
    app.include_router(staff.router)
    service_routes.mount(app)  # payment-gateway callbacks
    contribution_routes.mount(app)  # employers' payments through the gateway
    employer_routes.mount(app)  # employers' signed declarations
    web_routes.mount(app)  # citizen portal and staff console (HTML)

    def openapi() -> dict[str, Any]:
        """FastAPI's spec, with the schemas the partner bodies refer to in its components."""
        if app.openapi_schema is None:
            from fastapi.openapi.utils import get_openapi

            spec = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                description=app.description,
                routes=app.routes,
            )
            schemas = spec.setdefault("components", {}).setdefault("schemas", {})
            for name, schema in exchange.component_schemas(partner_routes).items():
                schemas.setdefault(name, schema)
            # ReDoc and Swagger UI resolve references in components only
            app.openapi_schema = exchange.hoist_definitions(spec)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    @app.get("/health", tags=["system"], summary="Tình trạng dịch vụ")
    def health() -> dict[str, str]:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return {"status": "ok"}

    @app.get("/healthz", tags=["system"], summary="Tiến trình đang chạy (liveness)")
    def healthz() -> dict[str, str]:
        """The process answers; nothing else is checked (a restart would not help otherwise)."""
        return {"status": "ok"}

    @app.get(
        "/readyz",
        tags=["system"],
        summary="Sẵn sàng phục vụ (readiness)",
        responses={503: {"description": "a check failed; each check is named with its result"}},
    )
    def readyz() -> JSONResponse:
        """Ready when the database answers, its migrations are at the code's head and the
        signing key is loaded (and signs); 503 naming the check that failed otherwise. Says
        which key signs (``signing_kid``) and whether the key file could be read."""
        checks: dict[str, str] = {}
        try:
            current, head = schema_revisions(engine)
            checks["database"] = "ok"
            checks["migrations"] = "ok" if current == head else f"at {current}, code at {head}"
        except Exception as error:  # any failure to reach the database is the answer
            checks["database"] = f"unreachable ({type(error).__name__})"
            checks["migrations"] = "unknown"
        probe = b"readyz"
        signing = signing_key()
        checks["signing_key"] = (
            "ok"
            if VerifyKey.from_b64(signing.public_b64).verify(signing.sign(probe), probe)
            else "broken"
        )
        ready = all(value == "ok" for value in checks.values())
        answer: dict[str, Any] = {
            "status": "ready" if ready else "not ready",
            "checks": checks,
            "signing_kid": signing.kid,
        }
        if key_file is not None:
            # a key file that cannot be read is not a reason to stop serving: the key loaded
            # before still signs, and is published
            answer["signing_key_file"] = key_file.problem or "ok"
        return JSONResponse(answer, status_code=200 if ready else 503)

    @app.get(
        "/metrics",
        tags=["system"],
        summary="Số đo vận hành (Prometheus)",
        response_class=Response,
        responses={
            200: {"content": {metrics.CONTENT_TYPE: {}}, "description": "Prometheus text format"},
            403: {"description": "not loopback and no valid NIDB_METRICS_TOKEN bearer"},
        },
    )
    async def metrics_page(request: Request) -> Response:
        """Metrics of every worker, and those read from the database (README, "Operating
        nidb"). Loopback clients only, unless ``NIDB_METRICS_TOKEN`` is set: then a request
        bearing that token, from anywhere."""
        client = request.client.host if request.client else None
        allowed = metrics.scrape_allowed(
            client, request.headers.get("authorization"), get_settings().metrics_token
        )
        if not allowed:
            return JSONResponse(
                {
                    "error": {
                        "code": "E_FORBIDDEN",
                        "message_vi": "Không được phép đọc số đo vận hành từ địa chỉ này",
                        "message_en": "metrics are readable from loopback or with the "
                        "metrics token only",
                    }
                },
                status_code=403,
            )
        body = await run_in_threadpool(metrics.exposition, engine)
        return Response(body, media_type=metrics.CONTENT_TYPE)

    @app.get("/keys", tags=["system"], summary="Khóa công khai của CSDL bảo hiểm")
    def keys() -> dict[str, Any]:
        """The key signing from now, and the keys retired within the grace period: every key
        a reply of any worker may carry (the files are read again if they changed)."""
        current = signing_key()
        if key_file is None:
            return publish(current, ()).document()
        # read together: a worker may still sign with a key older than the file's, which is
        # then among the retired ones
        return publish(*key_file.snapshot()).document()

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> JSONResponse:
        detail = (
            error.detail
            if isinstance(error.detail, dict)
            else {
                "code": "E_HTTP",
                "message_vi": str(error.detail),
                "message_en": str(error.detail),
            }
        )
        return JSONResponse({"error": detail}, status_code=error.status_code, headers=error.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        problems = [
            {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]}
            for e in error.errors()
        ]
        return JSONResponse(
            {
                "error": {
                    "code": "E_INVALID",
                    "message_vi": "Dữ liệu gửi lên không hợp lệ",
                    "message_en": "invalid request",
                    "problems": problems,
                }
            },
            status_code=422,
        )

    return app


async def _follow_key_file(signing_key: Callable[[], SigningKey], every: float) -> None:
    """Look at the signing key file every ``every`` seconds (`nidb keys rotate` needs no restart)."""
    while True:
        await asyncio.sleep(every)
        signing_key()


async def _watch_access_log(runtime: ExchangeRuntime, every: float = 1.0) -> None:
    """Keep this worker's share of ``nidb_access_log_pending_entries`` current."""
    while True:
        metrics.ACCESS_LOG_PENDING.set(runtime.log.pending())
        await asyncio.sleep(every)
