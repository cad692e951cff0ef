"""Backup and restore benchmark: `nidb backup` and `nidb restore` of a generated register.

For each engine it loads a generated country with the real `nidb import` (the kinds given), adds
access-log entries, then times in child processes (peak RSS is the command's own):
- `nidb backup DEST` (SQLite online backup or pg_dump of a snapshot, sealed with AES-256-GCM);
- `nidb restore SRC --database-url EMPTY` (checksums, decryption, the copy or pg_restore, and
  the check: row counts, access-log heads, the whole chain verified).
PostgreSQL runs on a private cluster with fsync on (NIDB_PG_DURABLE=1): a restore that is not
durable would not be a restore.

    python bench/backup.py --people 1000000                       # both engines
    python bench/backup.py --people 200000 --engines sqlite

Writes (appends to) bench/results/backup.md.
"""

from __future__ import annotations

import argparse
import base64
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.sections import append_section  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "backup.md"


# The child reports its own peak (VmHWM of its memory map): ru_maxrss from wait4 would carry this
# process's peak (the generator's) into the child across fork and exec.
_CHILD = (
    "import atexit, os, sys\n"
    "def peak():\n"
    "    hwm = open('/proc/self/status').read().split('VmHWM:')[1].split()[0]\n"
    "    open(os.environ['BENCH_PEAK_FILE'], 'w').write(hwm)\n"
    "atexit.register(peak)\n"
    "from nidb.cli import main\n"
    "sys.argv = ['nidb', *sys.argv[1:]]\n"
    "main()\n"
)


def run(args: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    """(seconds, peak RSS in MiB, output) of ``nidb ARGS`` in a child process."""
    with tempfile.NamedTemporaryFile(suffix=".peak") as peak_file:
        started = time.perf_counter()
        child = subprocess.run(
            [sys.executable, "-c", _CHILD, *args],
            env={**env, "BENCH_PEAK_FILE": peak_file.name},
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            check=False,
        )
        seconds = time.perf_counter() - started
        if child.returncode != 0:
            raise SystemExit(f"nidb {' '.join(args)} failed:\n{child.stdout}")
        peak_kib = int(Path(peak_file.name).read_text() or 0)
    return seconds, peak_kib // 1024, child.stdout


def add_access_log(url: str, entries: int) -> None:
    """``entries`` access-log entries in 4 lanes, as the exchange writes them."""
    from nidb.accesslog import AccessRecord, append
    from nidb.store.db import make_engine

    engine = make_engine(url)
    try:
        for start in range(0, entries, 5_000):
            with engine.begin() as conn:
                batch = [
                    AccessRecord(
                        actor="VN/GOV/BYT/BV-01001",
                        service="card.check/v1",
                        result="ok",
                        subject=f"{n:010d}",
                        purpose="KCB",
                        fields="card",
                    )
                    for n in range(start, min(start + 5_000, entries))
                ]
                append(conn, batch, lane=(start // 5_000) % 4)
    finally:
        engine.dispose()


def size_of(url: str) -> int:
    """The database's size in bytes (SQLite: the file and its WAL; PostgreSQL: the database)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return sum(
            Path(f"{parsed.database}{s}").stat().st_size
            for s in ("", "-wal")
            if Path(f"{parsed.database}{s}").exists()
        )
    engine = create_engine(url)
    with engine.connect() as conn:
        size = int(conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one())
    engine.dispose()
    return size


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--kinds", default="registry,records,employers,participation,cards")
    parser.add_argument("--access-log", type=int, default=100_000, help="entries to add")
    parser.add_argument("--work", type=Path, default=None, help="folder for data (default: temp)")
    parser.add_argument(
        "--reuse", action="store_true", help="SQLite: keep the loaded bench.sqlite3 of a run"
    )
    args = parser.parse_args()

    from nidb.sim.generate import generate

    work = args.work or Path(tempfile.mkdtemp(prefix="nidb-bench-backup-"))
    data = work / f"data-{args.people}"
    if not (data / "manifest.json").exists():
        print(f"generating {args.people:,} people into {data} …", flush=True)
        generate(data, args.people, seed=7)
    key = base64.b64encode(os.urandom(32)).decode()
    rows_out: list[str] = []
    for engine in args.engines.split(","):
        pg_dir: Path | None = None
        env = {**os.environ, "NIDB_BACKUP_KEY": key, "NIDB_PG_DURABLE": "1"}
        try:
            if engine == "postgresql":
                pg_dir = work / "pg"
                shutil.rmtree(pg_dir, ignore_errors=True)
                url = (
                    subprocess.run(
                        [str(ROOT / "scripts" / "pg-cluster.sh"), "start", str(pg_dir)],
                        check=True,
                        capture_output=True,
                        text=True,
                        env=env,
                    )
                    .stdout.strip()
                    .splitlines()[-1]
                )
                target = url.rsplit("/", 1)[0] + "/restored"
                from sqlalchemy import create_engine, text

                admin = create_engine(url, isolation_level="AUTOCOMMIT")
                with admin.connect() as conn:
                    conn.execute(text("DROP DATABASE IF EXISTS restored"))
                    conn.execute(text("CREATE DATABASE restored TEMPLATE template0"))
                admin.dispose()
            else:
                names = ["restored.sqlite3"]
                if not (args.reuse and (work / "bench.sqlite3").exists()):
                    names.append("bench.sqlite3")
                for name in names:
                    for suffix in ("", "-wal", "-shm"):
                        Path(f"{work / name}{suffix}").unlink(missing_ok=True)
                url = f"sqlite:///{work / 'bench.sqlite3'}"
                target = f"sqlite:///{work / 'restored.sqlite3'}"
            env["NIDB_DATABASE_URL"] = url
            started = time.perf_counter()
            reused = engine == "sqlite" and args.reuse and (work / "bench.sqlite3").exists()
            if not reused:
                for kind in args.kinds.split(","):
                    seconds, _, _ = run(["import", "--kind", kind, str(data / f"{kind}.csv")], env)
                    print(f"  {engine}: imported {kind} in {seconds:.1f} s", flush=True)
                add_access_log(url, args.access_log)
            load_seconds = time.perf_counter() - started
            db_bytes = size_of(url)
            dest = work / f"backups-{engine}"
            shutil.rmtree(dest, ignore_errors=True)
            load_before = os.getloadavg()[0]
            backup_s, backup_rss, backup_output = run(["backup", str(dest)], env)
            print(backup_output, flush=True)
            (folder,) = dest.glob("nidb-*")
            sealed = sum(p.stat().st_size for p in folder.iterdir())
            restore_s, restore_rss, output = run(
                ["restore", str(folder), "--database-url", target], env
            )
            print(output, flush=True)
            rows = output.split(" bảng, ")[1].split(" dòng")[0]
            own = re.findall(r"; ([0-9.]+) s$", f"{backup_output}\n{output}", re.MULTILINE)
            line = (
                f"| {engine} | {args.people:,} | {rows} | {db_bytes / 1e6:,.0f} | "
                f"{sealed / 1e6:,.0f} | {backup_s:.1f} ({own[0]}) | {backup_rss} | "
                f"{restore_s:.1f} ({own[1]}) | {restore_rss} | {load_before:.1f} | "
                f"{'reused' if reused else f'{load_seconds:.0f}'} |"
            )
            print(line, flush=True)
            rows_out.append(line)
        finally:
            if pg_dir is not None:
                subprocess.run(
                    [str(ROOT / "scripts" / "pg-cluster.sh"), "stop", str(pg_dir)], check=False
                )
                shutil.rmtree(pg_dir, ignore_errors=True)

    machine = (
        f"{platform.machine()}, {os.cpu_count()} cores, "
        f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB, "
        f"Python {platform.python_version()}"
    )
    table = "\n".join(
        [
            "| engine | people | rows (all tables) | database MB | backup MB (sealed) | "
            "backup s (in the command) | backup peak RSS MiB | restore + check s (in the "
            "command) | restore peak RSS MiB | "
            "load avg (1 min) before | seeding s |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
            *rows_out,
        ]
    )
    section = (
        f"\n## {datetime.now(UTC):%Y-%m-%d %H:%M} UTC — {args.people:,} people\n\n"
        f"Machine: {machine}, shared with other jobs (load average in the table). Command: "
        f"`python bench/backup.py --people {args.people} --engines {args.engines} "
        f"--kinds {args.kinds} --access-log {args.access_log}{' --reuse' if args.reuse else ''}`.\n\n{table}\n"
    )
    append_section(
        RESULTS,
        "# Backup and restore: time and memory\n\n"
        "Written by `bench/backup.py`. Restore time includes verifying the checksum, "
        "decrypting, copying (SQLite) or pg_restore in one transaction (PostgreSQL, fsync "
        "on), and the check: row counts of every table, access-log heads, the whole chain. "
        "Seconds are the wall time of the child process; in brackets, the time the command "
        "itself reports (without Python's start-up and imports).\n",
        section,
    )
    print(section)


if __name__ == "__main__":
    main()
