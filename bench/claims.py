"""Claims assessment benchmark: synthetic XML 130 claims with seeded errors → DuckDB assessment.

    python bench/claims.py --lines 1000000 [--error-share 0.1] [--seed 1]
    python bench/claims.py --intake [--rate 100] [--duration 30] [--postgres] [--workers 2]

Draws claims over synthetic cards (nidb.sim.generate.claims) until about ``--lines`` lines,
each seeded error with its ground truth, writes them as the Parquet snapshot the assessment
reads (the same files `nidb claims assess` exports from the store), runs
`nidb.claims.assess.assess_snapshot` and reports the assessment time and, per rule, precision
and recall against the ground truth. The target (issue 15) is 1,000,000 lines in ≤ 60 s.
Writing the outcome back to the store is not timed here. Appends to bench/results/claims.md.

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
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results" / "claims.md"

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


def write_snapshot(
    folder: Path, cards: list[CardForClaims], made: SyntheticClaims
) -> dict[int, tuple[str, str]]:
    """The Parquet files `assess_snapshot` reads; claim id → (facility, MA_LK)."""
    keys: dict[int, tuple[str, str]] = {}
    claims: dict[str, list[Any]] = {name: [] for name, _ in SNAPSHOT["claims"]}
    lines: dict[str, list[Any]] = {name: [] for name, _ in SNAPSHOT["claim_lines"]}
    line_id = 0
    routes = {"1": "right", "2": "emergency", "3": "wrong"}
    for claim_id, c in enumerate(made.claims, 1):
        keys[claim_id] = (c.facility, c.ma_lk)
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
            line_id += 1
            for name, value in (
                ("id", line_id), ("claim_id", claim_id), ("line_no", number), ("kind", line.kind),
                ("item_code", line.code), ("quantity_milli", int(float(line.quantity) * 1000)),
                ("unit_price", line.price), ("amount", line.amount),
            ):  # fmt: skip
                lines[name].append(value)
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
    for name, data in (
        ("claims", claims), ("claim_lines", lines),
        ("claim_catalogue", catalogue), ("claim_facilities", facilities), ("health_cards", health_cards),
    ):  # fmt: skip
        schema = pa.schema(SNAPSHOT[name])
        table = (
            pa.table(data, schema=schema)
            if isinstance(data, dict)
            else pa.Table.from_pylist(data, schema=schema)
        )
        pq.write_table(table, folder / f"{name}.parquet")
    return keys


def score(
    result: Assessment,
    keys: dict[int, tuple[str, str]],
    made: SyntheticClaims,
    line_claims: dict[int, int],
) -> dict[str, tuple[int, int, int]]:
    """Per rule: (true positives, false positives, false negatives), at the claim level."""
    found: set[tuple[str, str, str]] = set()
    for claim in result.claims:
        for reason in claim["reasons"]:
            found.add((*keys[claim["claim_key"]], reason["rule"]))
    for line in result.lines:
        for reduction in line["reductions"] or []:
            found.add((*keys[line_claims[line["line_id"]]], reduction["rule"]))
    truth = {(t["facility"], t["ma_lk"], t["rule"]) for t in made.truth}
    scores = {}
    for rule in ERROR_KINDS:
        f = {x for x in found if x[2] == rule}
        t = {x for x in truth if x[2] == rule}
        scores[rule] = (len(f & t), len(f - t), len(t - f))
    return scores


def run(lines: int, error_share: float, seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    today = date.today()
    claims_count = max(10, int(lines / LINES_PER_CLAIM))
    cards = make_cards(rng, max(50, claims_count // 3), today)
    started = time.perf_counter()
    made = synthetic_claims(rng, cards, claims_count, error_share, date(today.year, 1, 15), 300)
    drawn = time.perf_counter() - started
    with tempfile.TemporaryDirectory(prefix="nidb-bench-claims-") as folder:
        keys = write_snapshot(Path(folder), cards, made)
        line_table = pq.read_table(Path(folder) / "claim_lines.parquet", columns=["id", "claim_id"])
        line_claims = dict(
            zip(line_table["id"].to_pylist(), line_table["claim_id"].to_pylist(), strict=True)
        )
        result = assess_snapshot(Path(folder))
    return {
        "claims": len(made.claims),
        "lines": len(result.lines),
        "seeded": len(made.truth),
        "draw_seconds": drawn,
        "assess_seconds": result.seconds,
        "outcomes": dict(result.by_outcome),
        "scores": score(result, keys, made, line_claims),
    }


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
    report = run(args.lines, args.error_share, args.seed)
    rows = [
        "| rule | seeded | found right | false alarms | missed | precision | recall |",
        "|---|---|---|---|---|---|---|",
    ]
    for rule, (tp, fp, fn) in report["scores"].items():
        precision = f"{tp / (tp + fp):.3f}" if tp + fp else "–"
        recall = f"{tp / (tp + fn):.3f}" if tp + fn else "–"
        rows.append(f"| {rule} | {tp + fn} | {tp} | {fp} | {fn} | {precision} | {recall} |")
    text = "\n".join(
        [
            f"## {datetime.now(UTC):%Y-%m-%d %H:%M} UTC — {report['lines']:,} lines, "
            f"{report['claims']:,} claims, seed {args.seed} {args.note}".rstrip(),
            "",
            f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}. "
            f"Assessment (DuckDB, from Parquet to every line decided and explained): "
            f"**{report['assess_seconds']:.2f} s** ({report['lines'] / report['assess_seconds']:,.0f} lines/s); "
            f"drawing the claims {report['draw_seconds']:.1f} s (not timed against the target). "
            f"Outcomes: {report['outcomes']}.",
            "",
            *rows,
            "",
        ]
    )
    print(text)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    if not RESULTS.exists():
        RESULTS.write_text(
            "# Claims assessment benchmark (bench/claims.py)\n\n"
            "Target (issue 15): assess 1,000,000 claim lines in ≤ 60 s, every seeded error found.\n\n",
            encoding="utf-8",
        )
    with RESULTS.open("a", encoding="utf-8") as handle:
        handle.write(text + "\n")


if __name__ == "__main__":
    main()
