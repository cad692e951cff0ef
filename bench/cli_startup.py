"""Start-up benchmark: `nidb --help` and every `nidb X --help`, beside `import typer`.

Each command runs in a fresh child process (`python -m nidb … --help`), N times; the best run
counts (the least disturbed by other work on the machine). Each command's wall time and its CPU
time (user + system) are kept; in the same run it times the floor any Typer command pays:
`python -c "import typer"`, and a two-command Typer app printing its help and a command's help
(Typer loads Rich to draw help; Typer 0.29 and later also load Pydantic for a command's
options, which is why pyproject.toml holds Typer below 0.29). The budget is 0.5 s per command; on a shared, busy machine the CPU time is the
measure that holds (the wall time there mostly measures the neighbours).

    python bench/cli_startup.py                      # best of 5
    python bench/cli_startup.py --runs 10 --before 6cdc07a   # and `nidb --help` before
    python bench/cli_startup.py --bytecode-cache     # as an installed nidb starts (cached .pyc)

Writes bench/results/cli_startup.md (cli_startup_bytecode.md with --bytecode-cache).
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "bench" / "results" / "cli_startup.md"
BUDGET = 0.5

TYPER_HELP = """
from typing import Annotated
import typer
app = typer.Typer()
@app.command()
def one(port: Annotated[int, typer.Option(help="Port.")] = 1) -> None:
    '''One.'''
@app.command()
def two() -> None:
    '''Two.'''
app()
"""


BYTECODE_CACHE: str | None = None
"""Where compiled modules are kept between runs (``--bytecode-cache``); None: this machine's
default. Here the environment sets PYTHONDONTWRITEBYTECODE=1, so every start compiles nidb's own
modules from source again (the libraries in the venv were compiled by pip at install); an
installed nidb on a usual machine keeps ``__pycache__`` and pays that once."""


def best_of(argv: list[str], runs: int) -> tuple[float, float]:
    """The fastest wall time and the least CPU time (user + system) of ``runs`` runs of
    ``argv``, each in a fresh child process (seconds).

    CPU time is what the command itself costs; wall time adds waiting for the CPUs and the disk,
    which on a shared machine says more about the neighbours than about nidb.
    """
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path}
    if BYTECODE_CACHE is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = BYTECODE_CACHE
        subprocess.run(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, check=True)  # warm
    walls, cpus = [], []
    for _ in range(runs):
        started = time.perf_counter()
        child = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
        _, status, usage = os.wait4(child.pid, 0)
        walls.append(time.perf_counter() - started)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"{' '.join(argv)} failed")
        cpus.append(usage.ru_utime + usage.ru_stime)
    return min(walls), min(cpus)


def commands() -> list[str]:
    """The names under `nidb`, in the order of its help."""
    import typer

    from nidb.cli import app

    group = typer.main.get_command(app)
    return list(group.list_commands(typer.Context(group)))  # type: ignore[attr-defined]


def before(ref: str, runs: int) -> tuple[float, float]:
    """`nidb --help` of the code at git ``ref`` (for a before/after in the same run)."""
    with tempfile.TemporaryDirectory() as folder:
        archive = subprocess.run(
            ["git", "archive", ref, "nidb"], cwd=ROOT, check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", folder], input=archive, check=True)
        env = {**os.environ, "PYTHONPATH": folder}
        walls, cpus = [], []
        for _ in range(runs):
            started = time.perf_counter()
            child = subprocess.Popen(
                [sys.executable, "-m", "nidb", "--help"], cwd=folder, env=env,
                stdout=subprocess.DEVNULL,
            )  # fmt: skip
            _, _, usage = os.wait4(child.pid, 0)
            walls.append(time.perf_counter() - started)
            cpus.append(usage.ru_utime + usage.ru_stime)
        return min(walls), min(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per command; the best counts")
    parser.add_argument("--before", metavar="GITREF", help="also time `nidb --help` at this ref")
    parser.add_argument(
        "--bytecode-cache",
        action="store_true",
        help="keep compiled modules between runs (as an installed nidb does), in a temp folder",
    )
    args = parser.parse_args()
    global BYTECODE_CACHE
    cache = tempfile.TemporaryDirectory() if args.bytecode_cache else None
    BYTECODE_CACHE = cache.name if cache else None
    bytecode = (
        "with a bytecode cache kept between runs (one warm-up run first), as an installed nidb has"
        if cache
        else "with this machine's environment: PYTHONDONTWRITEBYTECODE="
        + os.environ.get("PYTHONDONTWRITEBYTECODE", "(unset)")
        + " (when 1, nidb's own modules are compiled from source at every start)"
    )

    python = sys.executable
    floor = [
        ("`python -c pass` (the interpreter)", best_of([python, "-c", "pass"], args.runs)),
        ('`python -c "import typer"`', best_of([python, "-c", "import typer"], args.runs)),
        (
            "a two-command Typer app's `--help` (Typer + Rich help)",
            best_of([python, "-c", TYPER_HELP, "--help"], args.runs),
        ),
        (
            "the same app's `one --help`, a command with one option",
            best_of([python, "-c", TYPER_HELP, "one", "--help"], args.runs),
        ),
    ]
    if args.before:
        floor.append((f"`nidb --help` at `{args.before}` (before)", before(args.before, args.runs)))
    typer_wall, typer_cpu = floor[1][1]
    rows = [("nidb --help", best_of([python, "-m", "nidb", "--help"], args.runs))]
    for name in commands():
        rows.append(
            (f"nidb {name} --help", best_of([python, "-m", "nidb", name, "--help"], args.runs))
        )

    load = os.getloadavg()
    machine = (
        f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1 / 5 / 15 min) at the end"
    )
    over = [name for name, (wall, cpu) in rows if min(wall, cpu) > BUDGET]
    lines = [
        "# `nidb` start-up: `--help` of every command",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `bench/cli_startup.py --runs {args.runs}"
        + (f" --before {args.before}" if args.before else "")
        + (" --bytecode-cache" if cache else "")
        + f"` on {machine}. Each command {args.runs} times in a fresh process: the fastest wall "
        "time, and the least CPU time (user + system, what the command itself costs; on a busy "
        f"machine the wall time mostly measures the neighbours). Python ran {bytecode}.",
        "",
        "Floor, in the same run:",
        "",
        "| what | wall s | CPU s |",
        "|---|---:|---:|",
        *(f"| {what} | {wall:.3f} | {cpu:.3f} |" for what, (wall, cpu) in floor),
        "",
        f"| command | wall s | CPU s | CPU − import typer | ≤ {BUDGET} s |",
        "|---|---:|---:|---:|:---:|",
    ]
    for name, (wall, cpu) in rows:
        lines.append(
            f"| `{name}` | {wall:.3f} | {cpu:.3f} | {cpu - typer_cpu:+.3f} | "
            f"{'yes' if min(wall, cpu) <= BUDGET else 'NO'} |"
        )
    lines += [
        "",
        f"Slowest: {max(wall for _, (wall, _) in rows):.3f} s wall, "
        f"{max(cpu for _, (_, cpu) in rows):.3f} s CPU (`import typer`: {typer_wall:.3f} s wall, "
        f"{typer_cpu:.3f} s CPU). Over the {BUDGET} s budget: "
        + (", ".join(f"`{name}`" for name in over) if over else "none")
        + ".",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    target = RESULTS.with_name("cli_startup_bytecode.md") if cache else RESULTS
    target.write_text(text, encoding="utf-8")
    if cache:
        cache.cleanup()


if __name__ == "__main__":
    main()
