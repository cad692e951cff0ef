"""Time `nidb.sim.generate.generate` and measure its peak memory.

    .venv/bin/python bench/generate.py                       # 100k and 1M people, CSV
    .venv/bin/python bench/generate.py --people 100000 --format csv parquet --keep

Each case runs in its own process so that its peak RSS is its own. Prints a table and writes
bench/results/generate.md. Data goes to bench/data/ (git-ignored) and is deleted unless --keep.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
RESULTS = HERE / "results" / "generate.md"


def run_child(people: int, fmt: str, out_dir: Path, seed: int) -> None:
    """Generate one data set and print its measurements as one JSON line."""
    from nidb.sim.generate import generate

    started = time.perf_counter()
    summary = generate(out_dir, people, seed, fmt=fmt)  # type: ignore[arg-type]
    seconds = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    size = sum(p.stat().st_size for p in out_dir.iterdir())
    print(
        json.dumps(
            {
                "people": people,
                "format": fmt,
                "seconds": round(seconds, 2),
                "peak_rss_mib": round(peak_kib / 1024),
                "bytes": size,
                "rows": dict(summary.rows),
            }
        )
    )


def measure(people: int, fmt: str, seed: int, keep: bool) -> dict[str, object]:
    out_dir = DATA / f"generate-{people}-{fmt}"
    shutil.rmtree(out_dir, ignore_errors=True)
    command = [sys.executable, __file__, "--child", str(people), fmt, str(out_dir), str(seed)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    result: dict[str, object] = json.loads(output.strip().splitlines()[-1])
    if not keep:
        shutil.rmtree(out_dir, ignore_errors=True)
    return result


def markdown(results: list[dict[str, object]]) -> str:
    import numpy
    import pyarrow

    lines = [
        "# Synthetic data generator: time and memory",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `bench/generate.py` on "
        f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"numpy {numpy.__version__}, pyarrow {pyarrow.__version__}. All eight files and the "
        "manifest; wall time of `generate()` in a fresh process, peak RSS of that process.",
        "",
        "| people | format | seconds | peak RSS (MiB) | size on disk (MB) | records | visits |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        rows = r["rows"]
        assert isinstance(rows, dict)
        size = int(r["bytes"]) / 1e6  # type: ignore[call-overload]
        lines.append(
            f"| {r['people']:,} | {r['format']} | {r['seconds']} | {r['peak_rss_mib']} | "
            f"{size:,.0f} | {rows['records']:,} | {rows['visits']:,} |"
        )
    lines.append("")
    lines.append("Rows per file:")
    lines.append("")
    tables = list(results[0]["rows"])  # type: ignore[call-overload]
    lines.append("| people | format | " + " | ".join(tables) + " |")
    lines.append("|---:|---|" + "---:|" * len(tables))
    for r in results:
        rows = r["rows"]
        assert isinstance(rows, dict)
        lines.append(
            f"| {r['people']:,} | {r['format']} | "
            + " | ".join(f"{rows[t]:,}" for t in tables)
            + " |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--format", nargs="+", default=["csv"], choices=["csv", "parquet"])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        people, fmt, out_dir, seed = args.child
        run_child(int(people), fmt, Path(out_dir), int(seed))
        return
    results = []
    print(f"{'people':>10} {'format':>8} {'seconds':>8} {'peak MiB':>9}")
    for people in args.people:
        for fmt in args.format:
            result = measure(people, fmt, args.seed, args.keep)
            results.append(result)
            print(
                f"{people:>10,} {fmt:>8} {result['seconds']:>8} {result['peak_rss_mib']:>9}",
                flush=True,
            )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(markdown(results), encoding="utf-8")
    print(f"wrote {RESULTS.relative_to(HERE.parent)}")


if __name__ == "__main__":
    main()
