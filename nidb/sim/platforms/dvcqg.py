"""The National Public Service Portal (Cổng Dịch vụ công quốc gia) stand-in.

Citizens submit dossiers at the portal (here ``POST /v1/citizen/dossiers``, the portal's own
form). The agency that handles a procedure (here VSS, whose system is nidb) fetches the dossiers
waiting for it with its API key (``GET /v1/agency/dossiers``) and reports every status change
back (``POST /v1/agency/dossiers/{code}/status``); the citizen follows the dossier at the portal
(``GET /v1/dossiers/{code}``). The portal keeps a dossier "new" until the agency acknowledges it
(``received`` or ``rejected``), so a fetch that is lost is simply fetched again.

Statuses: new → received → processing → completed | rejected | cancelled (withdrawn; at the
portal only before it is received, later through the agency). A finished dossier takes no further status. Procedure codes here are the
stand-in's own (``BHXH-MOTLAN``, ``BHXH-TCTN``), not the national catalogue's numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import count
from typing import Annotated, Any, Literal

import uvicorn
from fastapi import FastAPI, Header, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field

from nidb.apidocs import mount_offline_docs
from nidb.sim.platforms.common import ServiceError, check_key, install_errors

__all__ = ["PROCEDURES", "STATUSES", "Portal", "create_app", "serve"]

PROCEDURES: dict[str, str] = {
    "BHXH-MOTLAN": "Giải quyết hưởng BHXH một lần",
    "BHXH-TCTN": "Giải quyết hưởng trợ cấp thất nghiệp",
}
STATUSES: dict[str, str] = {
    "new": "Mới nộp",
    "received": "Đã tiếp nhận",
    "processing": "Đang xử lý",
    "completed": "Đã có kết quả",
    "rejected": "Từ chối",
    "cancelled": "Đã hủy",
}
FINISHED = frozenset({"completed", "rejected", "cancelled"})
AgencyStatus = Literal["received", "processing", "completed", "rejected", "cancelled"]
_NEXT: dict[str, frozenset[str]] = {
    "new": frozenset({"received", "rejected"}),
    "received": frozenset({"processing", "completed", "rejected", "cancelled"}),
    "processing": frozenset({"processing", "completed", "rejected", "cancelled"}),
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DossierIn(_Strict):
    """A dossier as the citizen submits it at the portal."""

    procedure: Literal["BHXH-MOTLAN", "BHXH-TCTN"]
    personal_id: str = Field(pattern=r"^[0-9]{12}$", description="Số định danh cá nhân")
    full_name: str = Field(min_length=1, max_length=100)
    form: dict[str, str] = Field(
        default_factory=dict, description="The procedure's form fields, as typed"
    )


class StatusIn(_Strict):
    """A status change reported by the agency."""

    status: AgencyStatus
    agency_ref: str | None = Field(None, max_length=60, description="The agency's own number")
    note: str | None = Field(None, max_length=1000)
    at: datetime | None = None


@dataclass
class Portal:
    """Dossiers by code, in submission order."""

    dossiers: dict[str, dict[str, Any]] = field(default_factory=dict)
    _numbers: Any = field(default_factory=lambda: count(1))

    def submit(self, body: DossierIn) -> dict[str, Any]:
        now = datetime.now(UTC)
        code = f"G22.BHXH-{now:%y%m%d}-{next(self._numbers):05d}"
        dossier = {
            "code": code,
            **body.model_dump(),
            "procedure_name": PROCEDURES[body.procedure],
            "submitted_at": now.isoformat(),
            "status": "new",
            "agency_ref": None,
            "history": [{"status": "new", "at": now.isoformat(), "note": None}],
        }
        self.dossiers[code] = dossier
        return dossier

    def get(self, code: str) -> dict[str, Any]:
        found = self.dossiers.get(code)
        if found is None:
            raise ServiceError(
                404,
                "DOSSIER_NOT_FOUND",
                f"không có hồ sơ mã {code[:40]!r}",
                f"no dossier with code {code[:40]!r}",
            )
        return found

    def set_status(self, code: str, change: StatusIn) -> dict[str, Any]:
        dossier = self.get(code)
        current = dossier["status"]
        last = dossier["history"][-1]
        if (
            current == change.status
            and last.get("agency_ref") == change.agency_ref
            and last.get("note") == change.note
        ):
            return {**dossier, "unchanged": True}  # a repeat (the agency's retry): no new entry
        if change.status not in _NEXT.get(current, frozenset()):
            raise ServiceError(
                409,
                "STATUS_NOT_ALLOWED",
                f"hồ sơ {code}: không thể chuyển từ “{STATUSES[current]}” sang "
                f"“{STATUSES[change.status]}”",
                f"dossier {code}: cannot go from {current} to {change.status}",
            )
        at = (change.at or datetime.now(UTC)).astimezone(UTC).isoformat()
        dossier["status"] = change.status
        if change.agency_ref:
            dossier["agency_ref"] = change.agency_ref
        dossier["history"].append(
            {
                "status": change.status,
                "at": at,
                "note": change.note,
                "agency_ref": change.agency_ref,
            }
        )
        return dossier

    def cancel(self, code: str) -> dict[str, Any]:
        dossier = self.get(code)
        if dossier["status"] != "new":
            raise ServiceError(
                409,
                "ALREADY_RECEIVED",
                f"hồ sơ {code} đã được cơ quan tiếp nhận, không thể hủy tại Cổng",
                f"dossier {code} was already received by the agency",
            )
        dossier["status"] = "cancelled"
        dossier["history"].append(
            {"status": "cancelled", "at": datetime.now(UTC).isoformat(), "note": None}
        )
        return dossier


def create_app(agency_keys: dict[str, str], portal: Portal | None = None) -> FastAPI:
    """The portal stand-in; ``agency_keys``: agency code → its API key (e.g. {"BHXH": "..."})."""
    held = portal or Portal()
    app = FastAPI(
        title="Cổng Dịch vụ công quốc gia — stand-in",
        summary="The National Public Service Portal as nidb's tests and demos see it.",
        version="1",
        docs_url=None,
        redoc_url=None,
    )
    mount_offline_docs(app)
    install_errors(app)
    app.state.portal = held

    @app.post("/v1/citizen/dossiers", status_code=status.HTTP_201_CREATED, tags=["citizen"])
    async def submit(body: DossierIn) -> dict[str, Any]:
        """A citizen submits a dossier (nộp hồ sơ trực tuyến)."""
        return held.submit(body)

    @app.post("/v1/citizen/dossiers/{code}/cancel", tags=["citizen"])
    async def cancel(code: str) -> dict[str, Any]:
        """The citizen withdraws a dossier the agency has not received yet."""
        return held.cancel(code)

    @app.get("/v1/dossiers/{code}", tags=["citizen"])
    async def show(code: str) -> dict[str, Any]:
        """A dossier and its status history (tra cứu hồ sơ)."""
        return held.get(code)

    @app.get("/v1/agency/dossiers", tags=["agency"])
    async def waiting(
        x_api_key: Annotated[str | None, Header()] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> dict[str, Any]:
        """The dossiers waiting for the agency (status ``new``), oldest first."""
        check_key(x_api_key, agency_keys)
        found = [d for d in held.dossiers.values() if d["status"] == "new"][:limit]
        return {"dossiers": found}

    @app.post("/v1/agency/dossiers/{code}/status", tags=["agency"])
    async def report(
        code: str, body: StatusIn, x_api_key: Annotated[str | None, Header()] = None
    ) -> dict[str, Any]:
        """The agency reports a status change (cập nhật trạng thái hồ sơ); a repeat is a no-op."""
        check_key(x_api_key, agency_keys)
        return held.set_status(code, body)

    @app.get("/healthz", tags=["ops"])
    async def healthz(request: Request) -> dict[str, Any]:
        return {"status": "ok", "dossiers": len(held.dossiers)}

    return app


def serve(agency_keys: dict[str, str], host: str = "127.0.0.1", port: int = 8031) -> None:
    """Serve the portal until interrupted."""
    uvicorn.run(create_app(agency_keys), host=host, port=port, log_level="warning")
