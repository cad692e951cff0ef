"""The EMC service-measurement system stand-in (Hệ thống đo lường dịch vụ công, EMC).

An agency sends usage events of its online services in batches (``POST /v1/batches``, with its
API key and a batch id): a service was used (a dossier submitted) or completed (with the time
it took). A batch id seen before is answered ``duplicate`` and changes nothing, so an agency
that lost an acknowledgement may send the batch again; an event id seen before (in another
batch) is counted once. ``GET /v1/events`` and ``GET /v1/stats`` show what arrived;
``PUT /v1/admin/faults`` makes the next requests fail (503), to exercise the agency's retries.
Given a catalogue of procedure codes, a batch naming another is refused whole (422
``UNKNOWN_SERVICE``), as a strict receiver would.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Literal

import uvicorn
from fastapi import FastAPI, Header
from pydantic import BaseModel, ConfigDict, Field, model_validator

from nidb.apidocs import mount_offline_docs
from nidb.sim.platforms.common import ServiceError, check_key, install_errors

__all__ = ["Measurements", "create_app", "serve"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EventIn(_Strict):
    event_id: str = Field(min_length=1, max_length=80)
    service: str = Field(min_length=1, max_length=60, description="The procedure's code")
    kind: Literal["used", "completed"]
    at: datetime
    outcome: str | None = Field(None, max_length=30)
    duration_seconds: float | None = Field(None, ge=0)
    channel: str = Field("online", max_length=30)

    @model_validator(mode="after")
    def _duration(self) -> EventIn:
        if self.kind == "completed" and self.duration_seconds is None:
            raise ValueError("a completed event needs duration_seconds")
        if self.at.tzinfo is None:
            raise ValueError("at needs a time zone")
        return self


class BatchIn(_Strict):
    batch_id: str = Field(min_length=1, max_length=80)
    events: list[EventIn] = Field(min_length=1, max_length=1000)


@dataclass
class Measurements:
    services: frozenset[str] | None = None
    """The procedure codes the EMC knows; None: any. A batch naming another is refused (422)."""
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    batches: dict[str, int] = field(default_factory=dict)
    fail_next: int = 0
    requests: int = 0


class Faults(_Strict):
    fail_next: int = Field(0, ge=0, le=1000, description="Answer 503 to this many requests")


def create_app(agency_keys: dict[str, str], held: Measurements | None = None) -> FastAPI:
    """The EMC stand-in; ``agency_keys``: agency code → API key."""
    store = held or Measurements()
    app = FastAPI(
        title="Hệ thống EMC đo lường dịch vụ công — stand-in",
        summary="The service-measurement system as nidb's tests and demos see it.",
        version="1",
        docs_url=None,
        redoc_url=None,
    )
    mount_offline_docs(app)
    install_errors(app)
    app.state.measurements = store

    @app.post("/v1/batches", tags=["agency"])
    async def batch(
        body: BatchIn, x_api_key: Annotated[str | None, Header()] = None
    ) -> dict[str, Any]:
        """A batch of usage events; a batch id seen before changes nothing."""
        store.requests += 1
        if store.fail_next > 0:
            store.fail_next -= 1
            raise ServiceError(503, "UNAVAILABLE", "hệ thống tạm ngừng", "temporarily unavailable")
        agency = check_key(x_api_key, agency_keys)
        if body.batch_id in store.batches:
            return {"status": "duplicate", "accepted": 0}
        unknown = sorted(
            {e.service for e in body.events} - store.services if store.services is not None else ()
        )
        if unknown:
            raise ServiceError(
                422,
                "UNKNOWN_SERVICE",
                f"thủ tục {unknown[0]!r} không có trong danh mục của EMC",
                f"service {unknown[0]!r} is not in the EMC's catalogue",
            )
        accepted = 0
        for event in body.events:
            if event.event_id not in store.events:
                store.events[event.event_id] = {"agency": agency, **event.model_dump(mode="json")}
                accepted += 1
        store.batches[body.batch_id] = accepted
        return {"status": "accepted", "accepted": accepted}

    @app.get("/v1/events", tags=["reading"])
    async def events() -> dict[str, Any]:
        return {"events": list(store.events.values())}

    @app.get("/v1/stats", tags=["reading"])
    async def stats() -> dict[str, Any]:
        """Per service: uses, completions and the average time to complete (seconds)."""
        found: dict[str, dict[str, Any]] = {}
        for event in store.events.values():
            row = found.setdefault(event["service"], {"used": 0, "completed": 0, "seconds": 0.0})
            row[event["kind"]] += 1
            row["seconds"] += event["duration_seconds"] or 0.0
        for row in found.values():
            seconds = row.pop("seconds")
            row["average_seconds"] = (
                round(seconds / row["completed"], 1) if row["completed"] else None
            )
        return {"batches": len(store.batches), "requests": store.requests, "services": found}

    @app.put("/v1/admin/faults", tags=["admin"])
    async def faults(body: Faults) -> dict[str, Any]:
        store.fail_next = body.fail_next
        return body.model_dump()

    @app.get("/healthz", tags=["ops"])
    async def healthz() -> dict[str, Any]:
        return {"status": "ok", "events": len(store.events)}

    return app


def serve(agency_keys: dict[str, str], host: str = "127.0.0.1", port: int = 8033) -> None:
    """Serve the EMC stand-in until interrupted."""
    uvicorn.run(create_app(agency_keys), host=host, port=port, log_level="warning")
