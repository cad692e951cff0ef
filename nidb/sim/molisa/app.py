"""The MOLISA social-welfare stand-in: beneficiaries, their `added` / `ended` feed, admin.

Programs: `BTXH` monthly social-protection allowance (bảo trợ xã hội), `HONGHEO` poor
household (hộ nghèo), `NCC` people with merits to the revolution (người có công). A
beneficiary is keyed by personal ID, program and start date. The state at start-up may come
from a data file (CSV with a header, or a JSON list), without events.
"""

from __future__ import annotations

import csv
import json
from dataclasses import asdict, dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any, Literal

import uvicorn
from fastapi import APIRouter, FastAPI, Request, status
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from nidb.apidocs import mount_offline_docs
from nidb.sim.business.feed import ERRORS, EventFeed, ServiceError, mount_feed
from nidb.sim.population.faults import FaultConfig

__all__ = [
    "PROGRAMS",
    "Beneficiary",
    "WelfareRegistry",
    "create_app",
    "load_beneficiaries",
    "serve",
]

PROGRAMS = ("BTXH", "HONGHEO", "NCC")
Program = Literal["BTXH", "HONGHEO", "NCC"]


@dataclass(frozen=True, slots=True)
class Beneficiary:
    """One person in one welfare program from a date (đối tượng hưởng chính sách)."""

    personal_id: str
    program: str
    start_date: date
    end_date: date | None = None
    monthly_amount: int | None = None

    def key(self) -> tuple[str, str, date]:
        """The record key: personal ID, program, start date."""
        return (self.personal_id, self.program, self.start_date)

    def event_data(self) -> dict[str, Any]:
        """The fields an `added` event carries besides the personal ID."""
        data = asdict(self)
        del data["personal_id"]
        data["start_date"] = self.start_date.isoformat()
        data["end_date"] = self.end_date.isoformat() if self.end_date else None
        return data


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BeneficiaryIn(_Strict):
    """A person entering a program."""

    personal_id: str = Field(pattern=r"^[0-9]{12}$")
    program: Program
    start_date: date
    end_date: date | None = None
    monthly_amount: int | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _dates(self) -> BeneficiaryIn:
        if self.end_date is not None and self.end_date < self.start_date:
            raise ValueError("end_date is before start_date")
        return self


class Ending(_Strict):
    """A person leaving a program; without `start_date`, the open entry of that program."""

    personal_id: str = Field(pattern=r"^[0-9]{12}$")
    program: Program
    start_date: date | None = None
    end_date: date


class WelfareRegistry:
    """Beneficiaries by key, and the feed of their changes."""

    def __init__(self, beneficiaries: list[Beneficiary] | None = None) -> None:
        self.feed = EventFeed("personal_id")
        self._rows = {b.key(): b for b in beneficiaries or ()}

    def __len__(self) -> int:
        return len(self._rows)

    def of(self, personal_id: str) -> list[Beneficiary]:
        """A person's entries, oldest first."""
        return sorted(
            (b for b in self._rows.values() if b.personal_id == personal_id),
            key=lambda b: (b.start_date, b.program),
        )

    def add(self, beneficiary: Beneficiary) -> dict[str, Any]:
        """Record a new entry: an `added` event."""
        if beneficiary.key() in self._rows:
            raise ServiceError(
                409,
                "BENEFICIARY_EXISTS",
                "đối tượng đã có trong danh sách",
                "the beneficiary is already listed",
            )
        self._rows[beneficiary.key()] = beneficiary
        return self.feed.append("added", beneficiary.personal_id, beneficiary.event_data())

    def end(self, ending: Ending) -> dict[str, Any]:
        """End an entry: an `ended` event naming the entry and its end date."""
        found = [
            b
            for b in self.of(ending.personal_id)
            if b.program == ending.program
            and (b.start_date == ending.start_date if ending.start_date else b.end_date is None)
        ]
        if not found:
            raise ServiceError(
                404, "BENEFICIARY_NOT_FOUND", "không có đối tượng này", "no such beneficiary entry"
            )
        entry = found[-1]
        if ending.end_date < entry.start_date:
            raise ServiceError(
                422,
                "END_BEFORE_START",
                "ngày kết thúc trước ngày bắt đầu",
                "end date is before the start date",
            )
        self._rows[entry.key()] = replace(entry, end_date=ending.end_date)
        data = {
            "program": entry.program,
            "start_date": entry.start_date.isoformat(),
            "end_date": ending.end_date.isoformat(),
        }
        return self.feed.append("ended", entry.personal_id, data)


def load_beneficiaries(path: Path) -> list[Beneficiary]:
    """Read beneficiaries from a CSV (header row) or JSON (list of objects) file; a bad row
    raises ValueError naming the row."""
    if path.suffix.lower() == ".json":
        rows: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    else:
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
    found = []
    for number, row in enumerate(rows, start=1):
        cleaned = {k: v for k, v in row.items() if v not in (None, "")}
        try:
            parsed = BeneficiaryIn(**cleaned)
        except ValidationError as error:
            raise ValueError(f"{path.name}: row {number}: {error.errors()[0]['msg']}") from None
        found.append(Beneficiary(**parsed.model_dump()))
    return found


def _registry(request: Request) -> WelfareRegistry:
    registry: WelfareRegistry = request.app.state.registry
    return registry


service_router = APIRouter(prefix="/v1", tags=["molisa"])


@service_router.get("/beneficiaries/{personal_id}", responses=ERRORS)
async def beneficiaries(personal_id: str, request: Request) -> dict[str, Any]:
    """A person's welfare entries (tra cứu đối tượng hưởng chính sách)."""
    entries = _registry(request).of(personal_id)
    return {"personal_id": personal_id, "entries": [b.event_data() for b in entries]}


admin_router = APIRouter(prefix="/v1/admin", tags=["admin"])


@admin_router.post("/beneficiaries", status_code=status.HTTP_201_CREATED, responses=ERRORS)
async def add(body: BeneficiaryIn, request: Request) -> dict[str, Any]:
    """A person enters a program: an `added` event."""
    return _registry(request).add(Beneficiary(**body.model_dump()))


@admin_router.post("/beneficiaries/end", status_code=status.HTTP_201_CREATED, responses=ERRORS)
async def end(body: Ending, request: Request) -> dict[str, Any]:
    """A person leaves a program: an `ended` event."""
    return _registry(request).end(body)


def create_app(
    data: Path | None = None,
    faults: FaultConfig | None = None,
    *,
    admin: bool = True,
    registry: WelfareRegistry | None = None,
) -> FastAPI:
    """Build the MOLISA stand-in, over beneficiaries from `data` (CSV or JSON) if given."""
    held = registry or WelfareRegistry(load_beneficiaries(data) if data is not None else None)
    app = FastAPI(
        title="CSDL về an sinh xã hội (Bộ LĐTBXH) — stand-in",
        summary="MOLISA's social-welfare database as nidb's tests and demos see it.",
        version="1",
        docs_url=None,
        redoc_url=None,
    )
    mount_offline_docs(app)  # /docs and /redoc without a CDN
    app.state.registry = held

    async def healthz() -> dict[str, Any]:
        return {"status": "ok", "beneficiaries": len(held), "events": len(held.feed)}

    app.add_api_route("/healthz", healthz, methods=["GET"], tags=["ops"])
    app.include_router(service_router)
    if admin:
        app.include_router(admin_router)
    mount_feed(app, held.feed, faults, admin=admin, tag="molisa")
    return app


def serve(
    data: Path | None = None,
    host: str = "127.0.0.1",
    port: int = 8003,
    faults: FaultConfig | None = None,
    *,
    admin: bool = True,
    log_level: str = "info",
) -> None:
    """Serve the stand-in until interrupted."""
    uvicorn.run(create_app(data, faults, admin=admin), host=host, port=port, log_level=log_level)
