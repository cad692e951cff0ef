"""``nidb match`` on the register: link person records that have no verified personal ID.

The same model as the file mode (``match.match_files``) runs on two Parquet extracts of the
store — the person records with no verified personal ID (status ``unverified`` or
``unmatched``) and the registry held in the register (``citizens``) — and its decisions land
in the register, in chunks of records, each chunk one transaction:

- ``auto``: the record becomes ``verified`` as the citizen, an identity link (source ``match``)
  is opened, a ``match_links`` row keeps what was changed (so ``nidb unmatch RUN`` undoes the
  run exactly), with an audit entry and an ``identity.linked`` outbox event per link;
- ``review``: the record goes to ``review`` and a review item of kind ``match`` (the best
  candidate, score and reasons) is queued; the console shows record and citizen side by side,
  and accepting it opens a ``staff`` link (``review_decisions.accept``);
- ``none``: nothing is written.

Every write is guarded by the record still having no verified ID and its status being the one
that was read, so a rerun — after a finished run or after a ``kill -9`` in the middle of
writing — writes each link once: a chunk that committed is not written again, one that did
not commit left nothing.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Select, case, func, insert, select, text, update

from nidb.domain.review import ReviewKind
from nidb.domain.verification import VerificationStatus
from nidb.identity import features
from nidb.identity.match import MatchSummary, Thresholds, match_files
from nidb.store import models
from nidb.store.audit import write_audit, write_event
from nidb.store.models_matching import MatchLink

PURPOSE = "DOI_SANH"
"""The purpose recorded in the audit log for links the matching model wrote (đối sánh)."""
OPEN_STATUSES = (VerificationStatus.UNVERIFIED.value, VerificationStatus.UNMATCHED.value)
"""Statuses of records that have no verified personal ID and no open review."""
RECORD_COLUMNS = features.RECORDS_REQUIRED + features.RECORDS_OPTIONAL
"""The records file's columns (``features``), as the extracts write them."""
REGISTRY_COLUMNS = features.REGISTRY_REQUIRED + features.REGISTRY_OPTIONAL
"""The registry file's columns, ``old_id`` included (docs/interchange.md): the old 9-digit ID
card number is evidence for a record whose declared ID is 9 digits, as in the file mode."""

Stage = Callable[[str], None]


@dataclass
class RegisterMatchSummary:
    """What a register-mode match run wrote."""

    run_id: str
    model: MatchSummary | None = None
    records: int = 0
    """Records decided: those with no verified personal ID (the model sees all of them)."""
    linked: int = 0
    queued: int = 0
    unmatched: int = 0
    skipped: int = 0
    """Records another run (or an earlier attempt of this one) had already decided."""
    chunks: int = 0
    decisions: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class UnmatchResult:
    """What undoing a run restored."""

    run_id: str
    closed_links: int
    restored_records: int


class RunNotFound(ValueError):
    """No link of that run is still in force."""

    def __init__(self, run_id: str) -> None:
        super().__init__(
            f"không có liên kết nào còn hiệu lực của lần đối sánh {run_id} "
            f"(no link of match run {run_id} is still in force)"
        )
        self.run_id = run_id


def _extract(engine: Engine, folder: Path) -> tuple[Path, Path, set[str]]:
    """Write all person records and the citizens as Parquet in the interchange layouts.

    Every record goes to the model — the verified ones teach it what agreement looks like, and
    a rerun left with a few hard records still has data to train on — but only the records of
    the returned set (no verified ID, status ``unverified`` or ``unmatched``, not merged into
    another record by a dedupe merge) are decided.
    """
    persons = models.Person.__table__
    query = records_query(
        persons.c.verified_personal_id, persons.c.verification_status, persons.c.merged_into
    )
    paths = (folder / "records.parquet", folder / "registry.parquet")
    open_ids: set[str] = set()

    def note_open(part: Sequence[Any]) -> None:
        open_ids.update(  # a record merged into another is not decided
            row[0]
            for row in part
            if row[-3] is None and row[-2] in OPEN_STATUSES and row[-1] is None
        )

    with engine.connect() as conn:
        write_extract(conn, query, paths[0], RECORD_COLUMNS, note_open)
        write_extract(conn, registry_query(), paths[1], REGISTRY_COLUMNS)
    return paths[0], paths[1], open_ids


def records_query(*extra: Any) -> Select[Any]:
    """The person records in the records file's columns (the declared ID as ``personal_id``),
    then the ``extra`` columns."""
    persons = models.Person.__table__
    return select(
        *(
            persons.c.declared_id.label("personal_id") if c == "personal_id" else persons.c[c]
            for c in RECORD_COLUMNS
        ),
        *extra,
    )


def write_extract(
    conn: Connection,
    query: Select[Any],
    path: Path,
    columns: Sequence[str],
    each_part: Callable[[Sequence[Any]], None] | None = None,
) -> None:
    """Write the first ``len(columns)`` columns of ``query``'s rows to Parquet at ``path``, as
    text, 50,000 rows at a time; ``each_part`` sees each batch of whole rows first."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([(c, pa.string()) for c in columns])
    with pq.ParquetWriter(path, schema) as writer:
        for part in conn.execution_options(yield_per=50_000).execute(query).partitions():
            if each_part is not None:
                each_part(part)
            cells = [
                [as_text(v) for v in column]
                for column in list(zip(*part, strict=True))[: len(columns)]
            ]
            writer.write_table(pa.table(cells, schema=schema))


def registry_query() -> Select[Any]:
    """The citizens in the registry file's columns; an old ID held by two citizens is left out.

    Such a number names nobody (the file mode refuses a registry file that has one); the
    import keeps a file from bringing one twice, but two files may (docs/interchange.md).
    """
    citizens = models.Citizen.__table__
    shared = (
        select(citizens.c.old_id)
        .where(citizens.c.old_id.is_not(None))
        .group_by(citizens.c.old_id)
        .having(func.count() > 1)
        .subquery("shared_old_ids")
    )
    old_id = case((shared.c.old_id.is_(None), citizens.c.old_id)).label("old_id")
    return select(
        *(old_id if c == "old_id" else citizens.c[c] for c in REGISTRY_COLUMNS)
    ).select_from(citizens.outerjoin(shared, shared.c.old_id == citizens.c.old_id))


def as_text(value: object) -> str | None:
    """A cell of the extracts: dates in ISO form, the rest as ``str``, empty stays empty."""
    if value is None:
        return None
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _decisions(path: Path) -> list[tuple[str, str | None, float, str, str]]:
    """(record_id, personal_id, score, decision, reasons) from a matches Parquet file."""
    import pyarrow.parquet as pq

    table = pq.read_table(path).to_pylist()
    return [
        (r["record_id"], r["personal_id"], float(r["score"]), r["decision"], r["reasons"] or "")
        for r in table
    ]


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def match_register(
    engine: Engine,
    actor: str,
    *,
    chunk_rows: int = 2_000,
    thresholds: Thresholds | None = None,
    stage: Stage | None = None,
    threads: int | None = None,
    after_chunk: Callable[[int], None] | None = None,
) -> RegisterMatchSummary:
    """Match the register's unverified records against its citizens and write the decisions.

    Returns what was written; ``summary.run_id`` names the run for ``unmatch``.
    ``after_chunk`` is called with the number of chunks committed (progress).
    """
    say = stage or (lambda _message: None)
    summary = RegisterMatchSummary(run_id=uuid.uuid4().hex)
    with tempfile.TemporaryDirectory(prefix="nidb-match-") as scratch:
        folder = Path(scratch)
        say("trích hồ sơ chưa xác thực và CSDL dân cư (extracting records and registry)")
        records, registry, open_ids = _extract(engine, folder)
        if not open_ids:
            return summary
        out = folder / "matches.parquet"
        summary.model = match_files(
            registry, records, out, thresholds=thresholds, stage=say, threads=threads
        )
        decided = [row for row in _decisions(out) if row[0] in open_ids]
        summary.records = len(decided)
    say("ghi liên kết và mục đối soát (writing links and review items)")
    for chunk in _chunks(decided, chunk_rows):
        with engine.begin() as conn:
            _write_chunk(conn, chunk, summary, actor)
        summary.chunks += 1
        if after_chunk is not None:
            after_chunk(summary.chunks)
    return summary


def _current(conn: Connection, record_ids: Sequence[str]) -> dict[str, tuple[str, str]]:
    """(bhxh_code, status) of the records of ``record_ids`` that still have no verified ID."""
    persons = models.Person.__table__
    query = select(persons.c.record_id, persons.c.bhxh_code, persons.c.verification_status).where(
        persons.c.record_id.in_(list(record_ids)),
        persons.c.verified_personal_id.is_(None),
        persons.c.verification_status.in_(OPEN_STATUSES),
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    return {row[0]: (row[1], row[2]) for row in conn.execute(query)}


def _claim(conn: Connection, record_id: str, previous: str, values: dict[str, Any]) -> bool:
    """Update the record if it is still as read; whether it was."""
    done = conn.execute(
        update(models.Person)
        .where(
            models.Person.record_id == record_id,
            models.Person.verified_personal_id.is_(None),
            models.Person.verification_status == previous,
        )
        .values(**values)
    ).rowcount
    return bool(done == 1)


def _write_chunk(
    conn: Connection,
    chunk: Sequence[tuple[str, str | None, float, str, str]],
    summary: RegisterMatchSummary,
    actor: str,
) -> None:
    if conn.dialect.name == "sqlite":  # take the write lock first: no upgrade deadlock
        conn.execute(text("UPDATE persons SET verification_status = verification_status WHERE 0"))
    now = datetime.now(UTC)
    current = _current(conn, [row[0] for row in chunk])
    for record_id, personal_id, score, decision, reasons in chunk:
        summary.decisions[decision] = summary.decisions.get(decision, 0) + 1
        if decision == "none":
            summary.unmatched += 1
            continue
        if record_id not in current or personal_id is None:
            summary.skipped += 1
            continue
        bhxh_code, previous = current[record_id]
        if decision == "auto":
            _link(conn, summary.run_id, record_id, bhxh_code, personal_id, score, reasons, previous,
                  actor, now)  # fmt: skip
            summary.linked += 1
        else:
            _queue(conn, record_id, personal_id, score, reasons, previous, actor)
            summary.queued += 1


def _link(
    conn: Connection,
    run_id: str,
    record_id: str,
    bhxh_code: str,
    personal_id: str,
    score: float,
    reasons: str,
    previous: str,
    actor: str,
    now: datetime,
) -> None:
    """Verify the record as the citizen and open a ``match`` identity link, audited."""
    values = {
        "verification_status": VerificationStatus.VERIFIED.value,
        "verified_personal_id": personal_id,
        "verification_reasons": reasons[:400] or None,
        "verified_at": now,
    }
    if not _claim(conn, record_id, previous, values):
        return
    links = models.IdentityLink.__table__
    # two records of one BHXH code linked to one citizen share one link
    link_id = conn.execute(
        select(links.c.id).where(
            links.c.bhxh_code == bhxh_code,
            links.c.personal_id == personal_id,
            links.c.source == "match",
            links.c.valid_to.is_(None),
        )
    ).scalar()
    if link_id is None:
        link_id = conn.execute(
            insert(models.IdentityLink)
            .values(
                bhxh_code=bhxh_code,
                personal_id=personal_id,
                source="match",
                valid_from=now,
                note=f"match run {run_id}",
            )
            .returning(models.IdentityLink.id)
        ).scalar_one()
    conn.execute(
        insert(MatchLink).values(
            run_id=run_id,
            record_id=record_id,
            bhxh_code=bhxh_code,
            personal_id=personal_id,
            score=score,
            previous_status=previous,
            link_id=link_id,
        )
    )
    detail = {
        "run_id": run_id,
        "personal_id": personal_id,
        "score": score,
        "reasons": reasons.split(";") if reasons else [],
        "previous_status": previous,
        "link_id": link_id,
    }
    write_audit(
        conn,
        actor=actor,
        action="match.link",
        subject_type="person_record",
        subject_id=record_id,
        purpose=PURPOSE,
        detail=detail,
    )
    write_event(
        conn,
        "identity.linked",
        f"person:{personal_id}",
        {"record_id": record_id, "bhxh_code": bhxh_code, "personal_id": personal_id,
         "source": "match", "run_id": run_id},
    )  # fmt: skip


def _queue(
    conn: Connection,
    record_id: str,
    personal_id: str,
    score: float,
    reasons: str,
    previous: str,
    actor: str,
) -> None:
    """Send the record to review with its best candidate (a review item of kind ``match``)."""
    values = {
        "verification_status": VerificationStatus.REVIEW.value,
        "verification_reasons": reasons[:400] or None,
    }
    if not _claim(conn, record_id, previous, values):
        return
    conn.execute(
        insert(models.ReviewItem).values(
            record_id=record_id,
            kind=ReviewKind.MATCH.value,
            candidate_personal_id=personal_id,
            score=score,
            reasons=reasons,
            status="open",
        )
    )
    write_audit(
        conn,
        actor=actor,
        action="match.review",
        subject_type="person_record",
        subject_id=record_id,
        purpose=PURPOSE,
        detail={"personal_id": personal_id, "score": score, "previous_status": previous,
                "reasons": reasons.split(";") if reasons else []},
    )  # fmt: skip


def unmatch(engine: Engine, run_id: str, actor: str, reason: str) -> UnmatchResult:
    """Undo the automatic links of a match run: close each link, restore each record.

    A record is restored only if it is still verified as the run left it (a staff decision
    made since is kept). One transaction; audited per record with an ``identity.unlinked``
    event. Raises RunNotFound when the run has no link in force.
    """
    if not reason.strip():
        raise ValueError("cần ghi lý do hoàn tác (a reason is required)")
    now = datetime.now(UTC)
    links = MatchLink.__table__
    with engine.begin() as conn:
        rows = conn.execute(
            select(links).where(links.c.run_id == run_id, links.c.undone_at.is_(None))
        ).all()
        if not rows:
            raise RunNotFound(run_id)
        restored = 0
        for row in rows:
            conn.execute(
                update(models.IdentityLink)
                .where(
                    models.IdentityLink.id == row.link_id, models.IdentityLink.valid_to.is_(None)
                )
                .values(valid_to=now)
            )
            done = conn.execute(
                update(models.Person)
                .where(
                    models.Person.record_id == row.record_id,
                    models.Person.verified_personal_id == row.personal_id,
                    models.Person.verification_status == VerificationStatus.VERIFIED.value,
                )
                .values(
                    verification_status=row.previous_status,
                    verified_personal_id=None,
                    verified_at=None,
                )
            ).rowcount
            restored += done
            conn.execute(update(MatchLink).where(MatchLink.id == row.id).values(undone_at=now))
            write_audit(
                conn,
                actor=actor,
                action="match.unlink",
                subject_type="person_record",
                subject_id=row.record_id,
                purpose=PURPOSE,
                detail={"run_id": run_id, "personal_id": row.personal_id, "link_id": row.link_id,
                        "restored": bool(done), "reason": reason.strip()},
            )  # fmt: skip
            write_event(
                conn,
                "identity.unlinked",
                f"person:{row.personal_id}",
                {"record_id": row.record_id, "bhxh_code": row.bhxh_code,
                 "personal_id": row.personal_id, "run_id": run_id},
            )  # fmt: skip
    return UnmatchResult(run_id=run_id, closed_links=len(rows), restored_records=restored)
