"""Duplicate-detection benchmark: `nidb dedupe` against the generator's ground truth.

    python bench/dedupe.py --people 100000 [--work DIR]

Pairwise precision and recall over records of the same person (truth.person_id), for the
automatic clusters alone and for automatic + review proposals, at the default and at higher
automatic thresholds (the trade-off, measured). Appends to bench/results/dedupe.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results" / "dedupe.md"


def pairs(groups: dict[str, list[str]]) -> set[tuple[str, str]]:
    return {(a, b) for ids in groups.values() for a in ids for b in ids if a < b}


def main() -> None:
    import csv

    from nidb.identity.dedupe import DedupeThresholds, dedupe_file

    sys.path.insert(0, str(ROOT / "bench"))
    from linkage import make_data

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--error-model", type=int, choices=(1, 2), default=1)
    parser.add_argument(
        "--registry", action="store_true", help="also use matches to registry.csv (--registry)"
    )
    parser.add_argument(
        "--thresholds",
        default="derived",
        help="automatic thresholds to measure: 'derived' (the default: set by the run from "
        "DedupeThresholds.auto_wrong_share) or fixed probabilities, comma-separated",
    )
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="nidb-dedupe-"))
    suffix = "" if args.error_model == 1 else f"-m{args.error_model}"
    data = work / f"data-{args.people}{suffix}"
    if not (data / "manifest.json").exists():
        make_data(data, args.people, 7, args.error_model)
    with (data / "truth.csv").open(encoding="utf-8", newline="") as handle:
        person = {row["record_id"]: row["person_id"] for row in csv.DictReader(handle)}
    by_person: dict[str, list[str]] = defaultdict(list)
    for record, who in person.items():
        by_person[who].append(record)
    truth = pairs(by_person)

    lines = []
    for auto in args.thresholds.split(","):
        out = work / f"duplicates-{args.people}-{auto}.csv"
        # a fixed threshold t: every pair's share passes, the floor is t
        chosen = (
            DedupeThresholds()
            if auto == "derived"
            else DedupeThresholds(auto_wrong_share=1.0, auto_floor=float(auto))
        )
        started = time.perf_counter()
        summary = dedupe_file(
            data / "records.csv",
            out,
            thresholds=chosen,
            registry=data / "registry.csv" if args.registry else None,
        )
        seconds = time.perf_counter() - started
        with out.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        auto_groups: dict[str, list[str]] = defaultdict(list)
        all_groups: dict[str, list[str]] = defaultdict(list)
        for row in rows:
            all_groups[row["cluster_id"]].append(row["record_id"])
            if row["decision"] == "auto":
                auto_groups[row["cluster_id"]].append(row["record_id"])
        for scope, groups in (("auto", auto_groups), ("auto + review", all_groups)):
            found = pairs(groups)
            right = len(found & truth)
            precision = right / max(len(found), 1)
            recall = right / max(len(truth), 1)
            line = (
                f"| {auto} ({summary.auto_threshold:.4f}) | {scope} | {summary.records:,} | {len(truth):,} | {len(found):,} | "
                f"{right:,} | {precision:.5f} | {recall:.4f} | {summary.split_clusters} | "
                f"{seconds:.1f} |"
            )
            print(line, flush=True)
            lines.append(line)
    machine = (
        f"{platform.machine()}, {os.cpu_count()} cores, "
        f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB, "
        f"Python {platform.python_version()}"
    )
    default_thresholds = parser.get_default("thresholds")
    thresholds_option = (
        "" if args.thresholds == default_thresholds else f" --thresholds {args.thresholds}"
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with RESULTS.open("a", encoding="utf-8") as handle:
        handle.write(
            f"\n## {time.strftime('%Y-%m-%d %H:%M')} — {args.people:,} people (seed 7, error "
            f"model {args.error_model}{', with registry matches' if args.registry else ''})\n\n"
            f"Machine: {machine}. Command: `python bench/dedupe.py --people {args.people}"
            f"{thresholds_option} --error-model {args.error_model}"
            f"{' --registry' if args.registry else ''}`. "
            "Targets: pairwise precision ≥ 0.999, recall ≥ 0.95.\n\n"
            "| auto threshold | clusters counted | records | true pairs | predicted pairs | correct | "
            "precision | recall | chains sent to review | seconds |\n"
            "|---|---|---|---|---|---|---|---|---|---|\n" + "\n".join(lines) + "\n"
        )
    print(f"appended to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
