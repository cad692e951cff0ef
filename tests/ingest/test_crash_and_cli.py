"""The import command as a user runs it: a real process, killed half-way, then run again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from nidb.ingest.loader import import_file
from nidb.settings import get_settings
from tests.ingest.test_import import GOOD_REGISTRY, REGISTRY_HEADER, TODAY, write

ROWS = 60_000
"""~5 MB: above the 4 MiB from which an import validates in worker processes (the kill must hit
that path too), and 15 chunks of 4,000 rows, so the first progress line comes long before the end
(was 120,000 rows: twice the time for the same paths)."""


def big_registry(path: Path, rows: int = ROWS, bad_every: int = 0) -> Path:
    """``rows`` registry rows; with ``bad_every``, every such row has an impossible birth date."""
    names = ("Nguyễn Văn An", "Trần Thị Bình", "Lê Hoàng Cường", "Phạm Thị Dung")
    with path.open("w", encoding="utf-8") as handle:
        handle.write(REGISTRY_HEADER + "\n")
        for i in range(rows):
            female = i % 2
            day = "30" if bad_every and i % bad_every == 0 else f"{1 + i % 28:02d}"
            handle.write(
                f"0{'01' if i % 3 else '79'}{female}90{i:06d},{names[i % 4]},1990-02-{day},"
                f"{'F' if female else 'M'},0{'01' if i % 3 else '79'},Số {i} phố Huế,HK{i // 4},alive,\n"
            )
    if rows == ROWS:
        assert path.stat().st_size > 4 << 20, "too small to take the multi-process path"
    return path


NO_UNNAMED_FILES = (
    "-c",
    "import runpy, nidb.ingest.quarantine as q; q._unnamed_file = lambda folder: None; "
    "runpy.run_module('nidb', run_name='__main__')",
)
"""Run nidb as if the file system had no O_TMPFILE (the fallback under NIDB_DATA_DIR)."""


def nidb(
    *args: str, url: str, python: tuple[str, ...] = ("-m", "nidb"), **kwargs: object
) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "NIDB_DATABASE_URL": url,
        "NIDB_IMPORT_CHUNK_ROWS": "4000",
        "PYTHONUNBUFFERED": "1",
        **kwargs.pop("env", {}),  # type: ignore[dict-item]
    }
    return subprocess.Popen(  # type: ignore[call-overload, no-any-return]
        [sys.executable, *python, *args],
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **kwargs,
    )


def counts(url: str) -> tuple[int, int]:
    engine = create_engine(url)
    with engine.connect() as conn:
        citizens = conn.execute(text("SELECT COUNT(*) FROM citizens")).scalar_one()
        batches = conn.execute(text("SELECT COUNT(*) FROM import_batches")).scalar_one()
    engine.dispose()
    return int(citizens), int(batches)


def test_sigkill_half_way_then_rerun_leaves_exactly_one_copy_of_each_row(
    database_url: str, tmp_path: Path
) -> None:
    path = big_registry(tmp_path / "registry.csv")
    victim = nidb("import", "--kind", "registry", str(path), url=database_url)
    assert victim.stderr is not None
    deadline = time.monotonic() + 120
    progress = ""
    while time.monotonic() < deadline:
        progress = victim.stderr.readline()
        if " dòng, " in progress or not progress:
            break
    assert " dòng, " in progress, f"no progress line before the kill: {progress!r}"
    assert f"{ROWS} rows" not in progress, "the import finished before it could be killed"
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=30)
    assert victim.returncode == -signal.SIGKILL

    assert counts(database_url) == (0, 0), "a killed batch must leave nothing behind"
    assert not (tmp_path / "registry.csv.rejected.csv").exists()

    rerun = nidb("import", "--kind", "registry", str(path), url=database_url)
    stdout, stderr = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, stderr
    assert counts(database_url) == (ROWS, 1)

    again = nidb("import", "--kind", "registry", str(path), url=database_url)
    stdout, _ = again.communicate(timeout=120)
    assert again.returncode == 0
    assert "already imported" in stdout
    assert counts(database_url) == (ROWS, 1)


def kill_half_way(victim: subprocess.Popen[str]) -> None:
    """SIGKILL ``victim`` once it has reported progress, before it finishes."""
    assert victim.stderr is not None
    deadline = time.monotonic() + 120
    progress = ""
    while time.monotonic() < deadline:
        progress = victim.stderr.readline()
        if " dòng, " in progress or not progress:
            break
    assert " dòng, " in progress, f"no progress line before the kill: {progress!r}"
    assert f"{ROWS} rows" not in progress, "the import finished before it could be killed"
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=30)
    assert victim.returncode == -signal.SIGKILL


def beside(path: Path) -> list[str]:
    """Files next to ``path`` that belong to it (the input, its quarantine, temporaries)."""
    return sorted(p.name for p in path.parent.iterdir() if path.name in p.name)


def test_a_killed_import_leaves_no_rejected_rows_beside_the_input(
    database_url: str, tmp_path: Path
) -> None:
    path = big_registry(tmp_path / "registry.csv", bad_every=10)
    data_dir = tmp_path / "data"
    env = {"NIDB_DATA_DIR": str(data_dir)}
    kill_half_way(nidb("import", "--kind", "registry", str(path), url=database_url, env=env))
    assert beside(path) == ["registry.csv"], "rejected rows (personal data) left behind"
    assert not data_dir.exists() or not any(data_dir.rglob("*.csv"))

    rerun = nidb("import", "--kind", "registry", str(path), url=database_url, env=env)
    _, stderr = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, stderr
    assert beside(path) == ["registry.csv", "registry.csv.rejected.csv"]
    assert counts(database_url) == (ROWS - ROWS // 10, 1)


def test_without_unnamed_files_a_killed_import_leaves_rows_only_in_the_private_folder(
    database_url: str, tmp_path: Path
) -> None:
    path = big_registry(tmp_path / "registry.csv", bad_every=10)
    data_dir = tmp_path / "data"
    env = {"NIDB_DATA_DIR": str(data_dir)}
    victim = nidb(
        "import",
        "--kind",
        "registry",
        str(path),
        url=database_url,
        python=NO_UNNAMED_FILES,
        env=env,
    )
    kill_half_way(victim)
    assert beside(path) == ["registry.csv"]
    scratch = data_dir / "tmp" / "quarantine"
    [leftover] = scratch.iterdir()
    assert scratch.stat().st_mode & 0o777 == 0o700

    rerun = nidb(
        "import",
        "--kind",
        "registry",
        str(path),
        url=database_url,
        python=NO_UNNAMED_FILES,
        env=env,
    )
    _, stderr = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, stderr
    assert not leftover.exists() and not list(scratch.iterdir())
    assert beside(path) == ["registry.csv", "registry.csv.rejected.csv"]
    with (tmp_path / "registry.csv.rejected.csv").open(encoding="utf-8") as handle:
        assert sum(1 for _ in handle) == 1 + ROWS // 10


def test_the_next_import_removes_temporary_quarantine_files_of_dead_processes(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NIDB_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()  # the engine fixture read the settings before this variable
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    dead, alive = finished.pid, os.getppid()
    path = write(tmp_path / "registry.csv", [REGISTRY_HEADER, *GOOD_REGISTRY])
    stale = tmp_path / f".registry.csv.rejected.csv.{dead}.tmp"
    in_use = tmp_path / f".registry.csv.rejected.csv.{alive}.tmp"
    scratch = tmp_path / "data" / "tmp" / "quarantine"
    scratch.mkdir(parents=True)
    stale_scratch = scratch / f"{dead}-0badc0de.csv"
    for leftover in (stale, in_use, stale_scratch):
        leftover.write_text("row,column,value,rule,reason\n2,full_name,Nguyễn Văn An,X,y\n")
    import_file(engine, "registry", path, today=TODAY)
    assert not stale.exists() and not stale_scratch.exists()
    assert in_use.exists(), "another running import's file is left alone"


def test_cli_names_the_file_and_missing_column_and_exits_2(
    database_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "registry.csv"
    path.write_text("personal_id,full_name\n001090012345,An\n", encoding="utf-8")
    run = nidb("import", "--kind", "registry", str(path), url=database_url)
    _, stderr = run.communicate(timeout=60)
    assert run.returncode == 2
    assert "registry.csv" in stderr and "date_of_birth" in stderr


def test_cli_reports_rejected_rows_by_rule(database_url: str, tmp_path: Path) -> None:
    path = tmp_path / "registry.csv"
    path.write_text(
        REGISTRY_HEADER + "\n001090012345,An,1990-02-30,M,001,,,alive,\n", encoding="utf-8"
    )
    run = nidb("import", "--kind", "registry", str(path), url=database_url)
    stdout, stderr = run.communicate(timeout=60)
    assert run.returncode == 0, stderr
    assert "DATE_IMPOSSIBLE" in stdout and "registry.csv.rejected.csv" in stdout


def test_help_lists_the_commands() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "nidb", "--help"], capture_output=True, text=True, check=True
    )
    for command in ("import", "export", "generate", "demo", "status", "db"):
        assert command in run.stdout
