"""Making (and undoing) the merge a dedupe review item proposes.

``merge`` accepts a ``dedupe`` item in one transaction: every other BHXH code of the cluster is
merged into the survivor's code (``merge.merge_in``: participation, contributions, cards,
claims, identity links and the rest move, each moved row written down), every other record is
marked ``merged_into`` the survivor (never deleted), the survivor takes the proposed values
(read now from the record or the registry row each comes from), and the item is accepted, with
an audit entry (``dedupe.merge``) and an ``identity.records_merged`` outbox event. Two records
verified with different personal IDs are two people: such a merge is refused.

``undo`` reverses it exactly (``nidb dedupe-undo ITEM --reason``): the code merges are undone
(only the rows they moved go back), the marks are cleared, the survivor's values are restored
where nobody has changed them since, and the item is open again. Both are refused with a
``ReviewError`` naming the item and the reason, in Vietnamese and English; nothing is written
then.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, select, text, update

from nidb.domain.verification import VerificationStatus
from nidb.identity.dedupe_register import FIELD_GROUPS, PURPOSE, REGISTRY
from nidb.identity.merge import MergeError, merge_in, unmerge_in
from nidb.identity.review_decisions import _checked_note, _decide
from nidb.identity.review_types import ItemNotFound, RecordNotFound, ReviewError, ReviewRow
from nidb.store import models
from nidb.store.audit import write_audit, write_event
from nidb.store.models_dedupe import DedupeProposal

__all__ = [
    "DifferentPersonalIds",
    "MemberView",
    "ProposalView",
    "get_proposal",
    "member_codes",
    "merge",
    "undo",
]

HISTORY_TABLES = (
    ("participation_periods", "Quá trình tham gia"),
    ("contributions", "Tháng đóng"),
    ("health_cards", "Thẻ BHYT"),
    ("claims", "Hồ sơ khám chữa bệnh"),
    ("identity_links", "Liên kết định danh"),
)
"""What each member's BHXH code holds, as the side-by-side page counts it."""


class DifferentPersonalIds(ReviewError):
    """Two records of the cluster are verified with different personal IDs: two people."""

    def __init__(self, item_id: int, ids: list[str]) -> None:
        shown = ", ".join(ids)
        super().__init__(
            item_id,
            f"các hồ sơ đã được xác thực với số định danh khác nhau ({shown}): "
            "đây là những người khác nhau, không gộp",
            f"the records are verified with different personal IDs ({shown}): "
            "they are different people, no merge",
        )
        self.ids = ids


class NotDedupe(ReviewError):
    """The item is not a dedupe proposal."""

    def __init__(self, item_id: int) -> None:
        super().__init__(
            item_id, "mục này không phải đề xuất gộp hồ sơ", "this item proposes no merge"
        )


class AlreadyMerged(ReviewError):
    """A record of the cluster was merged since the proposal was made."""

    def __init__(self, item_id: int, record_id: str, into: str) -> None:
        super().__init__(
            item_id,
            f"hồ sơ {record_id} đã được gộp vào {into}",
            f"record {record_id} was already merged into {into}",
        )


class NotMerged(ReviewError):
    """Undo of a proposal that was not merged (or was undone already)."""

    def __init__(self, item_id: int) -> None:
        super().__init__(
            item_id,
            "đề xuất này chưa được gộp hoặc đã được hoàn tác",
            "this proposal was not merged, or was undone already",
        )


class CannotMerge(ReviewError):
    """The code merge underneath refused (rows that would collide)."""

    def __init__(self, item_id: int, error: MergeError) -> None:
        message = str(error)
        vi, _, en = message.partition(" (")
        super().__init__(item_id, vi, en.rstrip(")") or message)


@dataclass(frozen=True)
class MemberView:
    """One record of the cluster, with what its BHXH code holds."""

    record: dict[str, Any]
    survivor: bool
    held: dict[str, int]


@dataclass(frozen=True)
class ProposalView:
    """A dedupe item's cluster side by side, and the proposed merge field by field."""

    item_id: int
    members: tuple[MemberView, ...]
    fields: tuple[tuple[str, str | None, str, bool], ...]
    """(field, proposed value, source: a record id or ``registry``, members disagree)."""
    certain: bool
    verified_ids: tuple[str, ...]
    merged_at: datetime | None
    merged_by: str | None
    undone_at: datetime | None

    @property
    def refused(self) -> bool:
        """Whether a merge would be refused (different verified personal IDs)."""
        return len(self.verified_ids) > 1


def _proposal(conn: Connection, item_id: int) -> Any:
    found = conn.execute(
        select(DedupeProposal.__table__).where(DedupeProposal.item_id == item_id)
    ).first()
    if found is None:
        raise NotDedupe(item_id)
    return found


def member_codes(engine: Engine, item_id: int) -> list[str]:
    """The BHXH codes of a dedupe item's records as queued and as they are now (empty for an
    item of another kind): who may see the item is decided on all of them."""
    persons = models.Person.__table__
    with engine.connect() as conn:
        raw = conn.execute(
            select(DedupeProposal.members).where(DedupeProposal.item_id == item_id)
        ).scalar()
        if raw is None:
            return []
        members = json.loads(raw)
        now = conn.execute(
            select(persons.c.bhxh_code).where(
                persons.c.record_id.in_([m["record_id"] for m in members])
            )
        ).scalars()
        return sorted({m["bhxh_code"] for m in members} | set(now))


def get_proposal(engine: Engine, item_id: int) -> ProposalView:
    """The cluster's records side by side (as they are now) and the proposal."""
    persons = models.Person.__table__
    with engine.connect() as conn:
        proposal = _proposal(conn, item_id)
        ids = [m["record_id"] for m in json.loads(proposal.members)]
        rows = {
            r.record_id: dict(r._mapping)
            for r in conn.execute(select(persons).where(persons.c.record_id.in_(ids)))
        }
        members = []
        for record_id in ids:
            record = rows.get(record_id)
            if record is None:
                continue
            held = {
                table: int(
                    conn.execute(
                        text(f"SELECT count(*) FROM {table} WHERE bhxh_code = :code"),
                        {"code": record["bhxh_code"]},
                    ).scalar_one()
                )
                for table, _ in HISTORY_TABLES
            }
            members.append(MemberView(record, record_id == proposal.survivor_record_id, held))
    proposed = json.loads(proposal.fields)
    fields = []
    for name, _columns in FIELD_GROUPS:
        entry = proposed.get(name, {"value": None, "source": proposal.survivor_record_id})
        values = {m.record.get(name) for m in members}
        fields.append((name, entry["value"], entry["source"], len(values) > 1))
    verified = tuple(sorted({m.record["verified_personal_id"] for m in members} - {None}))
    return ProposalView(
        item_id, tuple(members), tuple(fields), bool(proposal.certain), verified,
        proposal.merged_at, proposal.merged_by, proposal.undone_at,
    )  # fmt: skip


def _source_values(
    conn: Connection, item_id: int, proposed: dict[str, Any], rows: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """The survivor's columns after the merge, read now from each value's source."""
    citizen: dict[str, Any] | None = None
    values: dict[str, Any] = {}
    verified = sorted({r["verified_personal_id"] for r in rows.values()} - {None})
    for name, columns in FIELD_GROUPS:
        entry = proposed.get(name)
        if entry is None:
            continue
        source = entry["source"]
        if source == REGISTRY:
            if name == "declared_id":
                if verified:
                    values.update(declared_id=verified[0], declared_id_kind="cccd")
                continue
            if citizen is None and verified:
                citizens = models.Citizen.__table__
                found = conn.execute(
                    select(citizens).where(citizens.c.personal_id == verified[0])
                ).first()
                citizen = None if found is None else dict(found._mapping)
            if citizen is None:
                continue  # the registry row is gone: the survivor keeps its own value
            values.update({c: citizen[c] for c in columns if c in citizen})
        elif source in rows:
            values.update({c: rows[source][c] for c in columns})
        else:
            raise RecordNotFound(item_id, source)
    return values


def merge(engine: Engine, item_id: int, actor: str, note: str | None = None) -> ReviewRow:
    """Make the merge item ``item_id`` proposes; returns the accepted item."""
    _checked_note(item_id, note)
    persons = models.Person.__table__
    now = datetime.now(UTC)
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":  # take the write lock before reading
            conn.execute(text("UPDATE review_items SET status = status WHERE 0"))
        proposal = _proposal(conn, item_id)
        item = _decide(conn, item_id, "accepted", actor, note)
        survivor_id = proposal.survivor_record_id
        ids = [m["record_id"] for m in json.loads(proposal.members)]
        query = select(persons).where(persons.c.record_id.in_(ids)).order_by(persons.c.record_id)
        if conn.dialect.name == "postgresql":
            query = query.with_for_update()
        rows = {r.record_id: dict(r._mapping) for r in conn.execute(query)}
        for record_id in ids:
            if record_id not in rows:
                raise RecordNotFound(item_id, record_id)
            if rows[record_id]["merged_into"] is not None:
                raise AlreadyMerged(item_id, record_id, rows[record_id]["merged_into"])
        verified = sorted({r["verified_personal_id"] for r in rows.values()} - {None})
        if len(verified) > 1:
            raise DifferentPersonalIds(item_id, verified)
        survivor = rows[survivor_id]
        keep = survivor["bhxh_code"]
        reason = f"dedupe item {item_id}" + (f": {note}" if note else "")
        code_merges = []
        for code in sorted({r["bhxh_code"] for r in rows.values()} - {keep}):
            try:
                code_merges.append(merge_in(conn, keep, code, actor=actor, reason=reason).merge_id)
            except MergeError as error:
                raise CannotMerge(item_id, error) from None
        others = [r for r in ids if r != survivor_id]
        conn.execute(
            update(models.Person)
            .where(models.Person.record_id.in_(others))
            .values(merged_into=survivor_id)
        )
        after = _source_values(conn, item_id, json.loads(proposal.fields), rows)
        if verified and survivor["verified_personal_id"] is None:
            donor = next(r for r in rows.values() if r["verified_personal_id"] == verified[0])
            after.update(
                verification_status=VerificationStatus.VERIFIED.value,
                verified_personal_id=verified[0],
                verified_at=donor["verified_at"] or now,
            )
        after = {c: v for c, v in after.items() if survivor[c] != v}
        before = {c: survivor[c] for c in after}
        if after:
            conn.execute(
                update(models.Person).where(models.Person.record_id == survivor_id).values(**after)
            )
        detail = {
            "item_id": item_id,
            "survivor": survivor_id,
            "kept_code": keep,
            "merged_records": others,
            "code_merges": code_merges,
            "before": {c: _plain(v) for c, v in before.items()},
            "after": {c: _plain(v) for c, v in after.items()},
            "note": note,
        }
        conn.execute(
            update(DedupeProposal)
            .where(DedupeProposal.item_id == item_id)
            .values(
                merged_at=now, merged_by=actor, undone_at=None,
                merge_detail=json.dumps(detail, ensure_ascii=False),
            )
        )  # fmt: skip
        _audit(conn, actor, "dedupe.merge", survivor_id, detail)
        write_event(
            conn,
            "identity.records_merged",
            f"bhxh:{keep}",
            {k: detail[k] for k in ("item_id", "survivor", "kept_code", "merged_records",
                                    "code_merges")},
        )  # fmt: skip
    return item


def undo(engine: Engine, item_id: int, actor: str, reason: str) -> ReviewRow:
    """Reverse the merge of item ``item_id``; the item is open again. ``reason`` is required."""
    _checked_note(item_id, reason)
    if not reason.strip():
        raise ReviewError(item_id, "cần ghi lý do hoàn tác", "a reason is required")
    items = models.ReviewItem.__table__
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.execute(text("UPDATE review_items SET status = status WHERE 0"))
        proposal = _proposal(conn, item_id)
        if proposal.merged_at is None or proposal.undone_at is not None:
            raise NotMerged(item_id)
        detail = json.loads(proposal.merge_detail)
        for merge_id in reversed(detail["code_merges"]):
            try:
                unmerge_in(conn, merge_id, actor=actor, reason=f"dedupe item {item_id}: {reason}")
            except MergeError as error:
                raise CannotMerge(item_id, error) from None
        conn.execute(
            update(models.Person)
            .where(
                models.Person.record_id.in_(detail["merged_records"]),
                models.Person.merged_into == detail["survivor"],
            )
            .values(merged_into=None)
        )
        survivor = conn.execute(
            select(models.Person.__table__).where(models.Person.record_id == detail["survivor"])
        ).first()
        restored: dict[str, Any] = {}
        kept: list[str] = []
        if survivor is not None:
            now_values = dict(survivor._mapping)
            unchanged_id = _plain(now_values["verified_personal_id"]) == detail["after"].get(
                "verified_personal_id"
            )
            for column, value in detail["before"].items():
                same = _plain(now_values[column]) == detail["after"].get(column)
                if same or (column == "verified_at" and unchanged_id):
                    restored[column] = _restore(column, value)
                else:
                    kept.append(column)  # changed since the merge: a person decides
            if restored:
                conn.execute(
                    update(models.Person)
                    .where(models.Person.record_id == detail["survivor"])
                    .values(**restored)
                )
        conn.execute(
            update(DedupeProposal)
            .where(DedupeProposal.item_id == item_id)
            .values(undone_at=datetime.now(UTC))
        )
        conn.execute(
            update(models.ReviewItem)
            .where(models.ReviewItem.id == item_id)
            .values(status="open", decided_by=None, decided_at=None, note=None)
        )
        undo_detail = {
            "item_id": item_id, "survivor": detail["survivor"],
            "code_merges": detail["code_merges"], "merged_records": detail["merged_records"],
            "restored": sorted(restored), "kept_changed_since": kept, "reason": reason.strip(),
        }  # fmt: skip
        _audit(conn, actor, "dedupe.unmerge", detail["survivor"], undo_detail)
        write_event(conn, "identity.records_unmerged", f"bhxh:{detail['kept_code']}", undo_detail)
        from nidb.identity.review_types import item_row, select_items

        found = conn.execute(select_items().where(items.c.id == item_id)).first()
        if found is None:
            raise ItemNotFound(item_id)
        return item_row(found)


def _plain(value: Any) -> Any:
    """A column value as JSON keeps it (times as ISO text)."""
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _restore(column: str, value: Any) -> Any:
    if column == "verified_at" and isinstance(value, str):
        return datetime.fromisoformat(value)
    return value


def _audit(
    conn: Connection, actor: str, action: str, record_id: str, detail: dict[str, Any]
) -> None:
    write_audit(
        conn,
        actor=actor,
        action=action,
        subject_type="person_record",
        subject_id=record_id,
        purpose=PURPOSE,
        detail=detail,
    )
