"""nidb.terminal's progress line and `nidb token create`'s warning (issue 17: a progress line
printed twice, steps counted as "rows", a token shown with no "shown once" warning)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from psycopg.errors import UniqueViolation
from sqlalchemy.exc import OperationalError
from typer.testing import CliRunner

from nidb.cli import app
from nidb.terminal import RowProgress, handled


def test_a_plain_progress_line_names_its_unit_and_is_never_repeated(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with RowProgress("sinh dữ liệu", unit="bước") as bar:
        bar.live = False
        bar._progress = None
        bar.update(1, 1, 3)  # the first step: shown at once
        bar.update(2, 2, 3)  # within the same second: not shown
        bar.update(3, 3, 3)  # the end closes what was shown, at once
        bar.update(3, 3, 3)  # the end reported again: nothing more printed
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2 and "1 bước, 33%" in lines[0] and "3 bước, 100%" in lines[1]
    assert "rows" not in lines[0]


def test_a_short_run_prints_no_progress_line_beside_its_summary(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`nidb import` of a small file (one step) printed "nạp …: 1,784 dòng, 100%" and then its
    summary: the same count twice, one after the other."""
    with RowProgress("nạp records.csv") as bar:
        bar.live = False
        bar._progress = None
        bar.update(1_784, 1_784, 1_784)
    assert capsys.readouterr().err == ""


def test_token_create_warns_that_the_token_is_shown_once(cli: CliRunner) -> None:
    answer = cli.invoke(app, ["token", "create", "cong.cu", "--role", "auditor", "--central"])
    assert answer.exit_code == 0, answer.output
    assert "chỉ hiện MỘT LẦN" in answer.output


@pytest.mark.parametrize(
    "error",
    [
        OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly")),
        # hot paths run on psycopg directly (nidb.store.direct): its errors arrive unwrapped
        UniqueViolation(
            "duplicate key value violates unique constraint\nDETAIL: Key (personal_id)=(0...)"
        ),
    ],
    ids=["sqlalchemy", "psycopg"],
)
def test_a_database_error_is_one_line_and_exit_1_without_the_drivers_detail(
    error: Exception, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(typer.Exit) as leaving, handled():
        raise error
    assert leaving.value.exit_code == 1
    printed = capsys.readouterr().err
    assert "cơ sở dữ liệu báo lỗi (database error)" in printed
    assert "DETAIL" not in printed and "personal_id" not in printed


def test_an_unusable_setting_names_its_variable_value_and_rule_and_exits_2(
    tmp_path: Path,
) -> None:
    env = {
        **os.environ,
        "NIDB_DATA_DIR": str(tmp_path),
        "NIDB_DB_POOL_SIZE": "mười",
        "NIDB_DECLARATION_THREADS": "0",
    }
    env.pop("NIDB_DATABASE_URL", None)
    run = subprocess.run(
        [sys.executable, "-m", "nidb", "status"], env=env, capture_output=True, text=True
    )
    assert run.returncode == 2, run.stderr
    assert "Traceback" not in run.stderr
    message = " ".join(run.stderr.split())
    assert "biến môi trường không hợp lệ (invalid environment variable)" in message
    assert "NIDB_DB_POOL_SIZE='mười': phải là số nguyên" in message
    assert "NIDB_DECLARATION_THREADS='0': phải lớn hơn hoặc bằng 1" in message
