"""The service's JSON contract (Pydantic v2): what each endpoint accepts and answers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

from nidb.domain.errors import DomainError, InvalidName, Rule
from nidb.domain.identifiers import PersonalId
from nidb.domain.provinces import PROVINCES_34, PROVINCES_63, is_province_code
from nidb.sim.population.compare import parse_wire_date

__all__ = [
    "MAX_BATCH",
    "AdminChange",
    "BatchVerifyRequest",
    "BatchVerifyResponse",
    "Candidate",
    "ChangeOut",
    "ChangesPage",
    "ErrorDetail",
    "ErrorResponse",
    "FaultSettings",
    "FaultStatus",
    "Health",
    "InjectedFaults",
    "OldIdRequest",
    "OldIdResponse",
    "SearchRequest",
    "SearchResponse",
    "VerifiedFields",
    "VerifyRequest",
    "VerifyResponse",
    "recheck",
]

MAX_BATCH = 1000


# The common checks are regular expressions that pydantic-core runs in Rust: a batch of 1,000
# is validated in a millisecond or two. When one fails, the error handler asks the domain rule
# (`recheck`) for the precise rule code and message; the patterns never accept more than it.
_PROVINCES = "|".join(sorted({*PROVINCES_63, *PROVINCES_34}))
PERSONAL_ID_PATTERN = rf"^0(?:{_PROVINCES})[0-9]{{9}}$"
_YEAR = r"(?:1[89][0-9]{2}|[2-9][0-9]{3})"
_MONTH = r"(?:0[1-9]|1[0-2])"
_DAY = r"(?:0[1-9]|[12][0-9]|3[01])"
PARTIAL_DATE_PATTERN = rf"^{_YEAR}(?:-{_MONTH}(?:-{_DAY})?)?$"
FULL_DATE_PATTERN = rf"^{_YEAR}-{_MONTH}-{_DAY}$"
NAME_PATTERN = r"\S"  # at least one character that is not a space


def _real_day(value: str) -> str:
    """Refuse days past the end of their month (the patterns allow 29-31 everywhere)."""
    if len(value) == 10 and value[8:] > "28":
        try:
            parse_wire_date(value)
        except DomainError as error:
            raise PydanticCustomError(error.rule, "{reason}", {"reason": error.reason}) from None
    return value


def recheck(field: str, value: object) -> DomainError | None:
    """The domain error for a value a pattern refused, if the field has a domain rule."""
    if not isinstance(value, str):
        return None
    try:
        if field in ("personal_id", "new_personal_id"):
            PersonalId(value)
        elif field == "date_of_birth":
            parse_wire_date(value, field)
        elif field == "death_date":
            parse_wire_date(value, field, full=True)
        elif field == "full_name" and not value.strip():
            return InvalidName(
                field,
                value,
                Rule.NAME_EMPTY,
                "họ và tên không được để trống",
                "name must not be empty",
            )
    except DomainError as error:
        return error
    return None


def _province(value: str) -> str:
    code = value.zfill(3)
    if code[0] != "0" or not is_province_code(code[1:]):
        raise PydanticCustomError(
            "PROVINCE_UNKNOWN", "mã tỉnh không có trong danh mục (unknown province code)"
        )
    return code


PersonalIdText = Annotated[
    str,
    Field(
        pattern=PERSONAL_ID_PATTERN,
        description="Số định danh cá nhân: 12 chữ số.",
        examples=["001090012345"],
    ),
]
PartialDate = Annotated[
    str,
    Field(
        pattern=PARTIAL_DATE_PATTERN,
        description="`YYYY-MM-DD`, `YYYY-MM` or `YYYY`.",
        examples=["1990-05-17"],
    ),
    AfterValidator(_real_day),
]
FullDate = Annotated[
    str,
    Field(pattern=FULL_DATE_PATTERN, description="`YYYY-MM-DD`.", examples=["2024-03-01"]),
    AfterValidator(_real_day),
]
FullName = Annotated[
    str, Field(min_length=1, max_length=200, pattern=NAME_PATTERN, examples=["Nguyễn Thị Thu Hà"])
]
ProvinceCode = Annotated[
    str,
    Field(
        pattern=r"^[0-9]{2,3}$",
        description="Province of birth registration, 3 (or 2) digits.",
        examples=["001"],
    ),
    AfterValidator(_province),
]
GenderCode = Literal["M", "F"]
MatchResult = Literal["match", "mismatch"]
DateResult = Literal["match", "mismatch", "partial"]
Status = Literal["alive", "dead"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VerifyRequest(_Strict):
    """Fields of a person to check against the registry (xác thực thông tin công dân)."""

    personal_id: PersonalIdText
    full_name: FullName
    date_of_birth: PartialDate
    gender: GenderCode | None = Field(None, description="Omit to leave the gender unchecked.")


class VerifiedFields(BaseModel):
    """Per-field answer; the registry's own values are never disclosed."""

    full_name: MatchResult = Field(description="Same up to Unicode form, case and spacing.")
    date_of_birth: DateResult = Field(
        description="`partial`: the less precise date (e.g. year only) agrees with the other."
    )
    gender: MatchResult | None = Field(description="`null` when the gender was not asked.")


class VerifyResponse(BaseModel):
    """The registry's answer about one personal ID."""

    personal_id: str
    found: bool
    fields: VerifiedFields | None = Field(description="`null` when the ID is not found.")
    status: Status | None
    death_date: str | None = Field(description="`YYYY-MM-DD` when dead and known.")
    superseded_by: str | None = Field(
        None, description="When not found because the ID was corrected: the corrected ID."
    )


class BatchVerifyRequest(_Strict):
    """Up to 1,000 verifications in one call (more is refused with 413)."""

    requests: list[VerifyRequest] = Field(max_length=MAX_BATCH)


class BatchVerifyResponse(BaseModel):
    """The answers, in the order of the requests."""

    results: list[VerifyResponse]


class SearchRequest(_Strict):
    """Find people by demographics when no personal ID is known (tra cứu)."""

    full_name: FullName = Field(description="Compared without diacritics, case or spacing.")
    date_of_birth: PartialDate = Field(description="Any precision; the birth year must agree.")
    gender: GenderCode | None = None
    birth_province: ProvinceCode | None = None


class Candidate(BaseModel):
    """A person the search found (state agencies may see these fields)."""

    personal_id: str
    full_name: str
    date_of_birth: str
    gender: GenderCode
    birth_province: str | None
    old_id: str | None = Field(
        None, description="Số CMND cũ (9 chữ số) the registry keeps; `null` when none was held."
    )


class OldIdRequest(_Strict):
    """Find the person who held an old 9-digit ID card number (tra cứu theo số CMND cũ)."""

    old_id: Annotated[
        str,
        Field(pattern=r"^[0-9]{9}$", description="Số CMND cũ: 9 chữ số.", examples=["012345678"]),
    ]


class OldIdResponse(BaseModel):
    """The person who held the old ID number, or `found: false`."""

    old_id: str
    found: bool
    person: Candidate | None = Field(description="`null` when no one held this number.")


class SearchResponse(BaseModel):
    """At most 10 candidates, the closest birth date first; `truncated` when more matched."""

    candidates: list[Candidate]
    truncated: bool


ChangeKind = Literal["death", "name_change", "id_correction", "birth", "residence"]


class ChangeOut(BaseModel):
    """One entry of the change feed.

    `data` by kind: death `{"death_date"}`; name_change `{"full_name"}`; id_correction
    `{"new_personal_id"}` (then `personal_id` is the old, wrong one).
    """

    seq: int
    kind: ChangeKind
    personal_id: str
    data: dict[str, str]
    at: datetime


class ChangesPage(BaseModel):
    """Changes after the cursor, oldest first; poll again with `next_cursor`."""

    changes: list[ChangeOut]
    next_cursor: str


class DeathData(_Strict):
    death_date: FullDate


class NameChangeData(_Strict):
    full_name: FullName


class IdCorrectionData(_Strict):
    new_personal_id: PersonalIdText


class BirthData(_Strict):
    """A birth registered (khai sinh): the child's identity, parents, and the residence when
    registered with the birth (else a later ``residence`` change)."""

    full_name: FullName
    date_of_birth: FullDate
    gender: GenderCode
    birth_province: ProvinceCode | None = None
    mother_personal_id: PersonalIdText | None = None
    father_personal_id: PersonalIdText | None = None
    permanent_address: str | None = Field(None, max_length=300)
    household_id: str | None = Field(None, max_length=40)


class ResidenceData(_Strict):
    """A permanent residence registered (đăng ký thường trú)."""

    permanent_address: str = Field(min_length=1, max_length=300)
    household_id: str | None = Field(None, max_length=40)


class _AdminChangeBase(_Strict):
    personal_id: PersonalIdText
    at: datetime | None = Field(None, description="When it happened; default now.")


class DeathChange(_AdminChangeBase):
    """A death registered (khai tử)."""

    kind: Literal["death"]
    data: DeathData


class NameChange(_AdminChangeBase):
    """A change of name (thay đổi họ, chữ đệm, tên)."""

    kind: Literal["name_change"]
    data: NameChangeData


class IdCorrection(_AdminChangeBase):
    """A personal ID corrected; the old one is then reported as superseded."""

    kind: Literal["id_correction"]
    data: IdCorrectionData


class BirthChange(_AdminChangeBase):
    """A birth registered; `personal_id` is the child's new personal ID."""

    kind: Literal["birth"]
    data: BirthData


class ResidenceChange(_AdminChangeBase):
    """A permanent residence registered for a person."""

    kind: Literal["residence"]
    data: ResidenceData


AdminChange = Annotated[
    DeathChange | NameChange | IdCorrection | BirthChange | ResidenceChange,
    Field(discriminator="kind"),
]


class FaultSettings(_Strict):
    """Fault injection in force (see FaultConfig)."""

    error_rate: float = Field(0.0, ge=0, le=1)
    timeout_rate: float = Field(0.0, ge=0, le=1)
    timeout_seconds: float = Field(30.0, ge=0, le=3600)
    latency_ms: float = Field(0.0, ge=0, le=600_000)
    seed: int = 0


class InjectedFaults(BaseModel):
    """Counts since the fault settings were last put in force."""

    requests: int
    errors: int
    timeouts: int


class FaultStatus(FaultSettings):
    """The fault settings in force and what they have done so far."""

    injected: InjectedFaults


class Health(BaseModel):
    """Liveness and size."""

    status: Literal["ok"]
    people: int


class ErrorDetail(BaseModel):
    """One reason a request was refused."""

    field: str = Field(description="Dotted path in the body or query, e.g. `requests.3.gender`.")
    rule: str = Field(description="A stable code, e.g. `PERSONAL_ID_FORMAT` or `missing`.")
    message: str


class ErrorResponse(BaseModel):
    """Every error: a stable `code` and a message in Vietnamese then English."""

    code: str
    message: str
    details: list[ErrorDetail] | None = None
