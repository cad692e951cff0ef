"""``nidb dedupe`` on the register: queue each person found under two or more BHXH codes.

The same model as the file mode (``dedupe.dedupe_file``) runs on Parquet extracts of the store:
the person records not yet merged, and the registry held in the register (``citizens``). Two
records are one person when the model links them (record-to-record similarity), when the
matching model links both to the same citizen, or when both are already verified as the same
citizen. Each cluster that holds two or more BHXH codes (a "gộp sổ" case) becomes a review item
of kind ``dedupe`` with a ``DedupeProposal``: which record survives and, field by field, where
the merged values come from. Nothing is merged here: a staff member makes the merge
(``dedupe_merge.merge``), from the console or ``nidb review accept``.

Clusters are written in chunks, one transaction each. A cluster is keyed by its members' record
ids (``cluster_key``, unique), and a cluster any of whose records is already in an open dedupe
item is left alone, so a rerun — after a finished run or a ``kill -9`` while writing — queues
each cluster once.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, text

from nidb.domain.review import ReviewKind
from nidb.identity.dedupe import DedupeSummary, DedupeThresholds, dedupe_file
from nidb.identity.match_register import (
    RECORD_COLUMNS,
    REGISTRY_COLUMNS,
    as_text,
    records_query,
    registry_query,
    write_extract,
)
from nidb.store import models
from nidb.store.audit import write_audit
from nidb.store.models_dedupe import DedupeProposal

PURPOSE = "GOP_SO"
"""Audit purpose of dedupe proposals and merges (gộp sổ), as for code merges."""

FIELD_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("full_name", ("full_name", "name_base")),
    ("date_of_birth", ("date_of_birth", "dob_precision", "birth_year")),
    ("gender", ("gender",)),
    ("declared_id", ("declared_id", "declared_id_kind")),
    ("birth_province", ("birth_province",)),
    ("address", ("address",)),
)
"""The fields a merge settles, each with the person columns that travel together."""
REGISTRY_FIELDS = ("full_name", "date_of_birth", "gender", "birth_province")
"""Fields the population registry is the authority on, once a member is verified."""
REGISTRY = "registry"
"""The source of a proposed value taken from the registry (``citizens``)."""

Stage = Callable[[str], None]


@dataclass
class RegisterDedupeSummary:
    """What a register-mode dedupe run queued."""

    model: DedupeSummary | None = None
    records: int = 0
    clusters: int = 0
    """Clusters holding two or more BHXH codes (proposed merges)."""
    queued: int = 0
    skipped: int = 0
    """Clusters already queued (by an earlier run, or an attempt of this one that was cut off)."""
    certain: int = 0
    chunks: int = 0
    decisions: dict[str, int] = field(default_factory=dict)


def _extract(engine: Engine, folder: Path) -> tuple[Path, Path | None, list[tuple[str, str]]]:
    """Records not merged and the citizens as Parquet; pairs verified as the same citizen."""
    persons, citizens = models.Person.__table__, models.Citizen.__table__
    records = folder / "records.parquet"
    registry: Path | None = folder / "registry.parquet"
    by_citizen: dict[str, list[str]] = {}

    def note_verified(part: Sequence[Any]) -> None:
        for row in part:
            if row[-1] is not None:
                by_citizen.setdefault(row[-1], []).append(row[0])

    with engine.connect() as conn:
        query = records_query(persons.c.verified_personal_id).where(persons.c.merged_into.is_(None))
        write_extract(conn, query, records, RECORD_COLUMNS, note_verified)
        if conn.execute(select(func.count()).select_from(citizens)).scalar_one() == 0:
            registry = None
        else:
            assert registry is not None
            write_extract(conn, registry_query(), registry, REGISTRY_COLUMNS)
    pairs = [(ids[0], other) for ids in by_citizen.values() for other in ids[1:]]
    return records, registry, pairs


def _clusters(path: Path) -> list[tuple[list[str], bool]]:
    """(member record ids, certain) of each cluster holding two or more BHXH codes."""
    import pyarrow.parquet as pq

    rows = pq.read_table(path).to_pylist()
    members: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        members.setdefault(row["cluster_id"], []).append(row)
    found = []
    for cluster in members.values():
        if len({row["bhxh_code"] for row in cluster}) < 2:
            continue
        ids = sorted(row["record_id"] for row in cluster)
        found.append((ids, all(row["decision"] == "auto" for row in cluster)))
    found.sort()
    return found


def cluster_key(record_ids: Sequence[str]) -> str:
    """The stable key of a cluster: sha256 of its sorted record ids."""
    return hashlib.sha256("\n".join(sorted(record_ids)).encode()).hexdigest()


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def dedupe_register(
    engine: Engine,
    actor: str,
    *,
    chunk_clusters: int = 200,
    thresholds: DedupeThresholds | None = None,
    stage: Stage | None = None,
    threads: int | None = None,
    after_chunk: Callable[[int], None] | None = None,
) -> RegisterDedupeSummary:
    """Cluster the register's person records and queue each multi-code cluster for review."""
    say = stage or (lambda _message: None)
    summary = RegisterDedupeSummary()
    with tempfile.TemporaryDirectory(prefix="nidb-dedupe-") as scratch:
        folder = Path(scratch)
        say("trích hồ sơ và CSDL dân cư (extracting records and registry)")
        records, registry, verified_pairs = _extract(engine, folder)
        out = folder / "duplicates.parquet"
        summary.model = dedupe_file(
            records, out, thresholds=thresholds, stage=say, threads=threads,
            registry=registry, same_person=verified_pairs,
        )  # fmt: skip
        summary.records = summary.model.records
        summary.decisions = dict(summary.model.decisions)
        clusters = _clusters(out)
    summary.clusters = len(clusters)
    say("ghi mục đối soát trùng hồ sơ (writing dedupe review items)")
    queue_clusters(engine, clusters, actor, summary, chunk_clusters, after_chunk)
    return summary


def queue_clusters(
    engine: Engine,
    clusters: Sequence[tuple[list[str], bool]],
    actor: str,
    summary: RegisterDedupeSummary | None = None,
    chunk_clusters: int = 200,
    after_chunk: Callable[[int], None] | None = None,
) -> RegisterDedupeSummary:
    """Queue clusters of record ids (each with whether it is certain) as dedupe review items,
    ``chunk_clusters`` per transaction; clusters already queued are skipped."""
    summary = summary or RegisterDedupeSummary(clusters=len(clusters))
    busy = _Busy()
    for chunk in _chunks(clusters, chunk_clusters):
        with engine.begin() as conn:
            _write_chunk(conn, chunk, summary, actor, busy)
        summary.chunks += 1
        if after_chunk is not None:
            after_chunk(summary.chunks)
    return summary


@dataclass
class _Busy:
    """Record ids in an open dedupe proposal, read once and then only what was added since."""

    records: set[str] = field(default_factory=set)
    seen: int = 0
    """The highest proposal item id read."""

    def refresh(self, conn: Connection) -> set[str]:
        proposals, items = DedupeProposal.__table__, models.ReviewItem.__table__
        rows = conn.execute(
            select(proposals.c.item_id, proposals.c.members)
            .join(items, items.c.id == proposals.c.item_id)
            .where(items.c.status == "open", proposals.c.item_id > self.seen)
        ).all()
        for item_id, raw in rows:
            self.seen = max(self.seen, int(item_id))
            self.records.update(member["record_id"] for member in json.loads(raw))
        return self.records


def _write_chunk(
    conn: Connection,
    chunk: Sequence[tuple[list[str], bool]],
    summary: RegisterDedupeSummary,
    actor: str,
    open_members: _Busy,
) -> None:
    if conn.dialect.name == "sqlite":  # take the write lock first: no upgrade deadlock
        conn.execute(text("UPDATE review_items SET status = status WHERE 0"))
    else:  # one writer of dedupe proposals at a time
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('nidb.dedupe_proposals'))"))
    proposals = DedupeProposal.__table__
    keys = [cluster_key(ids) for ids, _ in chunk]
    known = set(
        conn.execute(
            select(proposals.c.cluster_key).where(proposals.c.cluster_key.in_(keys))
        ).scalars()
    )
    busy = open_members.refresh(conn)  # under the lock: every proposal committed before is seen
    persons = models.Person.__table__
    ids_in_chunk = [record for ids, _ in chunk for record in ids]
    rows = {
        row.record_id: dict(row._mapping)
        for row in conn.execute(
            select(persons).where(
                persons.c.record_id.in_(ids_in_chunk), persons.c.merged_into.is_(None)
            )
        )
    }
    codes = sorted({row["bhxh_code"] for row in rows.values()})
    held = _held_counts(conn, codes)
    for (ids, certain), key in zip(chunk, keys, strict=True):
        if key in known or busy.intersection(ids) or any(r not in rows for r in ids):
            summary.skipped += 1
            continue
        members = [rows[r] for r in ids]
        if len({m["bhxh_code"] for m in members}) < 2:  # merged meanwhile
            summary.skipped += 1
            continue
        survivor = choose_survivor(members, held)
        fields = propose_fields(conn, survivor, members)
        verified = sorted({m["verified_personal_id"] for m in members} - {None})
        reasons = ["DEDUPE_AUTO" if certain else "DEDUPE_REVIEW"]
        if len(verified) > 1:
            reasons.append("DEDUPE_IDS_DIFFER")
        item_id = conn.execute(
            insert(models.ReviewItem)
            .values(
                record_id=survivor["record_id"],
                kind=ReviewKind.DEDUPE.value,
                candidate_personal_id=verified[0] if len(verified) == 1 else None,
                score=None,
                reasons=";".join(reasons),
                status="open",
            )
            .returning(models.ReviewItem.id)
        ).scalar_one()
        member_list = [{"record_id": m["record_id"], "bhxh_code": m["bhxh_code"]} for m in members]
        conn.execute(
            insert(DedupeProposal).values(
                item_id=item_id,
                cluster_key=key,
                survivor_record_id=survivor["record_id"],
                members=json.dumps(member_list, ensure_ascii=False),
                fields=json.dumps(fields, ensure_ascii=False),
                certain=certain,
            )
        )
        write_audit(
            conn,
            actor=actor,
            action="dedupe.queue",
            subject_type="person_record",
            subject_id=survivor["record_id"],
            purpose=PURPOSE,
            detail={"item_id": item_id, "members": member_list, "certain": certain,
                    "survivor": survivor["record_id"], "reasons": reasons},
        )  # fmt: skip
        busy.update(ids)
        summary.queued += 1
        summary.certain += int(certain)


def _held_counts(conn: Connection, codes: Sequence[str]) -> dict[str, int]:
    """Per BHXH code, the rows of history held under it (contributions, periods, cards, claims)."""
    held: dict[str, int] = dict.fromkeys(codes, 0)
    if not codes:
        return held
    for table in ("contributions", "participation_periods", "health_cards", "claims"):
        for code, count in conn.execute(
            text(
                f"SELECT bhxh_code, count(*) FROM {table} WHERE bhxh_code IN :codes "
                "GROUP BY bhxh_code"
            ).bindparams(_expanding("codes")),
            {"codes": list(codes)},
        ):
            held[code] = held.get(code, 0) + int(count)
    return held


def _expanding(name: str) -> Any:
    from sqlalchemy import bindparam

    return bindparam(name, expanding=True)


def choose_survivor(members: Sequence[dict[str, Any]], held: dict[str, int]) -> dict[str, Any]:
    """The record that survives: verified first, then the code holding the most history, then
    the oldest code (the smallest), then the smallest record id."""
    return min(
        members,
        key=lambda m: (
            m["verified_personal_id"] is None,
            -held.get(m["bhxh_code"], 0),
            m["bhxh_code"],
            m["record_id"],
        ),
    )


def propose_fields(
    conn: Connection, survivor: dict[str, Any], members: Sequence[dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """Per field, the proposed value and where it comes from (a record id, or ``registry``).

    A verified member's citizen is the authority on name, birth date, gender and birth
    province, and its personal ID is the one kept; otherwise the survivor's own value stands,
    and a value it lacks comes from the first other record that has one. A name is taken from
    the record writing the same letters with the most diacritics (Nguyen Van An → Nguyễn Văn An).
    """
    verified = sorted({m["verified_personal_id"] for m in members} - {None})
    citizen = None
    if len(verified) == 1:
        citizens = models.Citizen.__table__
        found = conn.execute(select(citizens).where(citizens.c.personal_id == verified[0])).first()
        citizen = None if found is None else dict(found._mapping)
    proposed: dict[str, dict[str, Any]] = {}
    others = [m for m in members if m["record_id"] != survivor["record_id"]]
    for name, _columns in FIELD_GROUPS:
        if citizen is not None and name in REGISTRY_FIELDS:
            proposed[name] = {"value": as_text(citizen[name]), "source": REGISTRY}
            continue
        if name == "declared_id" and len(verified) == 1:
            proposed[name] = {"value": verified[0], "source": REGISTRY}
            continue
        source = next((m for m in (survivor, *others) if m[name] not in (None, "")), survivor)
        if name == "full_name":  # the same name written with its diacritics is the better form
            source = max(
                (m for m in (survivor, *others) if m["name_base"] == survivor["name_base"]),
                key=lambda m: sum(1 for ch in m["full_name"] or "" if ord(ch) > 127),
            )
        proposed[name] = {"value": as_text(source[name]), "source": source["record_id"]}
    return proposed
