"""Register-mode matching with and without the citizens' old ID (số CMND) as evidence.

    python bench/register_old_id.py --people 20000 [--error-model 1 2] [--work DIR]

For each error model, one generated province is imported into two fresh SQLite registers: one
from the registry file as written (with its ``old_id`` column, so ``citizens.old_id`` is
filled), one from the same file without that column (what register mode saw before migration
0032_regold). ``nidb match`` in register mode (``match_register``) then runs on each, side by
side in one process, and its decisions are read back from the register and scored against the
generator's truth: all records, and the records whose declared ID is a 9-digit CMND. CPU
seconds are the process's (all DuckDB threads), read around each run. Appends to
bench/results/register_old_id.md with the load average.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results" / "register_old_id.md"


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def without_old_id(source: Path, target: Path) -> Path:
    """The registry file in the shared contract's columns alone."""
    rows = read(source)
    fields = [f for f in rows[0] if f != "old_id"]
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return target


def run(data: Path, registry: Path, database: Path, threads: int) -> dict[str, object]:
    """Import into a fresh register, match in register mode, score against the truth."""
    from sqlalchemy import text

    from nidb.identity.match_register import match_register
    from nidb.ingest.loader import import_file
    from nidb.store.db import ensure_schema, make_engine

    engine = make_engine(f"sqlite:///{database}")
    ensure_schema(engine)
    import_file(engine, "registry", registry)
    import_file(engine, "records", data / "records.csv")
    cpu, wall, load = time.process_time(), time.perf_counter(), os.getloadavg()[0]
    summary = match_register(engine, "bench:register_old_id", threads=threads)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    with engine.connect() as conn:
        linked = dict(
            conn.execute(
                text("SELECT record_id, verified_personal_id FROM persons "
                     "WHERE verification_status = 'verified'")
            ).all()
        )  # fmt: skip
        queued = dict(
            conn.execute(
                text("SELECT record_id, candidate_personal_id FROM review_items "
                     "WHERE kind = 'match'")
            ).all()
        )  # fmt: skip
        cmnd = {
            row[0]
            for row in conn.execute(
                text("SELECT record_id FROM persons WHERE declared_id_kind = 'cmnd'")
            )
        }
        held = conn.execute(text("SELECT count(*) FROM citizens WHERE old_id IS NOT NULL"))
        old_ids = int(held.scalar_one())
    engine.dispose()
    truth = {row["record_id"]: row["personal_id"] for row in read(data / "truth.csv")}

    def score(ids: set[str]) -> dict[str, int]:
        auto = [r for r in ids if r in linked]
        return {
            "records": len(ids),
            "auto": len(auto),
            "auto_wrong": sum(linked[r] != truth.get(r) for r in auto),
            "review": sum(r in queued for r in ids),
            "none": sum(r not in linked and r not in queued for r in ids),
        }

    return {
        "all": score(set(truth)),
        "cmnd": score(cmnd),
        "old_ids": old_ids,
        "cpu": cpu,
        "wall": wall,
        "load": load,
        "threshold": summary.model.auto_threshold if summary.model else None,
    }


def main() -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    from linkage import make_data

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--error-model", type=int, nargs="+", choices=(1, 2), default=[1, 2])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--work", type=Path, default=None)
    args = parser.parse_args()

    lines = [
        f"\n## {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: register mode with and "
        f"without citizens.old_id, {args.people:,} people, seed {args.seed}",
        "",
        f"`python bench/register_old_id.py --people {args.people} --seed {args.seed} "
        f"--error-model {' '.join(map(str, args.error_model))} --threads {args.threads}`; "
        f"{platform.machine()}, {os.cpu_count()} cores, SQLite register. Load average (1 min) "
        "at the start of each run in the table: the machine is shared, so compare the two rows "
        "of a model, not across runs.",
        "",
        "| model | citizens.old_id | old IDs held | records | auto | wrong auto | review | none "
        "| CMND records | CMND auto | CMND wrong auto | CMND review | CMND none | CPU s | wall s "
        "| load |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory(dir=args.work) as scratch:
        for error_model in args.error_model:
            data = Path(scratch) / f"model{error_model}"
            data.mkdir()
            make_data(data, args.people, args.seed, error_model)
            plain = without_old_id(data / "registry.csv", data / "registry_contract.csv")
            for label, registry in (("yes", data / "registry.csv"), ("no", plain)):
                database = data / f"register_{label}.sqlite3"
                print(f"model {error_model}, old_id {label} …", flush=True)
                r = run(data, registry, database, args.threads)
                a, c = r["all"], r["cmnd"]
                assert isinstance(a, dict) and isinstance(c, dict)
                lines.append(
                    f"| {error_model} | {label} | {r['old_ids']:,} | {a['records']:,} | "
                    f"{a['auto']:,} | {a['auto_wrong']} | {a['review']:,} | {a['none']:,} | "
                    f"{c['records']:,} | {c['auto']:,} | {c['auto_wrong']} | {c['review']:,} | "
                    f"{c['none']:,} | {r['cpu']:.1f} | {r['wall']:.1f} | {r['load']:.2f} |"
                )
                print(lines[-1], flush=True)
    text = "\n".join(lines) + "\n"
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with RESULTS.open("a", encoding="utf-8") as handle:
        if handle.tell() == 0:
            handle.write("# Register-mode matching and the citizens' old ID\n")
        handle.write(text)
    print(text)


if __name__ == "__main__":
    main()
