"""The national data-sharing platform (NDXP, with the provinces' LGSPs) stand-in.

Providers list their services in the platform's catalogue (``PUT /v1/catalogue/{provider}``,
with the provider's API key); consumers find them (``GET /v1/catalogue``) and call them through
the platform (``POST /v1/gateway/{provider}/x/{service}``, with the consumer's API key). The
platform relays the consumer's signed envelope to the provider unchanged and returns the
provider's signed answer unchanged: it checks who is calling (the API key, and that the
envelope's sender is that consumer) and what is called (a listed service), it keeps a log of
calls, but it signs nothing itself, so the provider still knows and checks the real reader and
the consumer still checks the provider's signature. ``GET /v1/gateway/{provider}/keys`` relays
the provider's published keys, so a consumer may reach a provider only through the platform.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

import httpx
import uvicorn
from fastapi import FastAPI, Header, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, HttpUrl

from nidb.apidocs import mount_offline_docs
from nidb.sim.platforms.common import ServiceError, check_key, install_errors

__all__ = ["Platform", "create_app", "serve"]

MAX_BODY = 1 << 20
SERVICE_CODE = r"^[a-z][a-z0-9_.-]{1,60}/v[0-9]{1,3}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ServiceIn(_Strict):
    code: str = Field(pattern=SERVICE_CODE, description="e.g. person.summary/v1")
    title_vi: str = Field(min_length=1, max_length=200)
    purposes: list[str] = Field(default_factory=list, max_length=30)
    groups: list[str] = Field(default_factory=list, max_length=20)


class ListingIn(_Strict):
    """A provider's whole listing: replaces what it listed before."""

    name: str = Field(min_length=1, max_length=200)
    member: str | None = Field(None, max_length=100, description="Its code in signed messages")
    base_url: HttpUrl
    services: list[ServiceIn] = Field(min_length=1, max_length=200)


@dataclass
class Platform:
    catalogue: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[dict[str, Any]] = field(default_factory=list)


def _listed(platform: Platform, provider: str, service: str | None) -> dict[str, Any]:
    listing = platform.catalogue.get(provider)
    if listing is None:
        raise ServiceError(
            404,
            "PROVIDER_NOT_LISTED",
            f"đơn vị cung cấp {provider[:40]!r} chưa đăng ký trên nền tảng",
            f"provider {provider[:40]!r} is not listed",
        )
    if service is not None and service not in {s["code"] for s in listing["services"]}:
        raise ServiceError(
            404,
            "SERVICE_NOT_LISTED",
            f"dịch vụ {service[:60]!r} không có trong danh mục của {provider}",
            f"service {service[:60]!r} is not in {provider}'s listing",
        )
    return listing


def create_app(
    provider_keys: dict[str, str], consumer_keys: dict[str, str], platform: Platform | None = None
) -> FastAPI:
    """The platform; ``provider_keys`` and ``consumer_keys``: member code → API key (a
    consumer's code is its member code in the envelopes it signs)."""
    held = platform or Platform()
    app = FastAPI(
        title="Nền tảng tích hợp, chia sẻ dữ liệu quốc gia (NDXP) — stand-in",
        summary="The national data-sharing platform as nidb's tests and demos see it.",
        version="1",
        docs_url=None,
        redoc_url=None,
    )
    mount_offline_docs(app)
    install_errors(app)
    app.state.platform = held

    @app.put("/v1/catalogue/{provider}", tags=["catalogue"])
    async def register(
        provider: str, body: ListingIn, x_api_key: Annotated[str | None, Header()] = None
    ) -> dict[str, Any]:
        """A provider lists (or re-lists) its services."""
        holder = check_key(x_api_key, provider_keys)
        if holder != provider:
            raise ServiceError(
                403,
                "NOT_YOUR_LISTING",
                f"khóa này thuộc {holder}, không được đăng ký thay {provider[:40]!r}",
                f"this key is {holder}'s; it cannot list services for {provider[:40]!r}",
            )
        listing = {
            "provider": provider,
            **body.model_dump(mode="json"),
            "updated_at": datetime.now(UTC).isoformat(),
        }
        held.catalogue[provider] = listing
        return listing

    @app.get("/v1/catalogue", tags=["catalogue"])
    async def catalogue() -> dict[str, Any]:
        """Every provider's listing."""
        return {"providers": list(held.catalogue.values())}

    async def relay(
        provider: str, path: str, method: str, content: bytes | None, consumer: str
    ) -> Response:
        listing = held.catalogue[provider]
        url = listing["base_url"].rstrip("/") + path
        started = time.perf_counter()
        http = getattr(app.state, "http", None)
        if http is None:  # one pool for the app's life (a new client costs an SSL context)
            http = app.state.http = httpx.AsyncClient(timeout=15.0)
        try:
            answer = await http.request(
                method,
                url,
                content=content,
                headers={"content-type": "application/json", "x-ndxp-consumer": consumer},
            )
        except httpx.HTTPError as error:
            held.calls.append(
                {
                    "provider": provider,
                    "path": path,
                    "consumer": consumer,
                    "status": 502,
                    "error": type(error).__name__,
                }
            )
            raise ServiceError(
                502,
                "PROVIDER_UNREACHABLE",
                f"không kết nối được hệ thống của {provider}",
                f"{provider}'s system cannot be reached ({type(error).__name__})",
            ) from None
        held.calls.append(
            {
                "provider": provider,
                "path": path,
                "consumer": consumer,
                "status": answer.status_code,
                "ms": round((time.perf_counter() - started) * 1000, 1),
                "at": datetime.now(UTC).isoformat(),
            }
        )
        return Response(
            answer.content,
            status_code=answer.status_code,
            media_type=answer.headers.get("content-type", "application/json"),
        )

    @app.get("/v1/gateway/{provider}/keys", tags=["gateway"])
    async def keys(provider: str, x_api_key: Annotated[str | None, Header()] = None) -> Response:
        """The provider's published signing keys, relayed."""
        consumer = check_key(x_api_key, consumer_keys)
        _listed(held, provider, None)
        return await relay(provider, "/keys", "GET", None, consumer)

    @app.post("/v1/gateway/{provider}/x/{name}/{version}", tags=["gateway"])
    async def call(
        provider: str,
        name: str,
        version: str,
        request: Request,
        x_api_key: Annotated[str | None, Header()] = None,
    ) -> Response:
        """Call a listed service: the signed envelope goes to the provider as sent."""
        consumer = check_key(x_api_key, consumer_keys)
        service = f"{name}/{version}"
        _listed(held, provider, service)
        raw = await request.body()
        if len(raw) > MAX_BODY:
            raise ServiceError(
                413, "BODY_TOO_LARGE", "yêu cầu quá lớn (tối đa 1 MiB)", "request larger than 1 MiB"
            )
        try:
            message = json.loads(raw)
            sender = message["header"]["sender"]
        except (ValueError, KeyError, TypeError):
            raise ServiceError(
                400,
                "NOT_AN_ENVELOPE",
                "nội dung không phải một thông điệp đã ký (header, body, signature)",
                "the body is not a signed envelope (header, body, signature)",
            ) from None
        if sender != consumer:
            raise ServiceError(
                403,
                "SENDER_MISMATCH",
                f"thông điệp ký bởi {str(sender)[:60]!r} nhưng khóa truy cập thuộc {consumer}",
                f"the envelope's sender {str(sender)[:60]!r} is not the key's holder {consumer}",
            )
        return await relay(provider, f"/x/{service}", "POST", raw, consumer)

    @app.get("/v1/admin/calls", tags=["admin"])
    async def calls() -> dict[str, Any]:
        """The calls relayed, oldest first."""
        return {"calls": held.calls}

    @app.get("/healthz", tags=["ops"])
    async def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok", "providers": len(held.catalogue)})

    return app


def serve(
    provider_keys: dict[str, str],
    consumer_keys: dict[str, str],
    host: str = "127.0.0.1",
    port: int = 8032,
) -> None:
    """Serve the platform until interrupted."""
    uvicorn.run(create_app(provider_keys, consumer_keys), host=host, port=port, log_level="warning")
