"""Bodies of partner requests, validated at the edge (extra fields refused)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CardCheckBody(Strict):
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


class PersonQueryBody(Strict):
    """A person by personal ID (số định danh) or BHXH code."""

    personal_id: str | None = Field(default=None, min_length=9, max_length=12)
    bhxh_code: str | None = Field(default=None, min_length=10, max_length=10)


class EmployerQueryBody(Strict):
    """An employer by its insurance unit code or enterprise (tax) code."""

    employer_code: str | None = Field(default=None, min_length=1, max_length=20)
    enterprise_code: str | None = Field(default=None, min_length=10, max_length=14)
