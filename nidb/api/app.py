"""The FastAPI application of `nidb serve`: partner services, staff API, health."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, text

from nidb.api import exchange, staff
from nidb.api import payments as service_routes
from nidb.api.fastpath import PartnerFastPath
from nidb.apidocs import mount_offline_docs
from nidb.exchange.runtime import ExchangeRuntime, route_table
from nidb.protocol.keys import SigningKey
from nidb.settings import signing_key_path
from nidb.store.db import ensure_schema, make_engine
from nidb.web import routes as web_routes


def app_from_settings() -> PartnerFastPath:
    """The app over the configured database (uvicorn's factory for `nidb serve`), with the
    partner messages on the plain ASGI fast path."""
    return PartnerFastPath(create_app())


def _hoist_openapi_definitions(app: FastAPI) -> None:
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = exchange.hoist_definitions(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def create_app(engine: Engine | None = None, key: SigningKey | None = None) -> FastAPI:
    """The API over ``engine`` (default: the configured database), signing with ``key``."""
    engine = engine or make_engine()
    key = key or SigningKey.load_or_create(signing_key_path())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ensure_schema(engine)
        runtime = ExchangeRuntime(engine, key)
        await runtime.start_async()
        app.state.exchange = runtime
        app.state.access_log = runtime.log  # staff reads (API and console) are logged here too
        try:
            yield
        finally:
            await runtime.stop_async()
            runtime.close()

    app = FastAPI(
        title="nidb — CSDL quốc gia về Bảo hiểm",
        version="1",
        summary="Dịch vụ chia sẻ dữ liệu có ký số, phân quyền và ghi nhật ký truy cập",
        description=(
            "Partner services take and return signed envelopes (INTERCHANGE.md). "
            f"nidb signs as `VN/GOV/BHXH/CSDLBH` with Ed25519 key `{key.kid}`; "
            "its public key is at `/keys`."
        ),
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    mount_offline_docs(app)  # /docs and /redoc without a CDN
    _hoist_openapi_definitions(app)
    app.state.engine = engine
    app.state.key = key
    app.include_router(exchange.mount(route_table()))
    app.include_router(staff.router)
    service_routes.mount(app)  # payment-gateway callbacks
    web_routes.mount(app)  # citizen portal and staff console (HTML)

    @app.get("/health", tags=["system"], summary="Tình trạng dịch vụ")
    def health() -> dict[str, str]:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return {"status": "ok"}

    @app.get("/keys", tags=["system"], summary="Khóa công khai của CSDL bảo hiểm")
    def keys() -> dict[str, Any]:
        return {"member": "VN/GOV/BHXH/CSDLBH", "kid": key.kid, "public_key": key.public_b64}

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
