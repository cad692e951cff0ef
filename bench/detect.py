"""Fraud detection at national scale: every rule over 10 million visits and 1 million cards.

    .venv/bin/python bench/detect.py                                  # DuckDB only
    .venv/bin/python bench/detect.py --engines duckdb,spark --work bench/data/detect

Steps, each in its own process so that its peak memory is its own:
1. generate (or reuse under ``--work``) a synthetic data set with ``nidb.sim.generate``
   (Parquet; ~1.14 million people so that ~1 million hold a card, ~10 visits each), with every
   fraud pattern injected and its ground truth in ``frauds.parquet``;
2. make the detection snapshot from those files (``nidb.detect.synthetic``: what import and
   export would store, identities taken as resolved);
3. run all rules with DuckDB, then (``--engines duckdb,spark``) the same SQL on Spark local
   mode; time per rule, total time, peak memory, precision and recall per rule, and whether
   Spark's alerts equal DuckDB's.
Writes bench/results/detect.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "detect.md"
TARGET_SECONDS = 60


def _peak_mib() -> int:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def step_generate(work: Path, people: int, per_person: float, seed: int) -> dict[str, object]:
    """Generate the data set into ``work/data`` unless a matching one is there."""
    from nidb.sim.generate import generate

    data = work / "data"
    manifest = data / "manifest.json"
    if manifest.exists():
        held = json.loads(manifest.read_text(encoding="utf-8"))
        if (held["people"], held["seed"], held["visits_per_person"]) == (people, seed, per_person):
            return {"reused": True, "rows": held["files"]}
    started = time.perf_counter()
    summary = generate(data, people, seed, fmt="parquet", visits_per_person=per_person)
    return {
        "reused": False,
        "seconds": round(time.perf_counter() - started, 1),
        "peak_rss_mib": _peak_mib(),
        "rows": dict(summary.files),
    }


def step_snapshot(work: Path) -> dict[str, object]:
    """Write the detection snapshot from the generated files."""
    from nidb.detect.synthetic import snapshot_from_generated

    started = time.perf_counter()
    rows = snapshot_from_generated(work / "data", work / "snapshot")
    return {"seconds": round(time.perf_counter() - started, 1), "rows": rows}


def _keys(results: list) -> dict[str, list[list[str]]]:  # type: ignore[type-arg]
    return {
        r.rule.name: sorted([f.subject_id, f.evidence_key] for f in r.findings) for r in results
    }


def step_rules(work: Path, engine: str) -> dict[str, object]:
    """Run every rule with ``engine``; times, memory, scores and the alert keys."""
    from nidb.detect.evaluate import read_truth, score
    from nidb.detect.runner import find, select_rules

    rules = select_rules(None)
    times: dict[str, float] = {}

    def timed(result: object, seconds: float) -> None:
        times[result.rule.name] = round(seconds, 2)  # type: ignore[attr-defined]

    extra: dict[str, object] = {}
    started = time.perf_counter()
    if engine == "duckdb":
        cpu = _cpu_seconds()
        results = find(work / "snapshot", rules, timed)
        total = time.perf_counter() - started
        extra["cpu_seconds"] = round(_cpu_seconds() - cpu, 1)
    else:
        from nidb.detect.spark import find_spark, spark_session

        runtime = spark_session()
        session = runtime.session
        extra["session_start_seconds"] = round(time.perf_counter() - started, 1)
        begun = time.perf_counter()
        results = find_spark(session, work / "snapshot", rules, timed)
        total = time.perf_counter() - begun
        pid = session.sparkContext._gateway.proc.pid  # the JVM: where Spark's memory is
        status = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
        hwm = next(line for line in status.splitlines() if line.startswith("VmHWM"))
        extra["jvm_peak_rss_mib"] = round(int(hwm.split()[1]) / 1024)
        runtime.stop()
    scores = score(results, read_truth(work / "data" / "frauds.parquet"))
    keys_path = work / f"alerts-{engine}.json"
    keys_path.write_text(json.dumps(_keys(results)), encoding="utf-8")
    return {
        "engine": engine,
        "total_seconds": round(total, 1),
        "rule_seconds": times,
        "peak_rss_mib": _peak_mib(),
        "scores": [
            {
                "rule": s.rule,
                "found": s.found,
                "injected": s.injected,
                "precision": s.precision,
                "recall": s.recall,
            }
            for s in scores
        ],
        **extra,
    }


def _child(step: str, *args: str) -> dict[str, object]:
    env = {**os.environ, "PYTHONPATH": str(HERE.parent)}
    command = [sys.executable, __file__, "--step", step, *args]
    run = subprocess.run(command, check=False, capture_output=True, text=True, env=env)
    if run.returncode != 0:
        raise SystemExit(f"step {step} failed:\n{run.stderr[-3000:]}")
    result: dict[str, object] = json.loads(run.stdout.strip().splitlines()[-1])
    return result


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def markdown(
    args: argparse.Namespace,
    generated: dict,
    snapshot: dict,
    runs: list[dict],  # type: ignore[type-arg]
    load: tuple[float, float, float],
    same: bool | None,
) -> str:
    import duckdb
    import pyspark

    rows = snapshot["rows"]
    lines = [
        "# Fraud detection: every rule over the national-scale synthetic data set",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, "
        f"{os.cpu_count()} CPUs (shared), Python {platform.python_version()}, DuckDB "
        f"{duckdb.__version__}, Spark {pyspark.__version__} (local[2]). Load average before "
        f"the run: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}.",
        "",
        f"Command: `PYTHONPATH=. .venv/bin/python bench/detect.py --engines {args.engines} "
        f"--people {args.people} --visits-per-person {args.visits_per_person} --seed {args.seed}`",
        "",
        f"Data: {rows['health_visits']:,} visits, {rows['health_cards']:,} cards, "
        f"{rows['persons']:,} person records, {rows['employers']:,} employers, "
        f"{rows['contributions']:,} contributions, {rows['benefits']:,} benefits "
        f"(generated {'earlier, reused' if generated.get('reused') else 'in ' + str(generated.get('seconds')) + ' s'}; "
        f"snapshot written in {snapshot['seconds']} s). Times below are the rules only: "
        "views over the Parquet snapshot, each rule's query, and turning every row into an "
        "explained finding in Python; storing alerts is not included.",
        "",
    ]
    header = "| rule | " + " | ".join(f"{r['engine']} s" for r in runs)
    header += " | found | injected | precision | recall |"
    lines += [header, "|---|" + "---:|" * (len(runs) + 4)]
    first = runs[0]
    for s in first["scores"]:
        name = s["rule"]
        cells = " | ".join(str(r["rule_seconds"][name]) for r in runs)
        lines.append(
            f"| {name} | {cells} | {s['found']:,} | {s['injected']:,} | "
            f"{_fmt(s['precision'])} | {_fmt(s['recall'])} |"
        )
    totals = " | ".join(f"**{r['total_seconds']}**" for r in runs)
    lines += [f"| **all rules** | {totals} | | | | |", ""]
    for r in runs:
        target = f" (target ≤ {TARGET_SECONDS} s)" if r["engine"] == "duckdb" else ""
        line = f"- {r['engine']}: total {r['total_seconds']} s{target}, "
        line += f"peak RSS of the Python process {r['peak_rss_mib']:,} MiB"
        if "cpu_seconds" in r:
            line += f", CPU time {r['cpu_seconds']} s (user + system, all threads)"
        if "jvm_peak_rss_mib" in r:
            line += (
                f", Spark JVM peak RSS {r['jvm_peak_rss_mib']:,} MiB, session start "
                f"{r['session_start_seconds']} s (not in the total)"
            )
        lines.append(line + ".")
    if same is not None:
        lines.append(
            f"- Spark's alerts {'equal' if same else 'DIFFER from'} DuckDB's "
            "(same rule, subject and evidence key for every finding)."
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=HERE / "data" / "detect")
    parser.add_argument("--people", type=int, default=1_140_000)
    parser.add_argument("--visits-per-person", type=float, default=10.3)
    parser.add_argument("--seed", type=int, default=43)
    parser.add_argument("--engines", default="duckdb")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--step", help=argparse.SUPPRESS)
    parser.add_argument("step_args", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        work = Path(args.step_args[0])
        if args.step == "generate":
            result = step_generate(
                work, int(args.step_args[1]), float(args.step_args[2]), int(args.step_args[3])
            )
        elif args.step == "snapshot":
            result = step_snapshot(work)
        else:
            result = step_rules(work, args.step_args[1])
        print(json.dumps(result))
        return
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    if not set(engines) <= {"duckdb", "spark"} or not engines:
        raise SystemExit("--engines: duckdb and/or spark")
    load = os.getloadavg()
    work = args.work.resolve()
    generated = _child(
        "generate", str(work), str(args.people), str(args.visits_per_person), str(args.seed)
    )
    print("generated:", json.dumps(generated), flush=True)
    snapshot = _child("snapshot", str(work))
    print("snapshot:", json.dumps(snapshot), flush=True)
    runs = []
    for engine in engines:
        runs.append(_child("rules", str(work), engine))
        print(engine, json.dumps(runs[-1]), flush=True)
    same = None
    if len(engines) > 1:
        keys = [
            json.loads((work / f"alerts-{e}.json").read_text(encoding="utf-8")) for e in engines
        ]
        same = all(k == keys[0] for k in keys[1:])
    text = markdown(args, generated, snapshot, runs, load, same)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
