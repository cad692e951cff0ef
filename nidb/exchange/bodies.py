"""Bodies of partner requests, validated at the edge (extra fields refused)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from nidb.domain.text import control_character


class Strict(BaseModel):
    """A request body that names every field it may hold; its owner checks the text in it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class PartnerBody(Strict):
    """A partner's message body: every text field is refused at the edge if it holds a control
    character (bodies whose owner checks text itself, the staff note and the claims envelope,
    subclass Strict and answer their own code)."""

    @field_validator("*", mode="after")
    @classmethod
    def _no_control_characters(cls, value: object) -> object:
        """Text from a partner holds no control character (the one rule, nidb.domain.text):
        PostgreSQL refuses a NUL outright, SQLite would store it."""
        if isinstance(value, str) and control_character(value) is not None:
            raise ValueError("control character in text")
        return value


class CardCheckBody(PartnerBody):
    """Card check at a hospital: the card presented and the patient's identity as told."""

    card_code: str = Field(
        min_length=10, max_length=15, description="mã thẻ 15 ký tự hoặc mã số BHXH"
    )
    full_name: str = Field(min_length=1, max_length=200)
    date_of_birth: str = Field(
        min_length=4, max_length=10, description="YYYY, YYYY-MM-DD hoặc DD/MM/YYYY"
    )
    gender: str | None = Field(default=None, max_length=5, description="M/F, Nam/Nữ hoặc 1/2")
    visit_date: date | None = Field(default=None, description="ngày khám; mặc định hôm nay")


class PersonQueryBody(PartnerBody):
    """A person by personal ID (số định danh) or BHXH code."""

    personal_id: str | None = Field(default=None, min_length=9, max_length=12)
    bhxh_code: str | None = Field(
        default=None, min_length=10, max_length=10, pattern=r"^[0-9]{10}$", description="mã số BHXH"
    )


class EmployerQueryBody(PartnerBody):
    """An employer by its insurance unit code or enterprise (tax) code."""

    employer_code: str | None = Field(default=None, min_length=1, max_length=20)
    enterprise_code: str | None = Field(default=None, min_length=10, max_length=14)


class VisitIn(PartnerBody):
    """One visit summary (Decision 130/QĐ-BYT, table 1), as a hospital sends it."""

    visit_id: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._/-]+$")
    card_code: str = Field(min_length=10, max_length=15)
    facility_code: str = Field(min_length=5, max_length=5, pattern=r"^[0-9]{5}$")
    admitted_at: datetime
    discharged_at: datetime
    inpatient: bool
    icd10: str = Field(min_length=3, max_length=8, pattern=r"^[A-Z][0-9]{2}(\.?[0-9A-Z]{1,4})?$")
    total_cost: int = Field(ge=0, le=10**12)
    insurer_paid: int = Field(ge=0, le=10**12)
    patient_paid: int = Field(ge=0, le=10**12)


class VisitsBody(PartnerBody):
    """A batch of visit summaries from one facility (at most 500)."""

    visits: list[VisitIn] = Field(min_length=1, max_length=500)


class ExtractSubmitBody(PartnerBody):
    """A bulk extract: one granted person service over many people (at most 10,000)."""

    service: str = Field(description="person.summary/v1 hoặc participation.history/v1")
    subjects: list[PersonQueryBody] = Field(min_length=1, max_length=10_000)


class ExtractJobBody(PartnerBody):
    job_id: str = Field(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class ExtractResultBody(ExtractJobBody):
    offset: int = Field(default=0, ge=0, le=10_000)
    limit: int = Field(default=500, ge=1, le=1000)
