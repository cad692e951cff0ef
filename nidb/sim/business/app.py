"""The HTTP service: enterprise look-up, the change feed, and admin endpoints making events."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

import uvicorn
from fastapi import APIRouter, FastAPI, Request, status
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field

from nidb.apidocs import mount_offline_docs
from nidb.sim.business.feed import ERRORS, mount_feed
from nidb.sim.business.registry import BusinessRegistry, Enterprise, load_enterprises
from nidb.sim.population.faults import FaultConfig

__all__ = ["create_app", "serve"]

_CODE = r"^[0-9]{10}(-[0-9]{3})?$"
_PROVINCE = r"^[0-9]{2}$"
Status = Literal["active", "suspended", "closed"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EnterpriseIn(_Strict):
    """A new enterprise (đăng ký thành lập doanh nghiệp)."""

    enterprise_code: str = Field(pattern=_CODE, description="Mã số doanh nghiệp (tax code).")
    name: str = Field(min_length=1, max_length=300)
    province: str = Field(
        pattern=_PROVINCE, description="2-digit province code of the head office."
    )
    address: str | None = Field(None, max_length=500)
    business_line: str | None = Field(None, max_length=200)
    registered_workers: int | None = Field(None, ge=0)
    status: Status = "active"


class EnterpriseOut(EnterpriseIn):
    """An enterprise as the registry holds it."""


class EnterpriseChange(_Strict):
    """Fields to change (đăng ký thay đổi); leave out what does not change."""

    name: str | None = Field(None, min_length=1, max_length=300)
    province: str | None = Field(None, pattern=_PROVINCE)
    address: str | None = Field(None, max_length=500)
    business_line: str | None = Field(None, max_length=200)
    registered_workers: int | None = Field(None, ge=0)
    status: Literal["active", "suspended"] | None = None


class Closure(_Strict):
    """The end of an enterprise (giải thể, phá sản, thu hồi giấy chứng nhận)."""

    closed_date: date
    reason: str | None = Field(None, max_length=200)


class Health(BaseModel):
    """Liveness and size."""

    status: Literal["ok"]
    enterprises: int
    events: int


CodeParam = Annotated[str, PathParam(pattern=_CODE)]


def _registry(request: Request) -> BusinessRegistry:
    registry: BusinessRegistry = request.app.state.registry
    return registry


service_router = APIRouter(prefix="/v1", tags=["business"])


@service_router.get("/enterprises/{code}", response_model=EnterpriseOut, responses=ERRORS)
async def get_enterprise(code: CodeParam, request: Request) -> dict[str, Any]:
    """One enterprise by its code (tra cứu thông tin doanh nghiệp)."""
    return _registry(request).get(code).as_dict()


admin_router = APIRouter(prefix="/v1/admin", tags=["admin"])


@admin_router.post("/enterprises", status_code=status.HTTP_201_CREATED, responses=ERRORS)
async def register(body: EnterpriseIn, request: Request) -> dict[str, Any]:
    """Register an enterprise: a `registered` event."""
    return _registry(request).register(Enterprise(**body.model_dump()))


@admin_router.patch("/enterprises/{code}", responses=ERRORS)
async def change(code: CodeParam, body: EnterpriseChange, request: Request) -> dict[str, Any]:
    """Change an enterprise's fields: a `changed` event with the fields that differ."""
    return _registry(request).change(code, body.model_dump(exclude_unset=True))


@admin_router.post(
    "/enterprises/{code}/close", status_code=status.HTTP_201_CREATED, responses=ERRORS
)
async def close(code: CodeParam, body: Closure, request: Request) -> dict[str, Any]:
    """Close an enterprise: a `closed` event."""
    return _registry(request).close(code, body.closed_date, body.reason)


def create_app(
    data: Path | None = None,
    faults: FaultConfig | None = None,
    *,
    admin: bool = True,
    registry: BusinessRegistry | None = None,
) -> FastAPI:
    """Build the business-registry stand-in, over enterprises from `data` (CSV or JSON) if given.

    `admin` (on by default: a stand-in serves tests and demos) adds the endpoints that make
    events and set faults; `faults` sets fault injection from the start.
    """
    held = registry or BusinessRegistry(load_enterprises(data) if data is not None else None)
    app = FastAPI(
        title="CSDL quốc gia về đăng ký doanh nghiệp — stand-in",
        summary="The national business registry as nidb's tests and demos see it.",
        version="1",
        docs_url=None,
        redoc_url=None,
    )
    mount_offline_docs(app)  # /docs and /redoc without a CDN
    app.state.registry = held

    async def healthz() -> dict[str, Any]:
        return {"status": "ok", "enterprises": len(held), "events": len(held.feed)}

    app.add_api_route("/healthz", healthz, methods=["GET"], response_model=Health, tags=["ops"])
    app.include_router(service_router)
    if admin:
        app.include_router(admin_router)
    mount_feed(app, held.feed, faults, admin=admin, tag="business")
    return app


def serve(
    data: Path | None = None,
    host: str = "127.0.0.1",
    port: int = 8002,
    faults: FaultConfig | None = None,
    *,
    admin: bool = True,
    log_level: str = "info",
) -> None:
    """Serve the stand-in until interrupted."""
    uvicorn.run(create_app(data, faults, admin=admin), host=host, port=port, log_level=log_level)
