"""The hospital stand-in: a real HTTP service at the hospital's side of the exchange.

Reception staff post a patient's card and identity to ``/reception``; the HIS signs a
``card.check/v1`` request with the hospital's key, sends it to nidb over HTTP, checks nidb's
signature on the answer and shows the result. ``/discharge`` sends the visit summary with
``visits.submit/v1``. The hospital's own records of what it asked are at ``/log``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, Field

from nidb.apidocs import mount_offline_docs
from nidb.protocol.client import ExchangeClient, ReplyNotTrusted
from nidb.protocol.keys import SigningKey


class Patient(BaseModel):
    card_code: str = Field(min_length=10, max_length=15)
    full_name: str = Field(min_length=1, max_length=200)
    date_of_birth: str = Field(min_length=4, max_length=10)
    gender: str | None = None


class Discharge(BaseModel):
    card_code: str = Field(min_length=10, max_length=15)
    icd10: str
    inpatient: bool = False
    admitted_at: datetime
    discharged_at: datetime
    total_cost: int = Field(ge=0)
    insurer_paid: int = Field(ge=0)
    patient_paid: int = Field(ge=0)


def create_app(nidb_url: str, member: str, key: SigningKey) -> FastAPI:
    """The HIS of hospital ``member`` (e.g. ``VN/GOV/BYT/BV-01001``) talking to nidb at ``nidb_url``."""
    facility = member.rsplit("-", 1)[-1]
    app = FastAPI(title=f"HIS stand-in {member}", version="1", docs_url=None, redoc_url=None)
    mount_offline_docs(app)  # /docs and /redoc without a CDN
    client = ExchangeClient(nidb_url, member, key)
    log: list[dict[str, Any]] = []

    def _call(service: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            reply = client.call(service, "KCB", body)
        except ReplyNotTrusted as error:
            raise HTTPException(502, f"nidb's reply is not signed by nidb: {error}") from None
        entry = {
            "at": datetime.now(UTC).isoformat(),
            "service": service,
            "status": reply.status,
            "reply_id": reply.header.get("message_id"),
            "body": reply.body,
        }
        log.append(entry)
        if reply.status != 200:
            raise HTTPException(reply.status, reply.body.get("error"))
        return reply.body

    @app.post("/reception", summary="Tiếp đón: tra cứu thẻ BHYT")
    def reception(patient: Patient) -> dict[str, Any]:
        return _call("card.check/v1", patient.model_dump(exclude_none=True))

    @app.post("/discharge", summary="Ra viện: gửi dữ liệu khám chữa bệnh")
    def discharge(visit: Discharge) -> dict[str, Any]:
        body = visit.model_dump(mode="json")
        body.update(visit_id=f"{facility}-{uuid.uuid4().hex[:12]}", facility_code=facility)
        return _call("visits.submit/v1", {"visits": [body]})

    @app.get("/log", summary="Nhật ký của bệnh viện")
    def read_log() -> list[dict[str, Any]]:
        return log

    app.state.client = client  # the owner closes it when the hospital stops
    return app
