"""Checking the chain (`nidb audit verify`) and the heads kept outside the database (`nidb audit head`).

Editing, removing or reordering any entry breaks its lane's chain at that point; cutting a tail
is caught by checking heads kept outside the database. A lane whose oldest entries were removed
past their retention period (``nidb retention apply``, ``prune``) starts at its checkpoint: the
seq and hash of the last entry removed, to which the first entry kept must link.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine, RowMapping, func, select

from nidb.accesslog.chain import GENESIS, entry_hash
from nidb.accesslog.prune import checkpoints
from nidb.store import models


@dataclass(frozen=True, slots=True)
class ChainProblem:
    seq: int
    kind: str  # gap | link | hash | head
    message_vi: str
    lane: int = 0


@dataclass(frozen=True, slots=True)
class ChainReport:
    entries: int
    heads: dict[int, tuple[int, str]]
    """Each lane's last (seq, hash) as found."""
    problems: tuple[ChainProblem, ...]
    starts: dict[int, tuple[int, str]] = field(default_factory=dict)
    """The checkpoints the lanes start from, where retention removed their oldest entries."""

    @property
    def intact(self) -> bool:
        return not self.problems


def _stored(engine: Engine, chunk: int = 10_000) -> Iterator[RowMapping]:
    """Every entry in (lane, seq) order, read in chunks."""
    after = (-1, 0)
    table = models.AccessLogEntry.__table__
    while True:
        lane, seq = after
        with engine.connect() as conn:
            rows = (
                conn.execute(
                    select(table)
                    .where((table.c.lane > lane) | ((table.c.lane == lane) & (table.c.seq > seq)))
                    .order_by(table.c.lane, table.c.seq)
                    .limit(chunk)
                )
                .mappings()
                .all()
            )
        if not rows:
            return
        yield from rows
        after = (rows[-1]["lane"], rows[-1]["seq"])


def verify_chain(
    engine: Engine,
    anchors: dict[int, tuple[int, str]] | None = None,
    max_problems: int = 100,
) -> ChainReport:
    """Walk every lane and report each entry that was edited, removed or moved.

    ``anchors`` are heads kept outside the database (lane → (seq, hash), from `chain_head`):
    each must still be there with that hash, which also catches a cut tail or a lane rewritten
    from scratch. A lane with a checkpoint starts from it; an anchor at the checkpoint is
    checked against the checkpoint's hash, and one before it was removed with the prefix.
    """
    problems: list[ChainProblem] = []
    heads: dict[int, tuple[int, str]] = {}
    count = 0
    seen: set[int] = set()
    with engine.connect() as conn:
        starts = checkpoints(conn)
    for lane, (seq, digest) in (anchors or {}).items():
        start = starts.get(lane)
        if start is not None and seq <= start[0]:
            seen.add(lane)
            if seq == start[0] and digest != start[1]:
                problems.append(
                    ChainProblem(seq, "head", "không khớp với mốc đã lưu ngoài CSDL", lane)
                )
    for row in _stored(engine):
        count += 1
        lane, seq = row["lane"], row["seq"]
        last_seq, prev = heads.get(lane) or starts.get(lane, (0, GENESIS))
        if seq != last_seq + 1:
            problems.append(
                ChainProblem(seq, "gap", f"thiếu bản ghi {last_seq + 1}..{seq - 1}", lane)
            )
        if row["prev_hash"] != prev:
            problems.append(ChainProblem(seq, "link", "không nối với bản ghi liền trước", lane))
        if entry_hash(dict(row), row["prev_hash"]) != row["entry_hash"]:
            problems.append(ChainProblem(seq, "hash", "nội dung đã bị sửa", lane))
        anchor = (anchors or {}).get(lane)
        if anchor is not None and seq == anchor[0]:
            seen.add(lane)
            if row["entry_hash"] != anchor[1]:
                problems.append(
                    ChainProblem(seq, "head", "không khớp với mốc đã lưu ngoài CSDL", lane)
                )
        heads[lane] = (seq, row["entry_hash"])
        if len(problems) >= max_problems:
            break
    for lane, (seq, _) in (anchors or {}).items():
        if lane not in seen and len(problems) < max_problems:
            problems.append(ChainProblem(seq, "head", "bản ghi mốc không còn trong nhật ký", lane))
    return ChainReport(count, heads, tuple(problems), starts)


def chain_head(bind: Engine | Connection) -> dict[int, tuple[int, str]]:
    """Each lane's last seq and hash, to be kept outside the database.

    On a ``Connection``, read in its transaction (``nidb backup`` reads the heads in the
    snapshot it dumps).
    """
    table = models.AccessLogEntry
    last = select(table.lane, func.max(table.seq).label("seq")).group_by(table.lane).subquery()
    query = select(table.lane, table.seq, table.entry_hash).join(
        last, (table.lane == last.c.lane) & (table.seq == last.c.seq)
    )
    if isinstance(bind, Connection):
        rows = bind.execute(query).all()
    else:
        with bind.connect() as conn:
            rows = conn.execute(query).all()
    return {row.lane: (row.seq, row.entry_hash) for row in rows}


def format_heads(heads: dict[int, tuple[int, str]]) -> str:
    """``LANE:SEQ:HASH`` per lane, comma-separated (what `nidb audit head` prints)."""
    return ",".join(f"{lane}:{seq}:{digest}" for lane, (seq, digest) in sorted(heads.items()))


def parse_heads(text: str) -> dict[int, tuple[int, str]]:
    """Read `format_heads` output back; raises ValueError naming the bad part."""
    heads: dict[int, tuple[int, str]] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        pieces = part.split(":")
        if len(pieces) == 2:  # SEQ:HASH of lane 0
            pieces = ["0", *pieces]
        lane, seq, digest = pieces if len(pieces) == 3 else ("", "", "")
        if not (lane.isdigit() and seq.isdigit() and len(digest) == 64):
            raise ValueError(f"{part!r} is not LANE:SEQ:HASH")
        heads[int(lane)] = (int(seq), digest.lower())
    return heads
