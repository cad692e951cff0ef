"""Pydantic schemas at the edge of the API, separate from the storage models."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from nidb.exchange.bodies import CardCheckBody, EmployerQueryBody, PersonQueryBody, Strict
from nidb.protocol.envelope import MESSAGE_ID

__all__ = ["CardCheckBody", "EmployerQueryBody", "PersonQueryBody", "Strict"]


class HeaderDoc(BaseModel):
    message_id: str = Field(
        pattern=MESSAGE_ID.pattern,
        description="UUID written lower-case with hyphens (its one spelling), never reused",
    )
    sender: str = Field(
        examples=["VN/GOV/BYT/BV-01001"], description="country/class/member/subsystem"
    )
    receiver: str = Field(examples=["VN/GOV/BHXH/CSDLBH"])
    service: str = Field(examples=["card.check/v1"])
    purpose: str = Field(examples=["KCB"])
    issued_at: str = Field(description="ISO 8601 with UTC offset")
    in_reply_to: str | None = Field(default=None, pattern=MESSAGE_ID.pattern)


class EnvelopeDoc(BaseModel):
    """INTERCHANGE.md partner message; signature = detached compact JWS (EdDSA) over canonical JSON."""

    header: HeaderDoc
    body: dict[str, Any]
    signature: str


# --- staff API ----------------------------------------------------------------------------------


class DecisionIn(Strict):
    """An acceptance: the note is optional."""

    note: str | None = Field(default=None, max_length=2000)


class RejectIn(Strict):
    """A rejection: the note saying why is required (blank counts as missing)."""

    note: str = Field(min_length=1, max_length=2000, description="lý do từ chối (bắt buộc)")


class ReviewItemOut(BaseModel):
    id: int
    record_id: str
    kind: str
    candidate_personal_id: str | None
    score: float | None
    reasons: list[str]
    status: str
    created_at: str | None
    decided_by: str | None
    decided_at: str | None
    note: str | None
    full_name: str | None


class FieldOut(BaseModel):
    field: str
    label: str
    record: str | None
    registry: str | None
    reasons: list[str]
    agrees: bool


class ReviewDetailOut(BaseModel):
    item: ReviewItemOut
    fields: list[FieldOut]


class ErrorOut(BaseModel):
    code: str
    message_vi: str
    message_en: str


class ErrorDoc(BaseModel):
    """Every staff API error: ``{"error": {code, message_vi, message_en, …}}``."""

    error: ErrorOut


class AccessOut(BaseModel):
    occurred_at: str
    actor: str
    service: str
    purpose: str | None
    fields: str | None
