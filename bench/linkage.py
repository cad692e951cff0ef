"""Linkage benchmark: `nidb match` against Splink as its tutorial suggests, on the same data.

For a data folder made by ``nidb.sim.generate.generate(dir, people, seed)`` (registry.csv,
records.csv and truth.csv), one run measures, each system in a fresh child process so that
peak RSS (``os.wait4`` → ``ru_maxrss``) is that system's own:

1. **nidb** — ``nidb.identity.match.match_files(registry, records, out)``, defaults untouched;
2. **Splink (tutorial)** — a plain Splink 5 DuckDB ``link_only`` model on the raw files with
   the minimal cleaning of the Splink tutorials (names split on spaces and lower-cased,
   ``DD/MM/YYYY`` turned into ISO text; no nidb normaliser), the tutorial's comparisons,
   blocking rules and training, ``predict(threshold_match_probability=0.01)``. It runs under
   a wall-clock cap (``--baseline-timeout``); a run that does not finish is killed and
   reported as such.

Both are then scored by the same code against truth.csv: per record the best and the
second-best candidate give ``auto`` (p ≥ 0.999 and second < 0.05), ``review`` (p ≥ 0.5) or
``none``; nidb's matches file already carries its decisions (same thresholds, plus nidb's own
rule that a declared ID owned by somebody else is never linked automatically).

    .venv/bin/python bench/linkage.py --people 100000 --work /work/bench
    .venv/bin/python bench/linkage.py --people 1000000 --work /work/bench --baseline-timeout 900

With ``--engines duckdb,spark`` it instead runs ``nidb match`` once per engine (``--engine
duckdb`` and ``--engine spark``, each in its own child process) on the same data and reports
the seconds of each and how often the two agree on a record's decision (auto / review / none)
together with its matched personal_id:

    .venv/bin/python bench/linkage.py --people 100000 --work /work/bench --engines duckdb,spark

Prints a table and appends a dated section to bench/results/linkage.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "bench" / "results" / "linkage.md"

AUTO, RIVAL, REVIEW, FLOOR = 0.999, 0.05, 0.5, 0.01
"""The decision rule both systems are scored with (nidb's defaults, see ``Thresholds``)."""

TARGETS = {
    "seconds": 60.0,
    "ratio": 1 / 3,
    "peak_gib": 4.0,
    "auto_precision": 0.9999,
    "f1": 0.99,
    "review_rate": 0.03,
}
"""From the issue, stated for 1M records against a 1M-person registry."""


# --------------------------------------------------------------------------- children


def child_nidb(data: Path, out: Path, engine: str = "duckdb") -> dict[str, object]:
    from nidb.identity.match import match_files

    summary = match_files(data / "registry.csv", data / "records.csv", out, engine=engine)
    return {
        "stages": {k: round(v, 2) for k, v in summary.seconds.items()},
        "candidate_pairs": summary.candidate_pairs,
        "decisions": summary.decisions,
        "auto_threshold": summary.auto_threshold,
        "parameters": model_parameters(summary.trained_model),
    }


def model_parameters(trained: dict[str, Any]) -> dict[str, float]:
    """λ and every level's m and u of a trained model, by name (``comparison/level/m``)."""
    found = {"lambda": float(trained["probability_two_random_records_match"])}
    for comparison in trained["comparisons"]:
        for level in comparison["comparison_levels"]:
            for key in ("m_probability", "u_probability"):
                value = level.get(key)
                if isinstance(value, float | int):
                    name = f"{comparison['output_column_name']}/{level['label_for_charts']}"
                    found[f"{name}/{key[0]}"] = float(value)
    return found


def _tutorial_frame(con: object, table: str, path: Path, side: str) -> None:
    """The Splink tutorial's cleaning: split and lower-case the name, ISO date text."""
    if side == "records":
        uid, pid, province = "record_id", "NULLIF(trim(personal_id), '')", "birth_province"
    else:
        uid, pid, province = "personal_id", "NULLIF(trim(personal_id), '')", "birth_province"
    con.execute(  # type: ignore[attr-defined]
        f"""
        CREATE OR REPLACE TABLE {table} AS
        WITH raw AS (
            SELECT *, string_split(lower(trim(regexp_replace(full_name, '\\s+', ' ', 'g'))), ' ')
                          AS parts
            FROM read_csv('{path}', header = true, all_varchar = true)
        )
        SELECT {uid} AS unique_id,
               parts[-1] AS first_name,
               parts[1] AS surname,
               NULLIF(array_to_string(parts[2:-2], ' '), '') AS middle_name,
               CASE WHEN regexp_full_match(date_of_birth, '\\d{{2}}/\\d{{2}}/\\d{{4}}')
                    THEN substr(date_of_birth, 7, 4) || '-' || substr(date_of_birth, 4, 2)
                         || '-' || substr(date_of_birth, 1, 2)
                    ELSE NULLIF(trim(date_of_birth), '') END AS dob,
               NULLIF(trim(gender), '') AS gender,
               NULLIF(trim({province}), '') AS birth_province,
               {pid} AS personal_id
        FROM raw
        """
    )


def child_splink(data: Path, out: Path, memory_limit: str, temp_limit: str) -> dict[str, object]:
    import logging

    import duckdb
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    logging.getLogger("splink").setLevel(logging.WARNING)
    stages: dict[str, float] = {}

    def mark(stage: str) -> None:  # the parent reads the last one if it has to kill us
        print(f"@@stage {stage}", flush=True)

    mark("load")
    clock = time.perf_counter()
    con = duckdb.connect()  # DuckDB's defaults, as DuckDBAPI() would create them …
    # … except two guards for a shared machine (reported with the results)
    con.execute(f"SET temp_directory = '{out.parent / 'splink-duckdb-tmp'}'")
    if memory_limit:
        con.execute(f"SET memory_limit = '{memory_limit}'")
    if temp_limit:
        con.execute(f"SET max_temp_directory_size = '{temp_limit}'")
    _tutorial_frame(con, "records_t", data / "records.csv", "records")
    _tutorial_frame(con, "registry_t", data / "registry.csv", "registry")
    db_api = DuckDBAPI(connection=con)
    records = db_api.register("records_t", dataset_display_name="records")
    registry = db_api.register("registry_t", dataset_display_name="registry")
    settings = SettingsCreator(
        link_type="link_only",
        comparisons=[
            cl.NameComparison("first_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison("dob", input_is_string=True),
            cl.ExactMatch("gender"),
            cl.ExactMatch("birth_province"),
            cl.ExactMatch("personal_id"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("first_name", "surname"),
            block_on("surname", "dob"),
            block_on("first_name", "dob"),
            block_on("personal_id"),
        ],
    )
    linker = Linker([records, registry], settings)
    stages["load"] = time.perf_counter() - clock

    mark("train_lambda")
    clock = time.perf_counter()
    linker.training.estimate_probability_two_random_records_match(
        [block_on("first_name", "surname", "dob"), block_on("personal_id")], recall=0.7
    )
    stages["train_lambda"] = time.perf_counter() - clock
    mark("train_u")
    clock = time.perf_counter()
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
    stages["train_u"] = time.perf_counter() - clock
    mark("train_em (first_name, surname)")
    clock = time.perf_counter()
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("first_name", "surname")
    )
    stages["train_em_names"] = time.perf_counter() - clock
    mark("train_em (dob)")
    clock = time.perf_counter()
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("dob"))
    stages["train_em_dob"] = time.perf_counter() - clock

    mark("predict")
    clock = time.perf_counter()
    pairs = linker.inference.predict(threshold_match_probability=FLOOR)
    con.execute(f"""
        CREATE OR REPLACE TABLE candidates AS
        SELECT CASE WHEN source_dataset_l = 'records' THEN unique_id_l ELSE unique_id_r END AS record_id,
               CASE WHEN source_dataset_l = 'records' THEN unique_id_r ELSE unique_id_l END AS personal_id,
               match_probability AS p
        FROM {pairs.physical_name}
    """)
    candidate_pairs = con.execute("SELECT count(*) FROM candidates").fetchone()[0]  # type: ignore[index]
    stages["predict"] = time.perf_counter() - clock

    mark("decide")
    clock = time.perf_counter()
    con.execute(f"""
        COPY (
            WITH ranked AS (
                SELECT record_id, personal_id, p,
                       row_number() OVER (PARTITION BY record_id ORDER BY p DESC, personal_id) AS rank
                FROM candidates),
            best AS (SELECT * FROM ranked WHERE rank = 1),
            second AS (SELECT record_id, p AS p2 FROM ranked WHERE rank = 2),
            decided AS (
                SELECT r.unique_id AS record_id, b.personal_id, coalesce(b.p, 0.0) AS score,
                       CASE WHEN b.p IS NULL OR b.p < {REVIEW} THEN 'none'
                            WHEN b.p >= {AUTO} AND coalesce(s.p2, 0.0) < {RIVAL} THEN 'auto'
                            ELSE 'review' END AS decision
                FROM records_t r
                LEFT JOIN best b ON b.record_id = r.unique_id
                LEFT JOIN second s ON s.record_id = r.unique_id)
            SELECT record_id, CASE WHEN decision <> 'none' THEN personal_id END AS personal_id,
                   round(score, 6) AS score, decision
            FROM decided
        ) TO '{out}' (FORMAT csv, HEADER true)
    """)
    stages["decide"] = time.perf_counter() - clock
    return {
        "stages": {k: round(v, 2) for k, v in stages.items()},
        "candidate_pairs": int(candidate_pairs),
        "lambda": linker._settings_obj._probability_two_random_records_match,
    }


# --------------------------------------------------------------------------- parent


def run_child(
    system: str, data: Path, out: Path, timeout: float, log: Path, extra: list[str]
) -> dict[str, object]:
    """Run one system in a fresh process; wall seconds, peak RSS, and what the child reported."""
    result_file = out.with_suffix(".json")
    result_file.unlink(missing_ok=True)
    out.unlink(missing_ok=True)
    command = [
        sys.executable,
        __file__,
        "--child",
        system,
        "--data",
        str(data),
        "--out",
        str(out),
        "--result",
        str(result_file),
        *extra,
    ]
    with log.open("w") as sink:
        started = time.perf_counter()
        child = subprocess.Popen(
            command,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=out.parent,  # any DuckDB spill (.tmp) stays in the output folder
        )
        finished = True
        while True:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() - started > timeout:
                os.killpg(child.pid, signal.SIGKILL)  # only the child's own session
                _, status, usage = os.wait4(child.pid, 0)
                finished = False
                break
            time.sleep(0.2)
        seconds = time.perf_counter() - started
    for spill in (out.parent / "splink-duckdb-tmp", out.parent / ".tmp"):
        shutil.rmtree(spill, ignore_errors=True)
    child.returncode = os.waitstatus_to_exitcode(status)  # already reaped by wait4
    report: dict[str, object] = {
        "system": system,
        "seconds": seconds,
        "peak_mib": usage.ru_maxrss / 1024,
        # CPU time is what a loaded machine does not inflate: the ratio to read under load
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "finished": finished,
        "exit": child.returncode,
    }
    if finished and child.returncode == 0 and result_file.exists():
        report.update(json.loads(result_file.read_text()))
    elif finished:
        report["finished"] = False
        report["error"] = log.read_text()[-2000:]
    stage_lines = [line for line in log.read_text().splitlines() if line.startswith("@@stage ")]
    if stage_lines:
        report["last_stage"] = stage_lines[-1].removeprefix("@@stage ")
    return report


def score(matches: Path, truth: Path) -> dict[str, object]:
    """The same scorer for both systems: decisions in a matches file against truth.csv."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET threads = 2")
    source = "read_csv(?, header = true, all_varchar = true)"
    con.execute(f"CREATE TABLE t AS SELECT * FROM {source}", [str(truth)])
    con.execute(f"CREATE TABLE m AS SELECT * FROM {source}", [str(matches)])
    con.execute("""
        CREATE TABLE s AS
        SELECT t.record_id, NULLIF(t.personal_id, '') AS truth_pid, NULLIF(m.personal_id, '') AS pid,
               CAST(m.score AS DOUBLE) AS score, coalesce(m.decision, 'none') AS decision, t.errors
        FROM t LEFT JOIN m USING (record_id)
    """)
    row = con.execute("""
        SELECT count(*),
               count(*) FILTER (WHERE decision = 'auto'),
               count(*) FILTER (WHERE decision = 'auto' AND pid = truth_pid),
               count(*) FILTER (WHERE decision = 'review'),
               count(*) FILTER (WHERE decision IN ('auto', 'review')),
               count(*) FILTER (WHERE decision IN ('auto', 'review') AND pid = truth_pid),
               count(truth_pid),
               (SELECT count(*) FROM m)
        FROM s
    """).fetchone()
    n, auto, auto_ok, review, links, links_ok, truth_links, rows = row  # type: ignore[misc]
    precision = links_ok / links if links else 0.0
    recall = links_ok / truth_links if truth_links else 0.0
    bins = con.execute("""
        SELECT CASE WHEN score >= 0.999 THEN '≥ 0.999' WHEN score >= 0.99 THEN '0.99–0.999'
                    WHEN score >= 0.9 THEN '0.9–0.99' ELSE '0.5–0.9' END AS bin,
               count(*), avg(CASE WHEN pid = truth_pid THEN 1.0 ELSE 0.0 END), min(score)
        FROM s WHERE score >= 0.5 AND pid IS NOT NULL GROUP BY 1 ORDER BY 4
    """).fetchall()
    wrong_auto = con.execute("""
        SELECT coalesce(NULLIF(errors, ''), '(none)') AS e, count(*) FROM s
        WHERE decision = 'auto' AND pid IS DISTINCT FROM truth_pid GROUP BY 1 ORDER BY 2 DESC LIMIT 6
    """).fetchall()
    con.close()
    return {
        "records": n,
        "rows_in_file": rows,
        "auto": auto,
        "auto_precision": auto_ok / auto if auto else float("nan"),
        "wrong_auto_per_100k": (auto - auto_ok) / n * 1e5,
        "review": review,
        "review_rate": review / n,
        "precision": precision,
        "recall": recall,
        "f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
        "calibration": [(b, c, share) for b, c, share, _ in bins],
        "wrong_auto_errors": wrong_auto,
    }


def machine() -> str:
    with open("/proc/meminfo") as handle:
        total_kib = int(handle.readline().split()[1])
    cpu = ""
    try:
        with open("/proc/cpuinfo") as handle:
            cpu = next(
                (line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")),
                "",
            )
    except OSError:
        pass
    import duckdb
    import splink

    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{platform.machine()} {cpu}, {os.cpu_count()} cores, {total_kib / 1024**2:.0f} GiB RAM, "
        f"Python {platform.python_version()}, DuckDB {duckdb.__version__}, "
        f"Splink {splink.__version__}; load average at start {load} (shared machine)"
    )


def _fmt_seconds(report: dict[str, object]) -> str:
    if report["finished"]:
        return f"{report['seconds']:.1f}"
    if report.get("error"):
        stage = f" in {report['last_stage']}" if report.get("last_stage") else ""
        return f"did not finish: {_failure(report)} after {report['seconds']:.0f} s{stage}"
    during = f" (killed during {report['last_stage']})" if report.get("last_stage") else ""
    return f"did not finish in {report['timeout']:.0f} s{during}"


def _failure(report: dict[str, object]) -> str:
    error = str(report.get("error", ""))
    if "max_temp_directory_size" in error:
        return f"its spill to disk reached the {report.get('temp_limit')} guard"
    if "Out of Memory" in error:
        return f"out of memory (DuckDB memory_limit {report.get('memory_limit')})"
    return "failed"


def blocked_pairs(data: Path) -> list[tuple[str, int]]:
    """Pairs each tutorial blocking rule generates on this data (explains the baseline's cost)."""
    import duckdb

    con = duckdb.connect()
    _tutorial_frame(con, "records_t", data / "records.csv", "records")
    _tutorial_frame(con, "registry_t", data / "registry.csv", "registry")
    counts = []
    for keys in (
        ("first_name", "surname"),
        ("surname", "dob"),
        ("first_name", "dob"),
        ("personal_id",),
        ("dob",),
    ):
        k = ", ".join(keys)
        present = " AND ".join(f"{c} IS NOT NULL" for c in keys)
        n = con.execute(
            f"SELECT coalesce(sum(a.n * b.n), 0) FROM "
            f"(SELECT {k}, count(*) AS n FROM records_t WHERE {present} GROUP BY ALL) a JOIN "
            f"(SELECT {k}, count(*) AS n FROM registry_t WHERE {present} GROUP BY ALL) b USING ({k})"
        ).fetchone()[0]  # type: ignore[index]
        counts.append((f"block_on({', '.join(repr(c) for c in keys)})", int(n)))
    con.close()
    return counts


def _pct(x: float, digits: int = 2) -> str:
    return f"{100 * x:.{digits}f}%"


def tables(reports: list[dict[str, object]], people: int) -> list[str]:
    nidb = next(r for r in reports if r["system"] == "nidb")
    base = next((r for r in reports if r["system"] == "splink"), None)
    lines = [
        "| system | records | registry | seconds (end to end) | peak RSS MiB | auto links | "
        "auto precision | wrong auto /100k records | review rate | precision | recall | F1 |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in reports:
        name = "nidb `match_files`" if r["system"] == "nidb" else "Splink 5 (tutorial model)"
        peak = f"{r['peak_mib']:,.0f}" + (
            "" if r["finished"] else " (until it failed)" if r.get("error") else " (until killed)"
        )
        q = r.get("quality")
        if q:
            quality = (
                f"{q['auto']:,} | {q['auto_precision']:.5f} | {q['wrong_auto_per_100k']:.1f} | "
                f"{_pct(q['review_rate'])} | {q['precision']:.4f} | {q['recall']:.4f} | {q['f1']:.4f}"
            )
        else:
            quality = " | ".join(["—"] * 7)
        lines.append(
            f"| {name} | {r['n_records']:,} | {r['n_registry']:,} | {_fmt_seconds(r)} | {peak} | "
            f"{quality} |"
        )
    if base is None:
        ratio_text = "not measured (baseline skipped)"
        ratio = None
    elif base["finished"]:
        ratio = nidb["seconds"] / base["seconds"]
        ratio_text = f"{ratio:.3f} ({nidb['seconds']:.1f} s / {base['seconds']:.1f} s)"
    elif base.get("error"):
        ratio = None
        ratio_text = (
            f"not measured: Splink did not finish ({_failure(base)} after "
            f"{base['seconds']:.0f} s, under the {base['timeout']:.0f} s cap); nidb "
            f"{nidb['seconds']:.1f} s"
        )
    else:
        ratio = nidb["seconds"] / base["timeout"]
        ratio_text = (
            f"< {ratio:.3f} (Splink did not finish in {base['timeout']:.0f} s; "
            f"nidb {nidb['seconds']:.1f} s)"
        )
    lines += ["", f"Time ratio nidb ÷ Splink: {ratio_text}."]
    if base is not None and base["finished"] and base.get("cpu_seconds"):
        cpu_ratio = nidb.get("cpu_seconds", 0.0) / base["cpu_seconds"]
        lines.append(
            f"CPU-time ratio nidb ÷ Splink (user + system of each child, what load does not "
            f"inflate): {cpu_ratio:.3f} ({nidb.get('cpu_seconds', 0.0):.1f} s / "
            f"{base['cpu_seconds']:.1f} s)."
        )
    lines.append("")

    q = nidb.get("quality")
    scale = "" if people >= 1_000_000 else " (the targets are stated for 1M; shown for reference)"
    if q:

        def mark(ok: bool) -> str:
            return "met" if ok else "**not met**"

        gib = nidb["peak_mib"] / 1024
        lines += [
            f"Targets for nidb{scale}:",
            "",
            "| target | goal | measured | |",
            "|---|---|---|---|",
            f"| end-to-end time | ≤ 60 s | {nidb['seconds']:.1f} s | "
            f"{mark(nidb['seconds'] <= TARGETS['seconds'])} |",
            f"| time vs Splink | ≤ 1/3 | {ratio_text.split(' (')[0]} | "
            + (
                "undetermined (baseline did not finish)"
                if ratio is None
                else mark(ratio <= TARGETS["ratio"])
                if base and base["finished"]
                else "met"
                if ratio <= TARGETS["ratio"]
                else "undetermined (baseline capped)"
            )
            + " |",
            f"| peak RSS | ≤ 4 GiB | {gib:.2f} GiB | {mark(gib <= TARGETS['peak_gib'])} |",
            f"| auto-link precision | ≥ 0.9999 | {q['auto_precision']:.5f} | "
            f"{mark(q['auto_precision'] >= TARGETS['auto_precision'])} |",
            f"| F1 of links | ≥ 0.99 | {q['f1']:.4f} | {mark(q['f1'] >= TARGETS['f1'])} |",
            f"| review rate | ≤ 3% | {_pct(q['review_rate'])} | "
            f"{mark(q['review_rate'] <= TARGETS['review_rate'])} |",
            "",
        ]
    calibrated = [r for r in reports if r.get("quality")]
    if calibrated:
        heads = " | ".join(
            f"{'nidb' if r['system'] == 'nidb' else 'Splink'} count | "
            f"{'nidb' if r['system'] == 'nidb' else 'Splink'} share correct"
            for r in calibrated
        )
        lines += [
            "Score calibration (records whose best candidate scores ≥ 0.5; correct = the "
            "candidate is truth's registry person):",
            "",
            f"| score bin | {heads} |",
            "|---|" + "---|" * (2 * len(calibrated)),
        ]
        for label in ("0.5–0.9", "0.9–0.99", "0.99–0.999", "≥ 0.999"):
            cells = []
            for r in calibrated:
                found = {b: (c, s) for b, c, s in r["quality"]["calibration"]}  # type: ignore[index]
                c, s = found.get(label, (0, None))
                cells.append(f"{c:,} | " + (f"{s:.5f}" if s is not None else "—"))
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
        lines.append("")

    details = []
    for r in reports:
        name = "nidb" if r["system"] == "nidb" else "Splink"
        if r.get("stages"):
            stages = ", ".join(f"{k} {v:.1f}" for k, v in r["stages"].items())  # type: ignore[union-attr]
            threshold = (
                f"; automatic threshold set by the run: {r['auto_threshold']:.6f}"
                if "auto_threshold" in r
                else ""
            )
            details.append(
                f"- {name} stages (s, inside the child): {stages}; "
                f"CPU seconds (user + system, whole child): {r.get('cpu_seconds', 0.0):.1f}; "
                f"candidate pairs ≥ {FLOOR}: {r.get('candidate_pairs', 0):,}{threshold}."
            )
        if r.get("error"):
            stage = f" during {r['last_stage']}" if r.get("last_stage") else ""
            text = str(r["error"])
            if "Error was:" in text:  # Splink quotes the failing SQL, then DuckDB's message
                text = text.split("Error was:", 1)[1].strip().split("\n\n", 1)[0]
            details.append(f"- {name} failed{stage}: `{' '.join(text.split())[-400:]}`")
        q = r.get("quality")
        if q and q["wrong_auto_errors"]:
            errs = ", ".join(f"{e} ×{c}" for e, c in q["wrong_auto_errors"])
            details.append(f"- {name} wrong auto links by injected error (truth.errors): {errs}.")
        if r.get("blocked_pairs"):
            pairs = ", ".join(f"`{rule}` {n:,}" for rule, n in r["blocked_pairs"])  # type: ignore[union-attr]
            details.append(
                f"- Pairs the tutorial's blocking rules generate on this data (counted "
                f"separately, not timed): {pairs} (the last is the second EM rule)."
            )
    if details:
        lines += ["Details:", "", *details, ""]
    return lines


def agreement(first: Path, second: Path) -> dict[str, object]:
    """How often two matches files give a record the same decision and the same personal_id."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET threads = 2")
    source = "read_csv(?, header = true, all_varchar = true)"
    con.execute(f"CREATE TABLE a AS SELECT * FROM {source}", [str(first)])
    con.execute(f"CREATE TABLE b AS SELECT * FROM {source}", [str(second)])
    n, same, same_decision, both_score_diff = con.execute("""
        SELECT count(*),
               count(*) FILTER (WHERE a.decision = b.decision
                                AND a.personal_id IS NOT DISTINCT FROM b.personal_id),
               count(*) FILTER (WHERE a.decision = b.decision),
               max(abs(CAST(a.score AS DOUBLE) - CAST(b.score AS DOUBLE)))
        FROM a FULL JOIN b USING (record_id)
    """).fetchone()  # type: ignore[misc]
    table = con.execute("""
        SELECT coalesce(a.decision, '—'), coalesce(b.decision, '—'),
               CASE WHEN a.personal_id IS NOT DISTINCT FROM b.personal_id THEN 'yes' ELSE 'no' END,
               count(*)
        FROM a FULL JOIN b USING (record_id) GROUP BY ALL ORDER BY 1, 2, 3
    """).fetchall()
    differences = con.execute("""
        SELECT record_id, a.decision, a.personal_id, a.score, b.decision, b.personal_id, b.score
        FROM a FULL JOIN b USING (record_id)
        WHERE a.decision IS DISTINCT FROM b.decision
           OR a.personal_id IS DISTINCT FROM b.personal_id
        ORDER BY record_id
    """).fetchall()
    other_scores = con.execute(
        "SELECT count(*) FROM a FULL JOIN b USING (record_id) WHERE a.score IS DISTINCT FROM b.score"
    ).fetchone()[0]  # type: ignore[index]
    con.close()
    return {
        "records": n,
        "agree": same,
        "rate": same / n if n else float("nan"),
        "same_decision": same_decision,
        "max_score_diff": both_score_diff,
        "other_scores": other_scores,
        "crosstab": table,
        "differences": differences,
    }


def parameters_line(reports: list[dict[str, object]]) -> str:
    """Whether the engines scored with the same trained model (λ, m and u), as a sentence."""
    first, second = (r.get("parameters") for r in reports)
    if not isinstance(first, dict) or not isinstance(second, dict):
        return "Trained parameters: not reported by both engines."
    if first.keys() != second.keys():
        return f"Trained parameters: **different sets** ({len(first)} and {len(second)} values)."
    largest = max(abs(first[k] - second[k]) for k in first)
    verdict = "identical" if largest == 0 else f"largest difference {largest:.3g}"
    return f"Trained parameters (λ and every level's m and u, {len(first)} values): {verdict}."


DIFFERENCES_LISTED = 100
"""Every differing record is listed up to this many (the crosstab counts them all)."""


def engine_section(reports: list[dict[str, object]], agreed: dict[str, object]) -> list[str]:
    """Seconds per engine and the agreement of their decisions, as Markdown."""
    lines = [
        "| engine | records | registry | seconds (end to end) | peak RSS MiB (Python process) |"
        " candidate pairs | auto | review | none | auto precision | F1 |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in reports:
        d: dict[str, int] = r.get("decisions", {})  # type: ignore[assignment]
        q = r.get("quality")
        quality = f"{q['auto_precision']:.5f} | {q['f1']:.4f}" if q else "— | —"
        lines.append(
            f"| `--engine {r['engine']}` | {r['n_records']:,} | {r['n_registry']:,} | "
            f"{_fmt_seconds(r)} | {r['peak_mib']:,.0f} | {r.get('candidate_pairs', 0):,} | "
            f"{d.get('auto', 0):,} | {d.get('review', 0):,} | {d.get('none', 0):,} | {quality} |"
        )
    rate = float(agreed["rate"])  # type: ignore[arg-type]
    verdict = "met" if rate >= 0.999 else "**not met**"
    lines += [
        "",
        parameters_line(reports),
        "",
        f"Agreement (same decision and same matched personal_id): {agreed['agree']:,} of "
        f"{agreed['records']:,} records = {_pct(rate, 3)} (target ≥ 99.9%: {verdict}); "
        f"same decision alone: {agreed['same_decision']:,}; records whose score (6 decimals) "
        f"differs: {agreed['other_scores']:,}; largest score difference "
        f"{float(agreed['max_score_diff']):.6f}.",  # type: ignore[arg-type]
        "",
        "| duckdb decision | spark decision | same person | records |",
        "|---|---|---|---|",
        *[f"| {a} | {b} | {same} | {c:,} |" for a, b, same, c in agreed["crosstab"]],  # type: ignore[attr-defined]
        "",
    ]
    differences: list[tuple[object, ...]] = agreed["differences"]  # type: ignore[assignment]
    if differences:
        shown = differences[:DIFFERENCES_LISTED]
        lines += [
            f"Records that differ ({len(shown)} of {len(differences)}: id, duckdb "
            "decision/id/score, spark decision/id/score):",
            "",
            *[f"- `{' · '.join(str(x) for x in row)}`" for row in shown],
            "",
        ]
    details = []
    for r in reports:
        if r.get("stages"):
            stages = ", ".join(f"{k} {v:.1f}" for k, v in r["stages"].items())  # type: ignore[union-attr]
            details.append(f"- `--engine {r['engine']}` stages (s, inside the child): {stages}.")
        if r.get("error"):
            details.append(
                f"- `--engine {r['engine']}` failed: `{' '.join(str(r['error']).split())[-400:]}`"
            )
    if details:
        lines += ["Details:", "", *details, ""]
    return lines


def run_engines(args: argparse.Namespace, data: Path, manifest: dict[str, object]) -> list[str]:
    """Run nidb match once per engine and compare; returns the Markdown body."""
    suffix = "" if args.error_model == 1 else f"-m{args.error_model}"
    out_dir = args.work / f"linkage-{args.people}{suffix}"
    out_dir.mkdir(parents=True, exist_ok=True)
    reports = []
    for engine in args.engines.split(","):
        print(f"running nidb match --engine {engine} (cap {args.nidb_timeout:.0f} s) …", flush=True)
        out = out_dir / f"nidb-{engine}-matches.csv"
        report = run_child(
            "nidb",
            data,
            out,
            args.nidb_timeout,
            out_dir / f"nidb-{engine}.log",
            [f"--engine={engine}"],
        )
        report["engine"] = engine
        report["timeout"] = args.nidb_timeout
        report["n_records"] = manifest["files"]["records.csv"]  # type: ignore[index]
        report["n_registry"] = manifest["files"]["registry.csv"]  # type: ignore[index]
        print(f"  {engine}: {report['seconds']:.1f} s, finished {report['finished']}", flush=True)
        if report["finished"]:
            report["quality"] = score(out, data / "truth.csv")
        reports.append(report)
    files = [out_dir / f"nidb-{r['engine']}-matches.csv" for r in reports if r["finished"]]
    if len(files) != 2:
        raise SystemExit(
            "an engine did not finish: " + "; ".join(str(r.get("error")) for r in reports)
        )
    return engine_section(reports, agreement(files[0], files[1]))


def make_data(data: Path, people: int, seed: int, error_model: int) -> None:
    """Generate a data folder with error model 1 (the generator's own) or 2 (``errors2``)."""
    import dataclasses

    from nidb.sim.generate import ErrorRates, generate
    from nidb.sim.generate.errors2 import MODEL_1_TYPING_OFF, apply_error_model_2

    if error_model == 1:
        generate(data, people, seed=seed)
        return
    generate(data, people, seed=seed, rates=dataclasses.replace(ErrorRates(), **MODEL_1_TYPING_OFF))
    apply_error_model_2(data, seed)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--error-model",
        type=int,
        choices=(1, 2),
        default=1,
        help="the generator's typing-error model; 2 is independent and never tuned on",
    )
    parser.add_argument(
        "--work",
        type=Path,
        default=ROOT / "bench" / "data",
        help="folder holding data-PEOPLE/ (generated if missing) and the outputs",
    )
    parser.add_argument(
        "--data", type=Path, default=None, help="data folder (default WORK/data-PEOPLE)"
    )
    parser.add_argument("--systems", default="nidb,splink")
    parser.add_argument(
        "--engines",
        default="",
        help="e.g. duckdb,spark: compare nidb match across engines instead of against Splink",
    )
    parser.add_argument("--engine", default="duckdb", help=argparse.SUPPRESS)
    parser.add_argument("--baseline-timeout", type=float, default=900.0)
    parser.add_argument("--nidb-timeout", type=float, default=3600.0)
    parser.add_argument(
        "--baseline-memory-limit",
        default="12GB",
        help="DuckDB memory_limit for Splink ('' = DuckDB's default, 80%% of RAM)",
    )
    parser.add_argument(
        "--baseline-temp-limit",
        default="20GB",
        help="DuckDB max_temp_directory_size for Splink's spill ('' = DuckDB's default)",
    )
    parser.add_argument("--no-write", action="store_true", help="do not append to linkage.md")
    parser.add_argument("--child", choices=("nidb", "splink"), help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        if args.child == "nidb":
            outcome = child_nidb(args.data, args.out, args.engine)
        else:
            outcome = child_splink(
                args.data, args.out, args.baseline_memory_limit, args.baseline_temp_limit
            )
        args.result.write_text(json.dumps(outcome))
        return

    command = shlex.join([os.path.relpath(sys.executable, ROOT), *sys.argv])
    suffix = "" if args.error_model == 1 else f"-m{args.error_model}"
    data = args.data or args.work / f"data-{args.people}{suffix}"
    if not (data / "manifest.json").exists():
        print(
            f"generating {args.people:,} people (seed {args.seed}, error model "
            f"{args.error_model}) into {data} …",
            flush=True,
        )
        make_data(data, args.people, args.seed, args.error_model)
    manifest = json.loads((data / "manifest.json").read_text())
    out_dir = args.work / f"linkage-{args.people}{suffix}"
    out_dir.mkdir(parents=True, exist_ok=True)
    started_at = datetime.now()
    host = machine()
    if args.engines:
        from nidb.engines import spark as spark_engine

        body = run_engines(args, data, manifest)
        section = [
            f"## {started_at:%Y-%m-%d %H:%M} — engines {args.engines.replace(',', ' and ')}: "
            f"{manifest['people']:,} people (seed {manifest['seed']}, generator "
            f"v{manifest['generator_version']}, error model {args.error_model})",
            "",
            f"Machine: {host}. Command: `{command}`.",
            "",
            "`nidb match` once per engine on the same files, each in its own child process "
            "(seconds are the child's wall clock, interpreter start to matches file written; the "
            "Spark engine's time includes starting its JVM). Spark runs in local mode "
            f"(local[{spark_engine.DEFAULT_CORES}], driver memory "
            f"{spark_engine.DEFAULT_DRIVER_MEMORY}, {spark_engine.DEFAULT_SHUFFLE_PARTITIONS} "
            "shuffle partitions); its JVM's memory is not in the Python process's peak RSS. "
            "Both engines train the model in DuckDB on the same deterministic samples (Splink "
            "samples by a hash of the record ids) and decide in DuckDB; `--engine spark` scores "
            "the candidate pairs on Spark with the trained model handed over "
            "(`model.with_parameters`), with DuckDB's Jaro-Winkler (`similarity.jaro_winkler`). "
            "What can still differ is the last bit of a score (Spark's `log2` and `power`), and "
            "between any two runs the last bit of a trained parameter (EM's parallel sums).",
            "",
            *body,
        ]
        _emit(section, args.no_write)
        return

    reports = []
    for system in args.systems.split(","):
        timeout = args.nidb_timeout if system == "nidb" else args.baseline_timeout
        print(f"running {system} (cap {timeout:.0f} s) …", flush=True)
        extra = (
            [
                f"--baseline-memory-limit={args.baseline_memory_limit}",
                f"--baseline-temp-limit={args.baseline_temp_limit}",
            ]
            if system == "splink"
            else []
        )
        report = run_child(
            system,
            data,
            out_dir / f"{system}-matches.csv",
            timeout,
            out_dir / f"{system}.log",
            extra,
        )
        report["timeout"] = timeout
        if system == "splink":
            report["memory_limit"] = args.baseline_memory_limit or "default"
            report["temp_limit"] = args.baseline_temp_limit or "default"
            report["blocked_pairs"] = blocked_pairs(data)
        report["n_records"] = manifest["files"]["records.csv"]
        report["n_registry"] = manifest["files"]["registry.csv"]
        print(
            f"  {system}: {'finished' if report['finished'] else 'NOT finished'} in "
            f"{report['seconds']:.1f} s, peak {report['peak_mib']:.0f} MiB",
            flush=True,
        )
        if report["finished"]:
            report["quality"] = score(out_dir / f"{system}-matches.csv", data / "truth.csv")
        reports.append(report)

    body = tables(reports, args.people)
    section = [
        f"## {started_at:%Y-%m-%d %H:%M} — {manifest['people']:,} people "
        f"(seed {manifest['seed']}, generator v{manifest['generator_version']}, "
        f"error model {args.error_model})",
        "",
        f"Machine: {host}. Command: `{command}`.",
        "",
        "Splink runs on DuckDB's defaults (all cores) except two guards for the shared machine: "
        f"memory_limit {args.baseline_memory_limit or 'default (80% of RAM)'}, spill to disk "
        f"≤ {args.baseline_temp_limit or 'default (90% of free disk)'}; nidb uses its own "
        "defaults (all cores, memory_limit 2500MB).",
        "",
        *body,
    ]
    _emit(section, args.no_write)


def _emit(section: list[str], no_write: bool) -> None:
    """Print a dated section and append it to bench/results/linkage.md."""
    text = "\n".join(section)
    print()
    print(text)
    if not no_write:
        header = ""
        if not RESULTS.exists():
            header = (
                "# Linkage: nidb against Splink as its tutorial suggests\n\n"
                "Written by `bench/linkage.py` (see its docstring for what each system runs). "
                "Each system runs in its own child process; seconds are the child's wall clock "
                "(interpreter start to matches file written), peak RSS is its `ru_maxrss`. "
                "Both are scored by the same code: per record the best candidate is `auto` when "
                "p ≥ 0.999 and the second best < 0.05, `review` when p ≥ 0.5, else `none`; auto "
                "and review count as links, a link is correct when its personal_id is truth's.\n\n"
            )
        with RESULTS.open("a", encoding="utf-8") as handle:
            handle.write(header + text + "\n")
        print(f"\nappended to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
