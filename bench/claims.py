"""Claims assessment benchmark: synthetic XML 130 claims with seeded errors → DuckDB and Spark.

    python bench/claims.py --lines 1000000 [--engine duckdb|spark|both] [--error-share 0.1] [--seed 1]
    python bench/claims.py --intake [--rate 100] [--duration 30] [--postgres] [--workers 2]

Draws claims over synthetic cards (nidb.sim.generate.claims) until about ``--lines`` lines,
each seeded error with its ground truth, and writes them as the Parquet snapshot the assessment
reads (the same files `nidb claims assess` exports from the store). The draw goes chunk by chunk
over disjoint cards (so that no honest stay of one chunk overlaps one of another), each chunk
written to Parquet at once and let go: only the ground truth and a line → claim index stay.
Then `nidb.claims.assess.assess_snapshot` runs on each engine asked, one after the other in
this process (Spark's session started before its clock starts, and said apart), and the bench
reports per engine the assessment time, lines/s, CPU-seconds (this process, and for Spark its
JVM too, read from /proc: steadier than wall time on a shared machine), and per rule precision
and recall against the ground truth. With both engines it also says whether they decided every
line and claim the same. The target (issue 15) is 1,000,000 lines in ≤ 60 s. Writing the
outcome back to the store is not timed here. Appends to bench/results/claims.md with the load
average before and after.

``--intake`` measures the other target instead: signed XML 130 envelopes sent to ``nidb serve``
over HTTP at ``--rate`` per second for ``--duration`` seconds (bench/claims_intake.py), on a
fresh SQLite file or a private PostgreSQL cluster; target 100 envelopes/s with p99 ≤ 200 ms.
The machine's load average before and after is recorded (the machine may be shared).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results" / "claims.md"

from bench.loadgen import tree_cpu_seconds  # noqa: E402
from nidb.claims.assess import SNAPSHOT, Assessment, assess_snapshot  # noqa: E402
from nidb.sim.generate.claims import (  # noqa: E402
    ERROR_KINDS,
    CardForClaims,
    SyntheticClaims,
    facility_rows,
    item_rows,
    synthetic_claims,
)

PROVINCES = ["01", "79", "31", "48"]
LINES_PER_CLAIM = 4.5  # the generator's mean, measured
CHUNK_CLAIMS = 20_000
"""Claims drawn and written at a time (about 90,000 lines)."""
ENGINES = ("duckdb", "spark")


def make_cards(rng: np.random.Generator, count: int, today: date) -> list[CardForClaims]:
    """Cards valid this year at facilities of the catalogue; 2% suspended."""
    cards = []
    for n in range(count):
        province = PROVINCES[n % len(PROVINCES)]
        facility = f"{province}{int(rng.integers(2, 13)):03d}"
        bhxh = f"{province}{n:08d}"
        cards.append(
            CardForClaims(
                f"DN4{province}{bhxh}", facility, date(today.year, 1, 1),
                date(today.year, 12, 31), suspended=rng.random() < 0.02,
            )
        )  # fmt: skip
    return cards


def _utc(moment: datetime) -> datetime:
    return moment - timedelta(hours=7)


@dataclass
class Drawn:
    """What the bench keeps of the draw: the ground truth and which claim each line is of."""

    claims: int = 0
    lines: int = 0
    truth: set[tuple[int, str]] = field(default_factory=set)
    """(claim id, rule) per seeded error."""
    line_claim: np.ndarray = field(default_factory=lambda: np.zeros(1, dtype=np.int64))
    """Claim id by line id (line ids count from 1)."""


def _chunk_tables(
    made: SyntheticClaims, first_claim: int, first_line: int
) -> tuple[pa.Table, pa.Table, dict[tuple[str, str], int]]:
    """One chunk's claims and lines as the snapshot's tables; (facility, MA_LK) → claim id."""
    ids: dict[tuple[str, str], int] = {}
    claims: dict[str, list[Any]] = {name: [] for name, _ in SNAPSHOT["claims"]}
    lines: dict[str, list[Any]] = {name: [] for name, _ in SNAPSHOT["claim_lines"]}
    line_id = first_line
    routes = {"1": "right", "2": "emergency", "3": "wrong"}
    for claim_id, c in enumerate(made.claims, first_claim):
        ids[(c.facility, c.ma_lk)] = claim_id
        total = sum(x.amount for x in c.lines)
        for name, value in (
            ("id", claim_id), ("facility_code", c.facility), ("ma_lk", c.ma_lk),
            ("card_code", c.card_code), ("bhxh_code", c.card_code[-10:]),
            ("admitted_at", _utc(c.admitted)), ("discharged_at", _utc(c.discharged)),
            ("inpatient", c.inpatient),
            ("route", "referral" if c.referral and c.route_code == "1" else routes[c.route_code]),
            ("icd10", c.icd10.replace(".", "")), ("claimed_total", total), ("outcome", None),
        ):  # fmt: skip
            claims[name].append(value)
        ordered = [x for x in c.lines if x.kind == "drug"] + [
            x for x in c.lines if x.kind == "service"
        ]
        for number, line in enumerate(ordered, 1):
            for name, value in (
                ("id", line_id), ("claim_id", claim_id), ("line_no", number), ("kind", line.kind),
                ("item_code", line.code), ("quantity_milli", int(float(line.quantity) * 1000)),
                ("unit_price", line.price), ("amount", line.amount),
            ):  # fmt: skip
                lines[name].append(value)
            line_id += 1
    return (
        pa.table(claims, schema=pa.schema(SNAPSHOT["claims"])),
        pa.table(lines, schema=pa.schema(SNAPSHOT["claim_lines"])),
        ids,
    )


def _write_catalogues(folder: Path, cards: list[CardForClaims]) -> None:
    catalogue = [
        {**row, "kind": kind[:-1] if kind == "drugs" else "service",
         "valid_from": date.fromisoformat(row["valid_from"]), "valid_to": None}
        for kind in ("drugs", "services") for row in item_rows(kind)
    ]  # fmt: skip
    facilities = [
        {**row, "contract_from": date.fromisoformat(row["contract_from"]), "contract_to": None}
        for row in facility_rows(PROVINCES)
    ]
    health_cards = [
        {"card_code": c.card_code, "bhxh_code": c.card_code[-10:], "benefit_level": 4,
         "province_code": c.card_code[3:5], "facility_code": c.facility_code,
         "valid_from": c.valid_from, "valid_to": c.valid_to, "five_years_from": None,
         "status": "suspended" if c.suspended else "active"}
        for c in cards
    ]  # fmt: skip
    for name, rows in (
        ("claim_catalogue", catalogue), ("claim_facilities", facilities),
        ("health_cards", health_cards),
    ):  # fmt: skip
        pq.write_table(
            pa.Table.from_pylist(rows, schema=pa.schema(SNAPSHOT[name])), folder / f"{name}.parquet"
        )


def draw_snapshot(folder: Path, lines: int, error_share: float, seed: int) -> Drawn:
    """Draw about ``lines`` claim lines into the Parquet files `assess_snapshot` reads."""
    rng = np.random.default_rng(seed)
    today = date.today()
    claims_count = max(10, int(lines / LINES_PER_CLAIM))
    cards = make_cards(rng, max(50, claims_count // 3), today)
    _write_catalogues(folder, cards)
    chunks = max(1, -(-claims_count // CHUNK_CLAIMS))
    drawn = Drawn()
    line_claims: list[np.ndarray] = [np.zeros(1, dtype=np.int64)]  # line ids count from 1
    with (
        pq.ParquetWriter(folder / "claims.parquet", pa.schema(SNAPSHOT["claims"])) as claims_out,
        pq.ParquetWriter(folder / "claim_lines.parquet", pa.schema(SNAPSHOT["claim_lines"])) as lines_out,
    ):  # fmt: skip
        for chunk in range(chunks):
            made = synthetic_claims(
                rng, cards[chunk::chunks], claims_count // chunks + (chunk < claims_count % chunks),
                error_share, date(today.year, 1, 15), 300,
            )  # fmt: skip
            claims, claim_lines, ids = _chunk_tables(made, drawn.claims + 1, drawn.lines + 1)
            claims_out.write_table(claims)
            lines_out.write_table(claim_lines)
            drawn.truth.update((ids[(t["facility"], t["ma_lk"])], t["rule"]) for t in made.truth)
            line_claims.append(claim_lines["claim_id"].to_numpy())
            drawn.claims += claims.num_rows
            drawn.lines += claim_lines.num_rows
    drawn.line_claim = np.concatenate(line_claims)
    return drawn


def score(result: Assessment, drawn: Drawn) -> dict[str, tuple[int, int, int]]:
    """Per rule: (true positives, false positives, false negatives), at the claim level."""
    found: set[tuple[int, str]] = set()
    for claim in result.claims:
        for reason in claim["reasons"]:
            found.add((claim["claim_key"], reason["rule"]))
    for line in result.lines:
        for reduction in line["reductions"] or []:
            found.add((int(drawn.line_claim[line["line_id"]]), reduction["rule"]))
    scores = {}
    for rule in ERROR_KINDS:
        f = {x for x in found if x[1] == rule}
        t = {x for x in drawn.truth if x[1] == rule}
        scores[rule] = (len(f & t), len(f - t), len(t - f))
    return scores


def fingerprint(result: Assessment, drawn: Drawn) -> tuple[np.ndarray, np.ndarray]:
    """A hash of every line's and every claim's decision (money, reductions, reasons, share),
    by id: two engines' results compare without both being held at once."""
    lines = np.zeros(drawn.lines + 1, dtype=np.int64)
    for line in result.lines:
        lines[line["line_id"]] = hash(repr(sorted(line.items())))
    claims = np.zeros(drawn.claims + 1, dtype=np.int64)
    for claim in result.claims:
        claims[claim["claim_key"]] = hash(repr(sorted(claim.items())))
    return lines, claims


def assess_on(engine: str, folder: Path, drawn: Drawn) -> dict[str, Any]:
    """One engine's run: its time, CPU, outcomes, scores and fingerprint."""
    cpu = tree_cpu_seconds()
    result = assess_snapshot(folder, engine=engine)  # type: ignore[arg-type]
    report = {
        "seconds": result.seconds,
        "cpu_seconds": tree_cpu_seconds() - cpu,
        "lines": len(result.lines),
        "claims": len(result.claims),
        "outcomes": dict(result.by_outcome),
        "scores": score(result, drawn),
        "fingerprint": fingerprint(result, drawn),
    }
    del result
    return report


def run(
    lines: int, error_share: float, seed: int, engines: tuple[str, ...] = ("duckdb",),
    spark_memory: str = "4g",
) -> dict[str, Any]:  # fmt: skip
    """Draw, then assess on each engine; the report of each, and the draw's."""
    report: dict[str, Any] = {"engines": {}, "load_before": os.getloadavg()}
    with tempfile.TemporaryDirectory(prefix="nidb-bench-claims-") as name:
        folder = Path(name)
        started = time.perf_counter()
        drawn = draw_snapshot(folder, lines, error_share, seed)
        report.update(
            draw_seconds=time.perf_counter() - started, claims=drawn.claims, lines=drawn.lines,
            seeded=len(drawn.truth),
        )  # fmt: skip
        runtime = None
        try:
            for engine in engines:
                if engine == "spark":
                    from nidb.engines import spark

                    started = time.perf_counter()
                    runtime = spark.start(keep=True, driver_memory=spark_memory)
                    report["spark_start_seconds"] = time.perf_counter() - started
                report["engines"][engine] = assess_on(engine, folder, drawn)
        finally:
            if runtime is not None:
                runtime.stop()
    report["load_after"] = os.getloadavg()
    if len(engines) == 2:
        (a_lines, a_claims), (b_lines, b_claims) = (
            report["engines"][e]["fingerprint"] for e in engines
        )
        report["differ"] = (int((a_lines != b_lines).sum()), int((a_claims != b_claims).sum()))
    return report


def _score_rows(scores: dict[str, tuple[int, int, int]]) -> list[str]:
    rows = [
        "| rule | seeded | found right | false alarms | missed | precision | recall |",
        "|---|---|---|---|---|---|---|",
    ]
    for rule, (tp, fp, fn) in scores.items():
        precision = f"{tp / (tp + fp):.3f}" if tp + fp else "–"
        recall = f"{tp / (tp + fn):.3f}" if tp + fn else "–"
        rows.append(f"| {rule} | {tp + fn} | {tp} | {fp} | {fn} | {precision} | {recall} |")
    return rows


def render(report: dict[str, Any], seed: int, note: str, spark_memory: str) -> str:
    """The Markdown section of one run."""
    load = "/".join(f"{x:.1f}" for x in report["load_before"])
    load_after = "/".join(f"{x:.1f}" for x in report["load_after"])
    names = {"duckdb": "DuckDB", "spark": f"Spark (local[2], driver {spark_memory})"}
    text = [
        f"## {datetime.now(UTC):%Y-%m-%d %H:%M} UTC — {report['lines']:,} lines, "
        f"{report['claims']:,} claims, seed {seed}, {' + '.join(report['engines'])} {note}".rstrip(),
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; load average (1/5/15 min) {load} before the draw, "
        f"{load_after} after the last engine. Drawing the claims {report['draw_seconds']:.1f} s "
        f"(not timed against the target). Assessment = from Parquet to every line decided and "
        f"explained; CPU = this process's and, for Spark, its JVM's (/proc).",
        "",
        "| engine | seconds | lines/s | CPU-seconds | outcomes |",
        "|---|---|---|---|---|",
    ]
    for engine, r in report["engines"].items():
        text.append(
            f"| {names[engine]} | **{r['seconds']:.2f}** | {r['lines'] / r['seconds']:,.0f} | "
            f"{r['cpu_seconds']:.1f} | {r['outcomes']} |"
        )
    text.append("")
    if "spark_start_seconds" in report:
        text.append(
            f"Spark's session started in {report['spark_start_seconds']:.1f} s before its clock."
        )
    if "differ" in report:
        lines, claims = report["differ"]
        text.append(
            "Both engines decided every line and claim the same (money, reductions, reasons, "
            "share)."
            if lines == claims == 0
            else f"**The engines differ** on {lines:,} lines and {claims:,} claims."
        )
    for engine, r in report["engines"].items():
        text += ["", f"Rules on {names[engine]}:", "", *_score_rows(r["scores"])]
    return "\n".join(text) + "\n"


def intake(args: argparse.Namespace) -> None:
    from bench.claims_intake import run_intake

    r = run_intake(
        rate=args.rate, duration=args.duration, per_envelope=args.per_envelope,
        workers=args.workers, postgres=args.postgres, seed=args.seed,
    )  # fmt: skip
    met = r["p99"] <= 200 and r["achieved"] >= 0.98 * args.rate and r["errors"] == 0
    load = "/".join(f"{x:.1f}" for x in r["load_before"])
    load_after = "/".join(f"{x:.1f}" for x in r["load_after"])
    text = "\n".join(
        [
            f"## {datetime.now(UTC):%Y-%m-%d %H:%M} UTC — intake over HTTP, {r['database']}, "
            f"{r['rate']:.0f} envelopes/s for {args.duration:.0f} s {args.note}".rstrip(),
            "",
            f"Machine: {platform.machine()}, {r['cpus']} cores: load average (1/5/15 min, "
            f"this bench's own preparation included) {load} before the run, {load_after} after. `nidb serve "
            f"--workers {r['workers']}`; client in the bench's process (open loop, 64 threads).",
            f"Envelopes: {r['sent']:,} measured after {r['warm']:,} warm-up ones sent at the same "
            f"rate, {r['per_envelope']} claim(s) of 3–6 lines each, {r['envelope_kb']:.1f} KB "
            f"of XML on average, each signed "
            f"(Ed25519), admitted by the gate, parsed (defusedxml), validated, stored with its "
            f"lines in one transaction and logged in the access log; the reply signed.",
            "",
            "| asked | achieved | errors | p50 | p90 | p99 | max | claims stored / sent |",
            "|---|---|---|---|---|---|---|---|",
            f"| {r['rate']:.0f}/s | {r['achieved']:.1f}/s | {r['errors']} | {r['p50']:.0f} ms | "
            f"{r['p90']:.0f} ms | {r['p99']:.0f} ms | {r['max']:.0f} ms | "
            f"{r['stored']:,} / {r['expected']:,} |",
            "",
            f"nidb's CPU (server and workers, not the database): **{r['cpu_ms']:.1f} ms per "
            f"envelope**, i.e. about {1000 / r['cpu_ms']:.0f} envelopes/s per free core.",
            "",
            f"Target (100/s, p99 ≤ 200 ms): **{'met' if met else 'NOT met'}** on this run.",
            "",
        ]
    )
    print(text)
    from bench.sections import append_section

    append_section(
        RESULTS,
        "# Claims benchmarks (bench/claims.py)\n\n",
        text + "\n",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--error-share", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--note", default="")
    parser.add_argument("--engine", choices=(*ENGINES, "both"), default="duckdb")
    parser.add_argument("--spark-memory", default="4g", help="Spark's driver memory")
    parser.add_argument("--intake", action="store_true", help="the HTTP intake benchmark")
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--per-envelope", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    if args.intake:
        intake(args)
        return
    engines = ENGINES if args.engine == "both" else (args.engine,)
    report = run(args.lines, args.error_share, args.seed, engines, args.spark_memory)
    text = render(report, args.seed, args.note, args.spark_memory)
    print(text)
    from bench.sections import append_section

    append_section(
        RESULTS,
        "# Claims assessment benchmark (bench/claims.py)\n\n"
        "Target (issue 15): assess 1,000,000 claim lines in ≤ 60 s, every seeded error found.\n\n",
        text,
    )


if __name__ == "__main__":
    main()
