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
A record merged into another by the register's dedupe (`merged_into` set) is neither verified
nor counted as unverified: its survivor carries the person.

The run is a pipeline of three stages on three threads: the next chunk is read and checked by
the service while the current one is classified, and the one before is written. Verdicts are
in `nidb.identity.verify_classify`, reads and writes in `nidb.identity.verify_store`.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace

from sqlalchemy import Engine

from nidb.connectors.population import (
    MAX_BATCH,
    PopulationClient,
    PopulationError,
    PopulationRequestRejected,
    VerifyRequest,
    VerifyResult,
)
from nidb.domain.dates import parse_birth_date
from nidb.domain.gender import Gender
from nidb.domain.names import name_forms
from nidb.identity.verify_classify import (
    INFORMATIONAL,
    SAFE_FIXES,
    CitizenRow,
    Fix,
    RecordRow,
    Status,
    Verdict,
    as_citizen,
    classify,
)
from nidb.identity.verify_store import Written, citizens, read_chunk, unverified, write_chunk
from nidb.settings import actor_name

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

Progress = Callable[[int, int], None]
"""Called with (records done, records to do) after each chunk."""


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

    def add(self, written: Written) -> None:
        """Count a written chunk."""
        self.records += written.records
        self.skipped += written.skipped
        self.by_status.update(written.by_status)
        self.by_reason.update(written.by_reason)
        self.safe_fixes.update(written.safe_fixes)
        self.links_opened += written.links
        self.review_items += written.items
        self.deaths += written.deaths
        self.chunks += 1


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
    total = unverified(engine)
    total = min(total, limit) if limit is not None else total
    fetch = _Fetcher(engine, client, batch_size, concurrency, total, chunk_size)
    ahead = ThreadPoolExecutor(max_workers=1, thread_name_prefix="verify-fetch")
    writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="verify-write")
    writing: tuple[Future[Written], int] | None = None
    done = 0

    def write(verdicts: list[Verdict]) -> Written:
        with engine.begin() as conn:
            return write_chunk(conn, verdicts, actor)

    def written() -> None:  # count the chunk being written once it is committed
        nonlocal writing, done
        if writing is not None:
            future, size = writing
            writing = None
            report.add(future.result())
            done += size
            if progress is not None:
                progress(done, total)

    try:
        pending = ahead.submit(fetch.next)
        while (chunk := pending.result()) is not None:
            pending = ahead.submit(fetch.next)
            verdicts = _classify_chunk(client, chunk, batch_size, concurrency, report)
            written()
            writing = (writer.submit(write, verdicts), len(chunk.records))
        written()
    except PopulationError as error:
        fetch.stop()
        written()  # a chunk already classified is kept
        _finish(engine, report, started)
        raise VerificationStopped(report, error) from error
    finally:
        # the chunk being fetched must finish before the caller may close the client
        fetch.stop()
        ahead.shutdown(wait=True, cancel_futures=True)
        writer.shutdown(wait=True)
    _finish(engine, report, started)
    return report


def _finish(engine: Engine, report: VerifyReport, started: float) -> None:
    report.remaining = unverified(engine)
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
        records = read_chunk(self.engine, self.after, min(self.chunk_size, self.left))
        if not records:
            return None
        self.after = records[-1].record_id
        self.left -= len(records)
        asked = [r for r in records if r.declared_id_kind == "cccd" and r.declared_id]
        results = self.client.verify_many(map(_request, asked), self.batch_size, self.concurrency)
        answers = dict(zip((r.record_id for r in asked), results, strict=True))
        found = citizens(self.engine, [r.declared_id for r in asked if r.declared_id])
        return _Chunk(records, asked, answers, found)


def _request(record: RecordRow) -> VerifyRequest:
    assert record.declared_id is not None
    return VerifyRequest(
        record.declared_id,
        record.full_name,
        record.date_of_birth,
        None if record.gender is None else Gender(record.gender),
    )


# --- classifying a chunk: the service's answers, the registry's side, confirmed fixes ----------


def _classify_chunk(
    client: PopulationClient,
    chunk: _Chunk,
    batch_size: int,
    concurrency: int,
    report: VerifyReport,
) -> list[Verdict]:
    _search_missing(client, chunk.asked, chunk.answers, chunk.citizens, concurrency)
    answers, found = chunk.answers, chunk.citizens
    verdicts = [
        classify(r, answers.get(r.record_id), found.get(r.declared_id or "")) for r in chunk.records
    ]
    return _confirm_fixes(client, verdicts, batch_size, concurrency, report)


def _search_missing(
    client: PopulationClient,
    asked: list[RecordRow],
    answers: dict[str, VerifyResult],
    found: dict[str, CitizenRow],
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
        if r.declared_id not in found
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
        for citizen in pool.map(search, wanted):
            if citizen is not None:
                found[citizen.personal_id] = citizen


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
        again = classify(record, answer, None if not answer.found else as_citizen(record))
        if set(again.reasons) - INFORMATIONAL:
            confirmed[i] = replace(verdicts[i], status=Status.REVIEW, fixes=())
            report.fixes_unconfirmed += 1
    return confirmed
