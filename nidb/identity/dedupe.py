"""``nidb dedupe``: find the persons who hold more than one BHXH code (the "gộp sổ" cases).

Records that share a BHXH code are one person's by definition. Beyond that, records are linked
to each other by a Splink model (``dedupe_only``, ``nidb.identity.dedupe_model``: the matching
model's comparisons plus the evidence records carry about each other), and clustered:

- ``auto`` clusters are the connected components of certain links (p ≥ ``auto`` and no
  ``CONFLICT`` between the two records) and of shared BHXH codes, provided no two records of
  the component conflict either — a chain A~B~C whose ends conflict is not certain;
- a likely link (p ≥ ``review``) that is not certain joins two clusters into one proposed
  cluster whose records all get ``review``: a staff member decides the merge.

Twins and namesakes are the danger — a wrong merge gives a person a stranger's contribution
history. Twins share the birth date, the address, the family and often the middle name; what
tells them apart is the personal ID and the name, so a link between records whose IDs or names
differ by more than one typed character is never certain.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from nidb.domain.spreadsheet import neutralise
from nidb.identity import cells, dedupe_model, model
from nidb.identity.features import load_records

CONFLICT = """
    (a.pid12 IS NOT NULL AND b.pid12 IS NOT NULL AND damerau_levenshtein(a.pid12, b.pid12) > 1)
    OR (a.cmnd9 IS NOT NULL AND b.cmnd9 IS NOT NULL AND damerau_levenshtein(a.cmnd9, b.cmnd9) > 1)
    OR NOT (damerau_levenshtein(a.name_flat, b.name_flat) <= 1
            OR (a.family = b.family AND a.given = b.given
                AND (a.middle = '' OR b.middle = ''
                     OR contains(a.middle, b.middle) OR contains(b.middle, a.middle))))
    OR abs(a.dob_year - b.dob_year) > 1
"""
"""Two records that cannot be one person without a staff member saying so: personal IDs (or
old 9-digit IDs) more than one typed digit apart (twins, a relative's ID); names more than one typed letter apart
(the spaces between words aside: a joined or split word is no other name),
unless only a middle name is missing (twins and siblings share everything else, and Vietnamese
given names one letter apart — Hùng, Dũng; Linh, Ninh — are different names, so the name as a
whole must agree); or birth years more than a year apart."""


@dataclass(frozen=True)
class DedupeThresholds:
    """Link thresholds on the match probability of a pair of records."""

    auto_wrong_share: float = 2e-4
    """Expected share of wrong pairs among the automatic links, from which the run sets its
    automatic threshold (``auto_threshold``): a fifth of the target (pairwise precision
    ≥ 0.999), because the probabilities are themselves estimated."""
    auto_floor: float = 0.9
    """No pair is joined automatically that is wrong one time in ten, whatever the batch."""
    review: float = 0.5


@dataclass
class DedupeSummary:
    """What a dedupe run found."""

    records: int = 0
    clusters: int = 0
    multi_record_clusters: int = 0
    split_clusters: int = 0
    """Chains of certain links that put conflicting records together: sent to review."""
    rejected_cells: int = 0
    """Malformed cells set aside (``nidb.identity.cells``), listed in ``OUT.rejected.csv``."""
    auto_threshold: float = 1.0
    """The probability from which this run joined pairs automatically (``auto_threshold``)."""
    registry_links: int = 0
    """Citizens to whom two or more records were linked automatically (with ``registry``)."""
    decisions: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def total_seconds(self) -> float:
        return sum(self.seconds.values())


class _Clusters:
    """Union-find over record ids."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, item: str) -> str:
        parent = self.parent.setdefault(item, item)
        if parent != item:
            parent = self.parent[item] = self.find(parent)
        return parent

    def join(self, a: str, b: str) -> None:
        root_a, root_b = self.find(a), self.find(b)
        if root_a != root_b:
            # the smaller id names the cluster, so cluster ids are stable across runs
            low, high = sorted((root_a, root_b))
            self.parent[high] = low


def dedupe_file(
    records: Path,
    out: Path,
    *,
    thresholds: DedupeThresholds | None = None,
    stage: Callable[[str], None] | None = None,
    threads: int | None = None,
    memory_limit: str = "2500MB",
    registry: Path | None = None,
    same_person: list[tuple[str, str]] | None = None,
) -> DedupeSummary:
    """Cluster the records of ``records`` into persons and write ``out`` (INTERCHANGE).

    With ``registry`` (a population-registry extract), the records are first matched to it
    (``match.match_files``): two records linked automatically to the same citizen are one person,
    as surely as two records of one BHXH code, whatever their own similarity. ``same_person``
    adds pairs of record ids known to be one person (the register's records verified as the
    same citizen, ``dedupe_register``).
    """
    from splink import DuckDBAPI, Linker

    thresholds = thresholds or DedupeThresholds()
    say = stage or (lambda _message: None)
    summary = DedupeSummary()
    same_citizen: list[tuple[str, str]] = list(same_person or [])
    if registry is not None:
        same_citizen += _same_citizen(registry, records, out, say, threads, memory_limit, summary)
    con = model.connect(threads, memory_limit)
    try:
        clock = time.perf_counter()
        say("đọc và chuẩn hoá hồ sơ (reading and normalising records)")
        summary.records = load_records(con, records)
        summary.seconds["load"] = time.perf_counter() - clock

        dedupe_model.add_features(con)

        say("huấn luyện mô hình (training the linkage model)")
        logging.getLogger("splink").setLevel(logging.ERROR)
        db_api = DuckDBAPI(connection=con)
        settings = dedupe_model.settings(
            dedupe_model.shared_id_share(con),
            dedupe_model.shared_id_share(con, "cmnd9"),
            dedupe_model.learned_shares(con),
        )
        linker = Linker(db_api.register("records_f"), settings, log_level=None)
        model.train(
            linker,
            ["l.bhxh_code = r.bhxh_code", *model.DETERMINISTIC_RULES[:2]],
            0.8,
            summary.seconds,
        )

        clock = time.perf_counter()
        say("chấm điểm các cặp hồ sơ (scoring record pairs)")
        pairs = linker.inference.predict(threshold_match_probability=thresholds.review)
        edges = con.execute(f"""
            SELECT p.unique_id_l, p.unique_id_r, p.match_probability,
                   (a.bhxh_code = b.bhxh_code) AS same_code, ({CONFLICT}) AS conflict
            FROM {pairs.physical_name} p
            JOIN records_x a ON a.unique_id = p.unique_id_l
            JOIN records_x b ON b.unique_id = p.unique_id_r
        """).fetchall()
        # shared BHXH codes that blocking scored below the threshold are still one person
        shared = (
            con.execute("""
            SELECT a.unique_id, b.unique_id FROM records_x a JOIN records_x b
            ON a.bhxh_code = b.bhxh_code AND a.unique_id < b.unique_id
        """).fetchall()
            + same_citizen
        )
        summary.seconds["predict"] = time.perf_counter() - clock

        clock = time.perf_counter()
        say("gom cụm và ghi kết quả (clustering and writing)")
        by_code, certain, proposed = _Clusters(), _Clusters(), _Clusters()
        for left, right in shared:
            for clusters in (by_code, certain, proposed):
                clusters.join(left, right)
        auto = summary.auto_threshold = auto_threshold(
            [p for _, _, p, same_code, conflict in edges if not same_code and not conflict],
            thresholds,
        )
        for left, right, probability, same_code, conflict in edges:
            if same_code or (probability >= auto and not conflict):
                certain.join(left, right)
            proposed.join(left, right)
        ids = [
            row[0]
            for row in con.execute("SELECT unique_id FROM records_x ORDER BY _row").fetchall()
        ]
        person = _consistent(con, ids, certain, by_code)
        summary.split_clusters = len({certain.find(r) for r in ids if person[r] != certain.find(r)})
        rows = _decide(ids, person, proposed)
        _write(con, rows, out)
        cells.write_rejected(con, out)
        summary.rejected_cells = int(
            con.execute("SELECT count(*) FROM rejected_cells").fetchall()[0][0]
        )
        summary.clusters = len({cluster for _, cluster, _ in rows})
        sizes: dict[str, int] = {}
        for _, cluster, _ in rows:
            sizes[cluster] = sizes.get(cluster, 0) + 1
        summary.multi_record_clusters = sum(1 for size in sizes.values() if size > 1)
        for _, _, decision in rows:
            summary.decisions[decision] = summary.decisions.get(decision, 0) + 1
        summary.seconds["cluster"] = time.perf_counter() - clock
    finally:
        con.close()
    return summary


def auto_threshold(probabilities: list[float], thresholds: DedupeThresholds) -> float:
    """The lowest probability from which the pairs joined automatically are expected to hold
    at most ``auto_wrong_share`` wrong ones, never below ``auto_floor``.

    A calibrated probability p says a pair is two people with chance 1 − p, so joining the
    pairs from the most certain down is expected to make Σ (1 − p) wrong joins among n: the
    threshold is the last p (ties together) at which that share stays within the target. It
    follows the run's own scores instead of a constant picked on one generator's data.

    Examples:
        >>> auto_threshold([1.0, 1.0, 0.999, 0.95], DedupeThresholds(auto_wrong_share=1e-3))
        0.999
    """
    threshold, expected_wrong, joined = 1.0, 0.0, 0
    ordered = sorted(probabilities, reverse=True)
    for at, probability in enumerate(ordered):
        expected_wrong += 1.0 - probability
        joined += 1
        tied = at + 1 < len(ordered) and ordered[at + 1] == probability
        if tied:
            continue
        if expected_wrong > thresholds.auto_wrong_share * joined:
            break
        threshold = probability
    return max(thresholds.auto_floor, threshold)


def _same_citizen(
    registry: Path,
    records: Path,
    out: Path,
    say: Callable[[str], None],
    threads: int | None,
    memory_limit: str,
    summary: DedupeSummary,
) -> list[tuple[str, str]]:
    """Pairs of records the matching model linked automatically to the same citizen."""
    import tempfile

    import pyarrow.parquet as pq

    from nidb.identity.match import match_files

    say("đối sánh với CSDL dân cư (matching to the registry)")
    clock = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="nidb-dedupe-", dir=out.parent) as scratch:
        matches = Path(scratch) / "matches.parquet"
        match_files(registry, records, matches, threads=threads, memory_limit=memory_limit)
        rows = pq.read_table(matches, columns=["record_id", "personal_id", "decision"]).to_pylist()
    by_citizen: dict[str, list[str]] = {}
    for row in rows:
        if row["decision"] == "auto":
            by_citizen.setdefault(row["personal_id"], []).append(row["record_id"])
    pairs = [(ids[0], other) for ids in by_citizen.values() for other in ids[1:]]
    summary.registry_links = sum(1 for ids in by_citizen.values() if len(ids) > 1)
    summary.seconds["match"] = time.perf_counter() - clock
    return pairs


def _consistent(
    con: duckdb.DuckDBPyConnection, ids: list[str], certain: _Clusters, by_code: _Clusters
) -> dict[str, str]:
    """Each record's certain person, after the cluster-level check.

    Certain links chain: A~B and B~C put A and C together although nothing compared them. A
    cluster holding two records of different BHXH codes that ``CONFLICT`` (twins' IDs, other
    names, other birth years) is not certain as a whole: it falls back to its shared-code
    groups, so the staff see the whole proposal (``review``).
    """
    import pyarrow as pa

    person = {record: certain.find(record) for record in ids}
    codes: dict[str, set[str]] = {}
    for record in ids:
        codes.setdefault(person[record], set()).add(by_code.find(record))
    linked = [record for record in ids if len(codes[person[record]]) > 1]
    if not linked:
        return person
    con.register("linked_arrow", pa.table({"uid": linked, "person": [person[r] for r in linked]}))
    broken = {
        row[0]
        for row in con.execute(f"""
            SELECT DISTINCT l1.person
            FROM linked_arrow l1
            JOIN linked_arrow l2 ON l1.person = l2.person AND l1.uid < l2.uid
            JOIN records_x a ON a.unique_id = l1.uid
            JOIN records_x b ON b.unique_id = l2.uid
            WHERE a.bhxh_code <> b.bhxh_code AND ({CONFLICT})
        """).fetchall()
    }
    con.unregister("linked_arrow")
    for record in linked:
        if person[record] in broken:
            person[record] = by_code.find(record)
    return person


def _decide(
    ids: list[str], person: dict[str, str], proposed: _Clusters
) -> list[tuple[str, str, str]]:
    """(record_id, cluster_id, decision) per record: proposed clusters, auto when certain."""
    members: dict[str, set[str]] = {}
    for record in ids:
        members.setdefault(proposed.find(record), set()).add(person[record])
    rows = []
    for record in ids:
        root = proposed.find(record)
        decision = "auto" if len(members[root]) == 1 else "review"
        rows.append((record, f"C{root}", decision))
    return rows


def _write(con: duckdb.DuckDBPyConnection, rows: list[tuple[str, str, str]], out: Path) -> None:
    import pyarrow as pa

    out.parent.mkdir(parents=True, exist_ok=True)
    as_csv = out.suffix.lower() != ".parquet"
    codes = dict(con.execute("SELECT unique_id, bhxh_code FROM records_x").fetchall())
    table = pa.table(
        {  # in CSV, a record ID a spreadsheet could run as a formula gets a leading quote
            "record_id": [neutralise(r[0]) if as_csv else r[0] for r in rows],
            "cluster_id": [r[1] for r in rows],
            "decision": [r[2] for r in rows],
            # an added column, last: the code staff act on (gộp sổ keeps one, retires the rest)
            "bhxh_code": [codes[r[0]] for r in rows],
        }
    )
    con.register("dedupe_rows", table)
    temp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    fmt = "parquet" if out.suffix.lower() == ".parquet" else "csv, HEADER true"
    con.execute(f"COPY dedupe_rows TO '{temp}' (FORMAT {fmt})")
    con.unregister("dedupe_rows")
    os.replace(temp, out)
