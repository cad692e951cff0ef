"""``nidb dedupe``: find the persons who hold more than one BHXH code (the "gộp sổ" cases).

Records that share a BHXH code are one person's by definition. Beyond that, records are linked
to each other by the same Splink comparisons as ``nidb match`` (``dedupe_only``), and clustered:

- ``auto`` clusters are the connected components of certain links (p ≥ ``auto`` with no
  conflicting personal IDs) and of shared BHXH codes;
- a likely link (p ≥ ``review``) that is not certain joins two clusters into one proposed
  cluster whose records all get ``review``: a staff member decides the merge.

Twins and namesakes are the danger: two personal IDs that differ by more than one typed digit
mean two people unless a person says otherwise, so such links are never certain.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from nidb.identity import model
from nidb.identity.features import load_records

DEDUPE_BLOCKING_RULES = [
    "l.bhxh_code = r.bhxh_code",
    "l.pid12 = r.pid12",
    "l.name_base = r.name_base AND l.dob_year = r.dob_year",
    "l.family = r.family AND l.given = r.given AND l.dob_year = r.dob_year "
    "AND l.birth_province = r.birth_province",
    "l.given = r.given AND l.dob_year = r.dob_year AND l.dob_month = r.dob_month "
    "AND l.dob_day = r.dob_day",
]


@dataclass(frozen=True)
class DedupeThresholds:
    """Link thresholds on the match probability of a pair of records."""

    auto: float = 0.999
    review: float = 0.5


@dataclass
class DedupeSummary:
    """What a dedupe run found."""

    records: int = 0
    clusters: int = 0
    multi_record_clusters: int = 0
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


def _settings() -> object:
    from splink import SettingsCreator

    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=[
            model.NAME,
            model.BIRTH_DATE,
            model.PERSONAL_ID,
            model.GENDER,
            model.BIRTH_PROVINCE,
            model.ADDRESS,
        ],
        blocking_rules_to_generate_predictions=DEDUPE_BLOCKING_RULES,
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )


def dedupe_file(
    records: Path,
    out: Path,
    *,
    thresholds: DedupeThresholds | None = None,
    stage: Callable[[str], None] | None = None,
    threads: int | None = None,
    memory_limit: str = "2500MB",
) -> DedupeSummary:
    """Cluster the records of ``records`` into persons and write ``out`` (INTERCHANGE)."""
    from splink import DuckDBAPI, Linker

    thresholds = thresholds or DedupeThresholds()
    say = stage or (lambda _message: None)
    summary = DedupeSummary()
    con = model.connect(threads, memory_limit)
    try:
        clock = time.perf_counter()
        say("đọc và chuẩn hoá hồ sơ (reading and normalising records)")
        summary.records = load_records(con, records)
        summary.seconds["load"] = time.perf_counter() - clock

        say("huấn luyện mô hình (training the linkage model)")
        logging.getLogger("splink").setLevel(logging.ERROR)
        db_api = DuckDBAPI(connection=con)
        linker = Linker(db_api.register("records_f"), _settings(), log_level=None)  # type: ignore[arg-type]
        model.train(
            linker,
            ["l.bhxh_code = r.bhxh_code", model.DETERMINISTIC_RULES[0]],
            0.8,
            summary.seconds,
        )

        clock = time.perf_counter()
        say("chấm điểm các cặp hồ sơ (scoring record pairs)")
        pairs = linker.inference.predict(threshold_match_probability=thresholds.review)
        edges = con.execute(f"""
            SELECT p.unique_id_l, p.unique_id_r, p.match_probability,
                   (a.bhxh_code = b.bhxh_code) AS same_code,
                   (a.pid12 IS NOT NULL AND b.pid12 IS NOT NULL
                    AND damerau_levenshtein(a.pid12, b.pid12) > 1) AS ids_conflict
            FROM {pairs.physical_name} p
            JOIN records_x a ON a.unique_id = p.unique_id_l
            JOIN records_x b ON b.unique_id = p.unique_id_r
        """).fetchall()
        # shared BHXH codes that blocking scored below the threshold are still one person
        shared = con.execute("""
            SELECT a.unique_id, b.unique_id FROM records_x a JOIN records_x b
            ON a.bhxh_code = b.bhxh_code AND a.unique_id < b.unique_id
        """).fetchall()
        summary.seconds["predict"] = time.perf_counter() - clock

        clock = time.perf_counter()
        say("gom cụm và ghi kết quả (clustering and writing)")
        certain, proposed = _Clusters(), _Clusters()
        for left, right in shared:
            certain.join(left, right)
            proposed.join(left, right)
        for left, right, probability, same_code, ids_conflict in edges:
            if same_code or (probability >= thresholds.auto and not ids_conflict):
                certain.join(left, right)
            proposed.join(left, right)
        ids = [
            row[0]
            for row in con.execute("SELECT unique_id FROM records_x ORDER BY _row").fetchall()
        ]
        rows = _decide(ids, certain, proposed)
        _write(con, rows, out)
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


def _decide(ids: list[str], certain: _Clusters, proposed: _Clusters) -> list[tuple[str, str, str]]:
    """(record_id, cluster_id, decision) per record: proposed clusters, auto when certain."""
    members: dict[str, set[str]] = {}
    for record in ids:
        members.setdefault(proposed.find(record), set()).add(certain.find(record))
    rows = []
    for record in ids:
        root = proposed.find(record)
        decision = "auto" if len(members[root]) == 1 else "review"
        rows.append((record, f"C{root}", decision))
    return rows


def _write(con: duckdb.DuckDBPyConnection, rows: list[tuple[str, str, str]], out: Path) -> None:
    import pyarrow as pa

    out.parent.mkdir(parents=True, exist_ok=True)
    table = pa.table(
        {
            "record_id": [r[0] for r in rows],
            "cluster_id": [r[1] for r in rows],
            "decision": [r[2] for r in rows],
        }
    )
    con.register("dedupe_rows", table)
    temp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    fmt = "parquet" if out.suffix.lower() == ".parquet" else "csv, HEADER true"
    con.execute(f"COPY dedupe_rows TO '{temp}' (FORMAT {fmt})")
    con.unregister("dedupe_rows")
    os.replace(temp, out)
