"""Start-up benchmark: `nidb --help` and every `nidb X --help`, beside `import typer`.

Each command runs in a fresh child process (`python -m nidb … --help`), N times; the best run
counts (the least disturbed by other work on the machine). In the same run it times the floor
any Typer command pays: `python -c "import typer"`, and a two-command Typer app printing its
help (Typer loads Rich to draw help). The budget is 0.5 s per command on an idle machine;
the columns "− typer" show what nidb adds over the floor, which holds on a busy one too.

    python bench/cli_startup.py            # best of 5
    python bench/cli_startup.py --runs 10

Writes bench/results/cli_startup.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "bench" / "results" / "cli_startup.md"
BUDGET = 0.5

TYPER_HELP = """
import typer
app = typer.Typer()
@app.command()
def one() -> None:
    '''One.'''
@app.command()
def two() -> None:
    '''Two.'''
app()
"""


def best_of(argv: list[str], runs: int) -> float:
    """The fastest of ``runs`` wall times of ``argv`` in a child process (seconds)."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, check=True, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    return min(times)


def commands() -> list[str]:
    """The names under `nidb`, in the order of its help."""
    import typer

    from nidb.cli import app

    group = typer.main.get_command(app)
    return list(group.list_commands(typer.Context(group)))  # type: ignore[attr-defined]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per command; the best counts")
    args = parser.parse_args()

    python = sys.executable
    interpreter = best_of([python, "-c", "pass"], args.runs)
    typer_import = best_of([python, "-c", "import typer"], args.runs)
    typer_help = best_of([python, "-c", TYPER_HELP, "--help"], args.runs)
    rows: list[tuple[str, float]] = [
        ("nidb --help", best_of([python, "-m", "nidb", "--help"], args.runs))
    ]
    for name in commands():
        rows.append(
            (f"nidb {name} --help", best_of([python, "-m", "nidb", name, "--help"], args.runs))
        )

    load = os.getloadavg()
    machine = (
        f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1 / 5 / 15 min) at the end"
    )
    over = [name for name, seconds in rows if seconds > BUDGET]
    lines = [
        "# `nidb` start-up: `--help` of every command",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `bench/cli_startup.py --runs {args.runs}` "
        f"on {machine}. Best of {args.runs} runs of each command in a fresh process.",
        "",
        "Floor, in the same run:",
        "",
        "| what | seconds |",
        "|---|---:|",
        f"| `python -c pass` (the interpreter) | {interpreter:.3f} |",
        f'| `python -c "import typer"` | {typer_import:.3f} |',
        f"| a two-command Typer app's `--help` (Typer + Rich help) | {typer_help:.3f} |",
        "",
        f"| command | seconds | − import typer | − Typer app help | ≤ {BUDGET} s |",
        "|---|---:|---:|---:|:---:|",
    ]
    for name, seconds in rows:
        lines.append(
            f"| `{name}` | {seconds:.3f} | {seconds - typer_import:+.3f} | "
            f"{seconds - typer_help:+.3f} | {'yes' if seconds <= BUDGET else 'NO'} |"
        )
    lines += [
        "",
        f"Slowest: {max(s for _, s in rows):.3f} s; over the {BUDGET} s budget: "
        + (", ".join(f"`{name}`" for name in over) if over else "none")
        + ".",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
