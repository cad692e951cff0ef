"""The verdict on one person record: how it compares with the population registry.

Pure: given a record, the population service's answer about its declared personal ID and the
registry's side (nidb's extract, the `citizens` table, or the service's search), `classify`
says where verification leaves the record (`Status`) and why (reason codes of
`nidb.identity.reasons`), and which *safe fixes* would settle it (`SAFE_FIXES`: differences that
can only be the same person written differently). Reading and writing records is
`nidb.identity.verify_store`; running verification is `nidb.identity.verify`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date

from nidb.connectors.population_messages import FieldResult, LifeStatus, VerifyResult
from nidb.domain.dates import PartialDate, parse_birth_date
from nidb.domain.errors import DomainError
from nidb.domain.gender import Gender
from nidb.domain.identifiers import PersonalId
from nidb.domain.names import NameForms, ToneStyle, name_forms, to_tone_style
from nidb.domain.verification import VerificationStatus
from nidb.identity.reasons import IdentityView, Reason, explain

__all__ = [
    "CITIZEN_COLUMNS",
    "INFORMATIONAL",
    "RECORD_COLUMNS",
    "SAFE_FIXES",
    "CitizenRow",
    "Fix",
    "RecordRow",
    "Status",
    "Verdict",
    "as_citizen",
    "classify",
]


Status = VerificationStatus
"""Where verification leaves a record (`persons.verification_status`): VERIFIED, REVIEW or
UNMATCHED (the domain's enum, under the name verification has always used)."""


SAFE_FIXES = frozenset({Reason.NAME_DIACRITICS, Reason.DOB_YEAR_ONLY, Reason.GENDER_MISSING})
"""Disagreements that can only be the same person written differently; fixed automatically
when they are the only ones."""
INFORMATIONAL = frozenset({Reason.PERSON_DEAD})
_WITHOUT_USABLE_ID = {
    None: Reason.ID_MISSING,
    "cmnd": Reason.ID_OLD_CMND,
    "cccd_invalid": Reason.ID_CHECK_FAILED,
}
_ORDER = {reason: i for i, reason in enumerate(Reason)}


# --- the two sides of a comparison ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RecordRow:
    """What verification reads of a person record."""

    record_id: str
    bhxh_code: str
    full_name: str
    name_base: str
    date_of_birth: str
    dob_precision: str
    birth_year: int
    gender: str | None
    declared_id: str | None
    declared_id_kind: str | None
    birth_province: str | None
    batch_id: int | None = None


@dataclass(frozen=True, slots=True)
class CitizenRow:
    """The registry's side: a row of nidb's extract, or what the service's search returned."""

    personal_id: str
    full_name: str
    name_base: str
    date_of_birth: str
    dob_precision: str
    birth_year: int
    gender: str | None
    birth_province: str | None
    death_date: date | None = None


RECORD_COLUMNS: tuple[str, ...] = RecordRow.__slots__
CITIZEN_COLUMNS: tuple[str, ...] = CitizenRow.__slots__


def _view(row: RecordRow | CitizenRow) -> IdentityView:
    # stored values were validated on import; an unreadable one is left out, never fatal
    try:
        name: NameForms | None = name_forms(row.full_name)
    except DomainError:
        name = None
    try:
        born: PartialDate | None = parse_birth_date(row.date_of_birth)
    except DomainError:
        born = None
    gender = None if row.gender is None else Gender(row.gender)
    return IdentityView(name, born, gender, row.birth_province)


# --- classification ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Fix:
    """One safe fix: the reason it removes and the changed columns as (before, after)."""

    reason: Reason
    changes: dict[str, tuple[object, object]]


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of verifying one record."""

    record: RecordRow
    status: Status
    reasons: tuple[Reason, ...]
    fixes: tuple[Fix, ...] = ()
    death_date: date | None = None
    superseded_by: str | None = None

    @property
    def dead(self) -> bool:
        """Whether the registry holds the person as dead."""
        return Reason.PERSON_DEAD in self.reasons

    def fixed_record(self) -> RecordRow:
        """The record with every fix applied."""
        values = {column: after for fix in self.fixes for column, (_, after) in fix.changes.items()}
        return replace(self.record, **values)  # type: ignore[arg-type]


_FIELD_OF = {
    Reason.NAME_DIACRITICS: "full_name",
    Reason.NAME_MIDDLE_MISSING: "full_name",
    Reason.NAME_TYPO: "full_name",
    Reason.NAME_DIFFERENT: "full_name",
    Reason.DOB_YEAR_ONLY: "date_of_birth",
    Reason.DOB_DAY_MONTH_SWAPPED: "date_of_birth",
    Reason.DOB_DIFFERENT: "date_of_birth",
    Reason.GENDER_MISSING: "gender",
    Reason.GENDER_MISMATCH: "gender",
}


def _field_reasons(
    record: RecordRow, answer: VerifyResult, citizen: CitizenRow | None
) -> list[Reason]:
    """The record's disagreements with the registry, per field.

    The service is the authority on *whether* a field agrees; the extract says *how* it
    disagrees. A field the service calls a match has no reason even if the extract (older)
    says otherwise; a disagreement the extract cannot explain gets the coarse code.
    """
    assert answer.fields is not None
    verdict = {
        "full_name": answer.fields.full_name,
        "date_of_birth": answer.fields.date_of_birth,
        "gender": answer.fields.gender,
    }
    local = explain(_view(record), _view(citizen)) if citizen is not None else ()
    reasons = [r for r in local if verdict.get(_FIELD_OF.get(r, "")) is not FieldResult.MATCH]
    explained = {_FIELD_OF[r] for r in reasons if r in _FIELD_OF}
    if (
        verdict["full_name"] is FieldResult.MISMATCH
        and "full_name" not in explained
        # the service compares spellings strictly: Hoà and Hòa differ there, not here
        and (
            citizen is None or to_tone_style(record.full_name, ToneStyle.MODERN) == record.full_name
        )
    ):
        reasons.append(Reason.NAME_DIFFERENT)
    if verdict["date_of_birth"] is FieldResult.MISMATCH and "date_of_birth" not in explained:
        reasons.append(Reason.DOB_DIFFERENT)
    if (
        verdict["date_of_birth"] is FieldResult.PARTIAL
        and "date_of_birth" not in explained
        and citizen is None
        and record.dob_precision == "year"
    ):
        reasons.append(Reason.DOB_YEAR_ONLY)
    if verdict["gender"] is FieldResult.MISMATCH and "gender" not in explained:
        reasons.append(Reason.GENDER_MISMATCH)
    if record.gender is None and citizen is None:
        reasons.append(Reason.GENDER_MISSING)
    return reasons


_FIXED_COLUMNS: dict[Reason, tuple[str, ...]] = {
    Reason.NAME_DIACRITICS: ("full_name", "name_base"),
    Reason.DOB_YEAR_ONLY: ("date_of_birth", "dob_precision", "birth_year"),
    Reason.GENDER_MISSING: ("gender",),
}
"""The record columns each safe fix takes from the registry."""


def _fixes(record: RecordRow, citizen: CitizenRow, reasons: Iterable[Reason]) -> tuple[Fix, ...]:
    fixes = []
    for reason in reasons:
        columns = _FIXED_COLUMNS[reason]
        changes = {
            c: (getattr(record, c), getattr(citizen, c))
            for c in columns
            if getattr(record, c) != getattr(citizen, c)
        }
        fixes.append(Fix(reason, changes))
    return tuple(fixes)


def classify(record: RecordRow, answer: VerifyResult | None, citizen: CitizenRow | None) -> Verdict:
    """The verdict on one record, given the service's answer and the registry's side.

    `answer` is None for records without a usable personal ID (they are not asked about);
    `citizen` is None when nidb holds no registry row for the ID. A verdict with fixes is
    `verified` only once the fixes are confirmed (see `verify_records`).
    """
    missing = _WITHOUT_USABLE_ID.get(record.declared_id_kind)
    if missing is not None or answer is None:
        return Verdict(record, Status.UNMATCHED, (missing or Reason.ID_MISSING,))
    if not answer.found or answer.fields is None:
        return Verdict(
            record, Status.UNMATCHED, (Reason.ID_NOT_FOUND,), superseded_by=answer.superseded_by
        )
    fields = answer.fields
    if (
        fields.full_name is FieldResult.MATCH
        and fields.date_of_birth is FieldResult.MATCH
        and fields.gender is FieldResult.MATCH
        and (citizen is None or record.birth_province in (None, citizen.birth_province))
    ):
        reasons: list[Reason] = []  # the common case: nothing to explain
    else:
        reasons = _field_reasons(record, answer, citizen)
    assert record.declared_id is not None
    if PersonalId(record.declared_id).inconsistencies(
        None if record.gender is None else Gender(record.gender), record.birth_year
    ):
        reasons.append(Reason.ID_CHECK_FAILED)
    death_date = None
    if answer.status is LifeStatus.DEAD:
        reasons.append(Reason.PERSON_DEAD)
        death_date = answer.death_date or (citizen.death_date if citizen else None)
    if citizen is not None and {Reason.NAME_DIFFERENT, Reason.DOB_DIFFERENT} <= set(reasons):
        # neither the name nor the birth date is this record's: the ID is someone else's
        reasons.append(Reason.ID_MISMATCH)
    ordered = tuple(sorted(set(reasons), key=_ORDER.__getitem__))
    if Reason.ID_MISMATCH in ordered:
        return Verdict(record, Status.UNMATCHED, ordered, death_date=death_date)
    disagreements = set(ordered) - INFORMATIONAL
    if not disagreements:
        return Verdict(record, Status.VERIFIED, ordered, death_date=death_date)
    if disagreements <= SAFE_FIXES and citizen is not None:
        fixes = _fixes(record, citizen, sorted(disagreements, key=_ORDER.__getitem__))
        return Verdict(record, Status.VERIFIED, ordered, fixes, death_date=death_date)
    return Verdict(record, Status.REVIEW, ordered, death_date=death_date)


def as_citizen(record: RecordRow) -> CitizenRow:
    """The fixed record as the registry side: it holds the registry's values by construction."""
    assert record.declared_id is not None
    return CitizenRow(
        record.declared_id,
        record.full_name,
        record.name_base,
        record.date_of_birth,
        record.dob_precision,
        record.birth_year,
        record.gender,
        record.birth_province,
    )
