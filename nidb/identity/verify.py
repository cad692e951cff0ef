"""Verify person records against the national population database (xác thực, Đề án 06).

`verify_records` takes the records still `unverified`, in record_id order and in chunks. For
each chunk it asks the population service about every record that declares a well-formed
12-digit personal ID, explains each disagreement with the reason codes of
`nidb.identity.reasons` (using nidb's extract of the registry, the `citizens` table, for the
registry's side), and writes the outcome:

- `verified`: the ID is found and the record agrees with the registry, possibly after *safe
  fixes*, differences that can only be the same person written differently (diacritics alone,
  a year-only birth date, a missing gender). A fix adopts the registry's value, is confirmed by
  asking the service again with it, and is audited with the values before and after. A
  `verified` identity link (BHXH code ↔ personal ID) is opened.
- `review`: the ID is found but the record disagrees in a way a person must judge (a typo, a
  missing middle name, a swapped or different date, another gender or birth province, an ID
  that contradicts the record's own gender or birth year); a review item is queued.
- `unmatched`: no usable ID (missing, old CMND, malformed), an ID the registry does not know,
  or an ID that is someone else's (`ID_MISMATCH`: neither the name nor the birth date is
  this record's); such records need matching (`nidb match`).

A dead person adds `PERSON_DEAD` and an `identity.person_dead` outbox event. Each chunk's
outcomes, audit entries, links, review items and events are one transaction, and every update
is guarded by `verification_status = 'unverified'`: a run killed at any point, or stopped
because the service is down, is resumed by running it again, and no record is written twice.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from enum import StrEnum

from sqlalchemy import Connection, DateTime, Engine, TextClause, bindparam, func, select, text

from nidb.domain.dates import PartialDate, parse_birth_date
from nidb.domain.errors import DomainError
from nidb.domain.gender import Gender
from nidb.domain.identifiers import PersonalId
from nidb.domain.names import NameForms, ToneStyle, name_forms, to_tone_style
from nidb.identity.connector import (
    MAX_BATCH,
    FieldResult,
    LifeStatus,
    PopulationClient,
    PopulationError,
    PopulationRequestRejected,
    VerifyRequest,
    VerifyResult,
)
from nidb.identity.reasons import IdentityView, Reason, explain, join_reasons
from nidb.settings import actor_name
from nidb.store import models

__all__ = [
    "CHUNK_RECORDS",
    "SAFE_FIXES",
    "CitizenRow",
    "Fix",
    "RecordRow",
    "Status",
    "Verdict",
    "VerificationStopped",
    "VerifyReport",
    "classify",
    "verify_records",
]

CHUNK_RECORDS = 5000
"""Records verified and written per transaction."""
PURPOSE = "XAC_THUC_DAN_CU"
"""Audit purpose code: verification against the population database."""

Progress = Callable[[int, int], None]
"""Called with (records done, records to do) after each chunk."""


class Status(StrEnum):
    """Where verification leaves a record (`persons.verification_status`)."""

    VERIFIED = "verified"
    REVIEW = "review"
    UNMATCHED = "unmatched"


SAFE_FIXES = frozenset({Reason.NAME_DIACRITICS, Reason.DOB_YEAR_ONLY, Reason.GENDER_MISSING})
"""Disagreements that can only be the same person written differently; fixed automatically
when they are the only ones."""
_INFORMATIONAL = frozenset({Reason.PERSON_DEAD})
_WITHOUT_USABLE_ID = {
    None: Reason.ID_MISSING,
    "cmnd": Reason.ID_OLD_CMND,
    "cccd_invalid": Reason.ID_CHECK_FAILED,
}
_ORDER = {reason: i for i, reason in enumerate(Reason)}


class VerificationStopped(Exception):
    """The population service failed; the chunks finished before it are kept.

    `report` counts what was done; `cause` is the connector's error. Running again resumes.
    """

    def __init__(self, report: VerifyReport, cause: PopulationError) -> None:
        super().__init__(
            f"dịch vụ CSDL dân cư không trả lời được, đã dừng sau {report.records:,} hồ sơ; "
            f"chạy lại để tiếp tục (population service failed, stopped after "
            f"{report.records:,} records; run again to resume): {cause}"
        )
        self.report = report
        self.cause = cause


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
    disagreements = set(ordered) - _INFORMATIONAL
    if not disagreements:
        return Verdict(record, Status.VERIFIED, ordered, death_date=death_date)
    if disagreements <= SAFE_FIXES and citizen is not None:
        fixes = _fixes(record, citizen, sorted(disagreements, key=_ORDER.__getitem__))
        return Verdict(record, Status.VERIFIED, ordered, fixes, death_date=death_date)
    return Verdict(record, Status.REVIEW, ordered, death_date=death_date)


# --- the report -------------------------------------------------------------------------------


@dataclass
class VerifyReport:
    """What one verification run did."""

    records: int = 0
    """Records whose verdict was written."""
    by_status: Counter[str] = field(default_factory=Counter)
    by_reason: Counter[str] = field(default_factory=Counter)
    safe_fixes: Counter[str] = field(default_factory=Counter)
    fixes_unconfirmed: int = 0
    """Safe fixes the service did not confirm (the extract is older than the registry)."""
    review_items: int = 0
    links_opened: int = 0
    deaths: int = 0
    skipped: int = 0
    """Records changed or verified by someone else meanwhile; left for the next run."""
    remaining: int = 0
    """Records still unverified after the run."""
    chunks: int = 0
    seconds: float = 0.0

    @property
    def records_per_second(self) -> float:
        """Throughput of the run, service calls included."""
        return self.records / self.seconds if self.seconds else 0.0


# --- the run ----------------------------------------------------------------------------------


def verify_records(
    engine: Engine,
    client: PopulationClient,
    *,
    batch_size: int = 500,
    concurrency: int = 4,
    limit: int | None = None,
    progress: Progress | None = None,
    actor: str | None = None,
    chunk_size: int = CHUNK_RECORDS,
) -> VerifyReport:
    """Verify the records still `unverified` (at most `limit`), one transaction per chunk.

    `batch_size` and `concurrency` go to `client.verify_many`. Raises VerificationStopped when
    the service fails (after the client's retries, or with its circuit open); the chunks
    written before are kept and a new run continues with the rest.
    """
    if not 1 <= batch_size <= MAX_BATCH:
        raise ValueError(f"batch_size must be within 1..{MAX_BATCH}, not {batch_size}")
    if concurrency < 1 or chunk_size < 1 or (limit is not None and limit < 0):
        raise ValueError("concurrency and chunk_size must be positive, limit not negative")
    actor = actor or actor_name()
    started = time.perf_counter()
    report = VerifyReport()
    total = _unverified(engine)
    total = min(total, limit) if limit is not None else total
    fetch = _Fetcher(engine, client, batch_size, concurrency, total, chunk_size)
    done = 0
    # While one chunk is classified and written, the service already checks the next one.
    ahead = ThreadPoolExecutor(max_workers=1, thread_name_prefix="verify-fetch")
    try:
        pending = ahead.submit(fetch.next)
        while (chunk := pending.result()) is not None:
            pending = ahead.submit(fetch.next)
            verdicts = _classify_chunk(client, chunk, batch_size, concurrency, report)
            with engine.begin() as conn:
                _write_chunk(conn, verdicts, actor, report)
            done += len(chunk.records)
            report.chunks += 1
            if progress is not None:
                progress(done, total)
    except PopulationError as error:
        _finish(engine, report, started)
        raise VerificationStopped(report, error) from error
    finally:
        # the chunk being fetched must finish before the caller may close the client
        fetch.stop()
        ahead.shutdown(wait=True, cancel_futures=True)
    _finish(engine, report, started)
    return report


def _unverified(engine: Engine) -> int:
    persons = models.Person.__table__
    with engine.connect() as conn:
        count = conn.execute(
            select(func.count()).where(persons.c.verification_status == "unverified")
        ).scalar_one()
    return int(count)


def _finish(engine: Engine, report: VerifyReport, started: float) -> None:
    report.remaining = _unverified(engine)
    report.seconds = time.perf_counter() - started


@dataclass(frozen=True, slots=True)
class _Chunk:
    records: list[RecordRow]
    asked: list[RecordRow]
    answers: dict[str, VerifyResult]
    citizens: dict[str, CitizenRow]


class _Fetcher:
    """Reads the next chunk of unverified records and has the service check it."""

    def __init__(
        self,
        engine: Engine,
        client: PopulationClient,
        batch_size: int,
        concurrency: int,
        total: int,
        chunk_size: int,
    ) -> None:
        self.engine, self.client = engine, client
        self.batch_size, self.concurrency = batch_size, concurrency
        self.left, self.chunk_size = total, chunk_size
        self.after = ""  # keyset: record_ids are read in order, each once per run
        self.stopped = False

    def stop(self) -> None:
        self.stopped = True

    def next(self) -> _Chunk | None:
        if self.left <= 0 or self.stopped:
            return None
        records = _read_chunk(self.engine, self.after, min(self.chunk_size, self.left))
        if not records:
            return None
        self.after = records[-1].record_id
        self.left -= len(records)
        asked = [r for r in records if r.declared_id_kind == "cccd" and r.declared_id]
        results = self.client.verify_many(map(_request, asked), self.batch_size, self.concurrency)
        answers = dict(zip((r.record_id for r in asked), results, strict=True))
        citizens = _citizens(self.engine, [r.declared_id for r in asked if r.declared_id])
        return _Chunk(records, asked, answers, citizens)


def _read_chunk(engine: Engine, after: str, size: int) -> list[RecordRow]:
    persons = models.Person.__table__
    query = (
        select(*(persons.c[c] for c in RECORD_COLUMNS))
        .where(persons.c.verification_status == "unverified", persons.c.record_id > after)
        .order_by(persons.c.record_id)
        .limit(size)
    )
    with engine.connect() as conn:
        return [RecordRow(*row) for row in conn.execute(query)]


def _citizens(engine: Engine, ids: Sequence[str]) -> dict[str, CitizenRow]:
    citizens = models.Citizen.__table__
    query = select(*(citizens.c[c] for c in CITIZEN_COLUMNS)).where(
        citizens.c.personal_id.in_(bindparam("ids", expanding=True))
    )
    found: dict[str, CitizenRow] = {}
    with engine.connect() as conn:
        for part in _pieces(sorted(set(ids)), 1000):
            found.update((row[0], CitizenRow(*row)) for row in conn.execute(query, {"ids": part}))
    return found


def _pieces(items: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    return (items[i : i + size] for i in range(0, len(items), size))


def _request(record: RecordRow) -> VerifyRequest:
    assert record.declared_id is not None
    return VerifyRequest(
        record.declared_id,
        record.full_name,
        record.date_of_birth,
        None if record.gender is None else Gender(record.gender),
    )


def _classify_chunk(
    client: PopulationClient,
    chunk: _Chunk,
    batch_size: int,
    concurrency: int,
    report: VerifyReport,
) -> list[Verdict]:
    _search_missing(client, chunk.asked, chunk.answers, chunk.citizens, concurrency)
    answers, citizens = chunk.answers, chunk.citizens
    verdicts = [
        classify(r, answers.get(r.record_id), citizens.get(r.declared_id or ""))
        for r in chunk.records
    ]
    return _confirm_fixes(client, verdicts, batch_size, concurrency, report)


def _search_missing(
    client: PopulationClient,
    asked: list[RecordRow],
    answers: dict[str, VerifyResult],
    citizens: dict[str, CitizenRow],
    concurrency: int,
) -> None:
    """Fetch the registry's side by demographic search where nidb's extract lacks the ID.

    Only for records the service found but disagrees with: the search is diacritic-blind and
    by birth year, so it finds the person when the cause is diacritics, tone placement or a
    year-only date; otherwise the disagreement keeps its coarse code.
    """
    wanted = [
        r
        for r in asked
        if r.declared_id not in citizens
        and answers[r.record_id].found
        and not answers[r.record_id].all_match
    ]
    if not wanted:
        return

    def search(record: RecordRow) -> CitizenRow | None:
        try:
            result = client.search(record.full_name, str(record.birth_year))
        except PopulationRequestRejected:  # a name the service will not search: stay coarse
            return None
        for candidate in result.candidates:
            if candidate.personal_id == record.declared_id:
                born = parse_birth_date(candidate.date_of_birth)
                return CitizenRow(
                    candidate.personal_id,
                    candidate.full_name,
                    name_forms(candidate.full_name).base,
                    born.iso(),
                    born.precision.value,
                    born.year,
                    candidate.gender.value,
                    candidate.birth_province,
                )
        return None

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        for found in pool.map(search, wanted):
            if found is not None:
                citizens[found.personal_id] = found


def _confirm_fixes(
    client: PopulationClient,
    verdicts: list[Verdict],
    batch_size: int,
    concurrency: int,
    report: VerifyReport,
) -> list[Verdict]:
    """Ask the service again with the fixed values; an unconfirmed fix goes to review."""
    fixed = [i for i, v in enumerate(verdicts) if v.fixes]
    if not fixed:
        return verdicts
    records = [verdicts[i].fixed_record() for i in fixed]
    answers = client.verify_many(map(_request, records), batch_size, concurrency)
    confirmed = list(verdicts)
    for i, record, answer in zip(fixed, records, answers, strict=True):
        again = classify(record, answer, None if not answer.found else _as_citizen(record))
        if set(again.reasons) - _INFORMATIONAL:
            confirmed[i] = replace(verdicts[i], status=Status.REVIEW, fixes=())
            report.fixes_unconfirmed += 1
    return confirmed


def _as_citizen(record: RecordRow) -> CitizenRow:
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


# --- writing a chunk --------------------------------------------------------------------------

_CLAIM = (
    "SELECT record_id, batch_id FROM persons "
    "WHERE record_id IN :ids AND verification_status = 'unverified'"
)
_TAKE_WRITE_LOCK = "UPDATE persons SET verification_status = verification_status WHERE 0 = 1"
_FIXABLE = ("full_name", "name_base", "date_of_birth", "dob_precision", "birth_year", "gender")
# One UPDATE per record, not set-based SQL over a staged chunk: a join with a temporary table
# is planned from statistics that a bulk run itself makes stale (PostgreSQL then scanned a
# whole table once per staged row), while a statement on one key always uses its index.
_UPDATE = (
    "UPDATE persons SET verification_status = :status, verification_reasons = :reasons, "
    "verified_personal_id = :personal_id, verified_at = :verified_at, "
    + ", ".join(f"{c} = :{c}" for c in _FIXABLE)
    + " WHERE record_id = :record_id AND verification_status = 'unverified'"
)
_PYFORMAT = re.compile(r":(\w+)")
_OPEN_LINKS_OF = text(
    "SELECT bhxh_code, personal_id FROM identity_links WHERE personal_id IN :ids "
    "AND source = 'verified' AND valid_to IS NULL"
).bindparams(bindparam("ids", expanding=True))
_OPEN_ITEMS_OF = text(
    "SELECT record_id, candidate_personal_id FROM review_items WHERE record_id IN :ids "
    "AND kind = 'verification' AND status = 'open'"
).bindparams(bindparam("ids", expanding=True))
_AUDIT_COLUMNS = (
    "occurred_at",
    "actor",
    "action",
    "subject_type",
    "subject_id",
    "purpose",
    "detail",
)
_LINK_COLUMNS = ("bhxh_code", "personal_id", "source", "valid_from")
_ITEM_COLUMNS = ("record_id", "kind", "candidate_personal_id", "reasons", "status", "created_at")
_EVENT_COLUMNS = ("created_at", "topic", "subject_key", "payload")

Row = tuple[object, ...]


def _update_each(conn: Connection, rows: list[dict[str, object]]) -> None:
    """Run the guarded UPDATE once per record, straight through the driver.

    The driver takes the rows as they are (sqlite3 reads `:name`, psycopg `%(name)s`),
    without SQLAlchemy's per-row parameter processing, most of the cost of a chunk.
    """
    if not rows:
        return
    statement = _UPDATE if conn.dialect.name == "sqlite" else _PYFORMAT.sub(r"%(\1)s", _UPDATE)
    conn.exec_driver_sql(statement, rows)


def _append(conn: Connection, table: str, columns: tuple[str, ...], rows: list[Row]) -> int:
    """Insert rows into a table: COPY on PostgreSQL, the driver's executemany on SQLite."""
    if not rows:
        return 0
    raw = conn.connection.driver_connection
    assert raw is not None
    names = ", ".join(columns)
    if conn.dialect.name == "postgresql":
        with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        marks = ", ".join("?" for _ in columns)
        raw.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)
    return len(rows)


def _db_time(conn: Connection, moment: datetime) -> object:
    """A timestamp as the driver takes it (SQLite: SQLAlchemy's text form, read back alike)."""
    process = DateTime(timezone=True).dialect_impl(conn.dialect).bind_processor(conn.dialect)
    return moment if process is None else process(moment)


def _claim(conn: Connection, verdicts: list[Verdict]) -> set[str]:
    """Lock the chunk's records still unverified and unchanged since they were read.

    PostgreSQL locks the rows (FOR UPDATE, which re-reads a row another run just committed);
    SQLite is given its one write lock before reading. So two runs at once never both write a
    record; a record re-imported meanwhile (its batch changed) is left for the next run.
    """
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(_TAKE_WRITE_LOCK)  # writes nothing, but takes the lock
        query = text(_CLAIM)
    else:
        query = text(_CLAIM + " FOR UPDATE")
    query = query.bindparams(bindparam("ids", expanding=True))
    read = {v.record.record_id: v.record.batch_id for v in verdicts}
    claimed: set[str] = set()
    for part in _pieces(sorted(read), 1000):
        for record_id, batch_id in conn.execute(query, {"ids": list(part)}):
            if read[record_id] == batch_id:
                claimed.add(record_id)
    return claimed


def _not_open(
    conn: Connection, existing: TextClause, rows: list[Row], pair: tuple[int, int], by: int
) -> list[Row]:
    """The rows whose `pair` of values is not open yet (`existing`), each pair once.

    `existing` is looked up once per chunk by the values at index `by`, not with a NOT EXISTS
    per row: a per-row guard is planned from statistics, and with stale ones PostgreSQL
    scanned every open item for every row.
    """
    seen: set[Row] = set()
    for part in _pieces(sorted({str(row[by]) for row in rows}), 1000):
        seen.update(tuple(found) for found in conn.execute(existing, {"ids": list(part)}))
    fresh = []
    for row in rows:
        key = (row[pair[0]], row[pair[1]])
        if key not in seen:
            seen.add(key)
            fresh.append(row)
    return fresh


def _write_chunk(
    conn: Connection, verdicts: list[Verdict], actor: str, report: VerifyReport
) -> None:
    """Write a chunk's verdicts with their audit entries, links, review items and events."""
    now = _db_time(conn, datetime.now(UTC))
    claimed = _claim(conn, verdicts)
    report.skipped += len(verdicts) - len(claimed)
    mine = [v for v in verdicts if v.record.record_id in claimed]
    updates: list[dict[str, object]] = []
    audits: list[Row] = []
    links: list[Row] = []
    items: list[Row] = []
    events: list[Row] = []
    for v in mine:
        record = v.fixed_record() if v.fixes else v.record
        verified = v.status is Status.VERIFIED
        reasons = join_reasons(v.reasons)
        update = {c: getattr(record, c) for c in _FIXABLE}
        update |= {
            "record_id": record.record_id,
            "status": v.status.value,
            "reasons": reasons,
            "personal_id": record.declared_id if verified else None,
            "verified_at": now if verified else None,
        }
        updates.append(update)
        audits.append(_audit_row(now, actor, "verify", record.record_id, _verify_detail(v)))
        for fix in v.fixes:
            changes = {c: {"before": b, "after": a} for c, (b, a) in fix.changes.items()}
            detail = {"reason": fix.reason.value, "changes": changes}
            audits.append(_audit_row(now, actor, "safe_fix", record.record_id, detail))
            report.safe_fixes[fix.reason.value] += 1
        if verified:
            links.append((record.bhxh_code, record.declared_id, "verified", now))
        elif v.status is Status.REVIEW:
            items.append(
                (record.record_id, "verification", record.declared_id, reasons, "open", now)
            )
        if v.dead:
            events.append(_death_event(v, now))
        report.by_status[v.status.value] += 1
        report.by_reason.update(r.value for r in v.reasons)
    _update_each(conn, updates)
    _append(conn, "audit_log", _AUDIT_COLUMNS, audits)
    links = _not_open(conn, _OPEN_LINKS_OF, links, pair=(0, 1), by=1)
    report.links_opened += _append(conn, "identity_links", _LINK_COLUMNS, links)
    items = _not_open(conn, _OPEN_ITEMS_OF, items, pair=(0, 2), by=0)
    report.review_items += _append(conn, "review_items", _ITEM_COLUMNS, items)
    report.deaths += _append(conn, "outbox_events", _EVENT_COLUMNS, events)
    report.records += len(mine)


def _verify_detail(verdict: Verdict) -> dict[str, object]:
    record = verdict.record
    detail: dict[str, object] = {
        "status": verdict.status.value,
        "reasons": [r.value for r in verdict.reasons],
        "personal_id": record.declared_id if record.declared_id_kind == "cccd" else None,
    }
    if verdict.superseded_by:
        detail["superseded_by"] = verdict.superseded_by
    if verdict.fixes:
        detail["safe_fixes"] = [f.reason.value for f in verdict.fixes]
    return detail


def _audit_row(now: object, actor: str, action: str, record_id: str, detail: object) -> Row:
    return (now, actor, action, "person_record", record_id, PURPOSE, json.dumps(detail))


def _death_event(verdict: Verdict, now: object) -> Row:
    record = verdict.record
    payload = {
        "personal_id": record.declared_id,
        "record_id": record.record_id,
        "bhxh_code": record.bhxh_code,
        "death_date": None if verdict.death_date is None else verdict.death_date.isoformat(),
    }
    return (now, "identity.person_dead", f"person:{record.declared_id}", json.dumps(payload))
