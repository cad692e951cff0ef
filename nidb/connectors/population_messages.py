"""The population database's contract as nidb's connector sees it: messages and failures.

The values exchanged with the service (`VerifyRequest`, `VerifyResult` and its per-field
`FieldResult`, search `Candidate`s, change-feed `Change`s), how its JSON answers are parsed
into them (anything outside the contract is a `PopulationProtocolError`), and the errors every
call may raise: `PopulationUnavailable` (retries exhausted; `cause` holds the last error),
`CircuitOpen` (a kind of unavailability), `PopulationRequestRejected` (a 4xx answer) or
`PopulationProtocolError`. The client is in `nidb.connectors.population`, its retry policy and
circuit breaker in `nidb.connectors.resilience`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any, TypeVar

from nidb.domain.gender import Gender

__all__ = [
    "MAX_BATCH",
    "Candidate",
    "Change",
    "ChangeKind",
    "ChangePage",
    "CircuitOpen",
    "FieldResult",
    "LifeStatus",
    "PopulationError",
    "PopulationProtocolError",
    "PopulationRequestRejected",
    "PopulationUnavailable",
    "SearchResult",
    "VerifiedFields",
    "VerifyRequest",
    "VerifyResult",
    "parse",
    "parse_candidate",
    "parse_change",
    "parse_verify_result",
]

MAX_BATCH = 1000
"""The most verifications the service takes in one call."""

_T = TypeVar("_T")


# --- errors ---------------------------------------------------------------------------------


class PopulationError(Exception):
    """Any failure to get an answer from the population database."""


class PopulationUnavailable(PopulationError):
    """The service could not answer: retries are exhausted (or the circuit is open).

    `cause` is the last error met (an httpx exception: a timeout, a refused connection, or an
    `httpx.HTTPStatusError` for a 5xx or 429 answer); `attempts` how many calls were made.
    """

    def __init__(self, message: str, cause: BaseException | None = None, attempts: int = 0) -> None:
        super().__init__(message)
        self.cause = cause
        self.attempts = attempts


class CircuitOpen(PopulationUnavailable):
    """The circuit breaker is open: the service failed repeatedly and is left alone for now.

    `retry_after` is the number of seconds until a probe call will be let through.
    """

    def __init__(self, retry_after: float) -> None:
        super().__init__(
            f"population service circuit is open; next probe in {retry_after:.1f} s", None, 0
        )
        self.retry_after = retry_after


class PopulationRequestRejected(PopulationError):
    """The service refused the request (a 4xx answer other than 429); retrying will not help.

    `code` and `message` come from the service's error body (`message` is Vietnamese, then
    English in brackets); `details` lists the fields at fault when the service gives them.
    """

    def __init__(
        self, status_code: int, code: str, message: str, details: tuple[Mapping[str, str], ...]
    ) -> None:
        super().__init__(f"{status_code} {code}: {message}")
        self.status_code = status_code
        self.code = code
        self.message = message
        self.details = details


class PopulationProtocolError(PopulationError):
    """The service answered something the contract does not allow."""


# --- values ---------------------------------------------------------------------------------


class FieldResult(StrEnum):
    """The service's verdict on one field."""

    MATCH = "match"
    MISMATCH = "mismatch"
    PARTIAL = "partial"  # dates only: the less precise one (e.g. year only) agrees


class LifeStatus(StrEnum):
    """Whether the registry holds the person as alive or dead."""

    ALIVE = "alive"
    DEAD = "dead"


class ChangeKind(StrEnum):
    """What a change-feed entry records."""

    DEATH = "death"
    NAME_CHANGE = "name_change"
    ID_CORRECTION = "id_correction"
    BIRTH = "birth"  # data: the child's identity, parents, residence if registered with it
    RESIDENCE = "residence"  # data: permanent_address, household_id


@dataclass(frozen=True, slots=True)
class VerifyRequest:
    """What to check about one person (xác thực thông tin công dân).

    `date_of_birth` is `YYYY-MM-DD`, `YYYY-MM` or `YYYY`; `gender` None leaves it unchecked.
    """

    personal_id: str
    full_name: str
    date_of_birth: str
    gender: Gender | None = None

    def to_json(self) -> dict[str, Any]:
        """The request as the service's JSON body."""
        return {
            "personal_id": self.personal_id,
            "full_name": self.full_name,
            "date_of_birth": self.date_of_birth,
            "gender": None if self.gender is None else self.gender.value,
        }


@dataclass(frozen=True, slots=True)
class VerifiedFields:
    """The verdict per field; `gender` is None when it was not asked."""

    full_name: FieldResult
    date_of_birth: FieldResult
    gender: FieldResult | None


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """The service's answer about one personal ID.

    When `found` is False, `fields`, `status` and `death_date` are None, and `superseded_by`
    holds the corrected personal ID if this one was replaced.
    """

    personal_id: str
    found: bool
    fields: VerifiedFields | None
    status: LifeStatus | None
    death_date: date | None
    superseded_by: str | None = None

    @property
    def all_match(self) -> bool:
        """Found, and every field asked about matches exactly."""
        fields = self.fields
        return (
            fields is not None
            and fields.full_name is FieldResult.MATCH
            and fields.date_of_birth is FieldResult.MATCH
            and fields.gender in (None, FieldResult.MATCH)
        )


@dataclass(frozen=True, slots=True)
class Candidate:
    """A person found by demographic search."""

    personal_id: str
    full_name: str
    date_of_birth: str
    gender: Gender
    birth_province: str | None


@dataclass(frozen=True, slots=True)
class SearchResult:
    """Search answer: the closest candidates first; `truncated` when more matched."""

    candidates: tuple[Candidate, ...]
    truncated: bool


@dataclass(frozen=True, slots=True)
class Change:
    """One change-feed entry. `data` by kind: death `death_date`; name_change `full_name`;
    id_correction `new_personal_id` (and `personal_id` is the old one)."""

    seq: int
    kind: ChangeKind
    personal_id: str
    data: Mapping[str, str]
    at: datetime


@dataclass(frozen=True, slots=True)
class ChangePage:
    """A page of the change feed; read the next one with `after=next_cursor`."""

    changes: tuple[Change, ...]
    next_cursor: str


# Dict look-ups instead of Enum(value) calls: answers are parsed by the hundred thousand. An
# unknown word raises KeyError, which `parse` reports as a protocol error.
_FIELD_RESULTS = {r.value: r for r in FieldResult}
_STATUSES = {s.value: s for s in LifeStatus}


def parse_verify_result(item: Any) -> VerifyResult:
    fields = item["fields"]
    status = item["status"]
    death = item["death_date"]
    gender = None if fields is None else fields["gender"]
    return VerifyResult(
        item["personal_id"],
        item["found"] is True,
        None
        if fields is None
        else VerifiedFields(
            _FIELD_RESULTS[fields["full_name"]],
            _FIELD_RESULTS[fields["date_of_birth"]],
            None if gender is None else _FIELD_RESULTS[gender],
        ),
        None if status is None else _STATUSES[status],
        None if death is None else date.fromisoformat(death),
        item.get("superseded_by"),
    )


def parse_candidate(item: Any) -> Candidate:
    return Candidate(
        item["personal_id"],
        item["full_name"],
        item["date_of_birth"],
        Gender(item["gender"]),
        item["birth_province"],
    )


def parse_change(item: Any) -> Change:
    return Change(
        int(item["seq"]),
        ChangeKind(item["kind"]),
        item["personal_id"],
        MappingProxyType({str(k): str(v) for k, v in item["data"].items()}),
        datetime.fromisoformat(item["at"]),
    )


def parse(what: str, parse: Callable[[Any], _T], body: Any) -> _T:
    try:
        return parse(body)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise PopulationProtocolError(f"unexpected {what} answer: {error!r}") from error
