"""The import command as a user runs it: a real process, killed half-way, then run again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import create_engine, text

from tests.ingest.test_import import REGISTRY_HEADER

ROWS = 120_000


def big_registry(path: Path, rows: int = ROWS) -> Path:
    names = ("Nguyễn Văn An", "Trần Thị Bình", "Lê Hoàng Cường", "Phạm Thị Dung")
    with path.open("w", encoding="utf-8") as handle:
        handle.write(REGISTRY_HEADER + "\n")
        for i in range(rows):
            female = i % 2
            handle.write(
                f"0{'01' if i % 3 else '79'}{female}90{i:06d},{names[i % 4]},1990-01-{1 + i % 28:02d},"
                f"{'F' if female else 'M'},0{'01' if i % 3 else '79'},Số {i} phố Huế,HK{i // 4},alive,\n"
            )
    return path


def nidb(*args: str, url: str, **kwargs: object) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "NIDB_DATABASE_URL": url,
        "NIDB_IMPORT_CHUNK_ROWS": "4000",
        "PYTHONUNBUFFERED": "1",
    }
    return subprocess.Popen(  # type: ignore[call-overload, no-any-return]
        [sys.executable, "-m", "nidb", *args],
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
        if " rows, " in progress or not progress:
            break
    assert " rows, " in progress, f"no progress line before the kill: {progress!r}"
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
