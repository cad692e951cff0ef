"""`nidb demo` as a newcomer runs it: a fresh folder, one command, a readable summary."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path


def test_demo_generates_imports_verifies_and_matches_a_province(tmp_path: Path) -> None:
    env = {**os.environ, "NIDB_DATA_DIR": str(tmp_path / "var")}
    env.pop("NIDB_DATABASE_URL", None)
    run = subprocess.run(
        [sys.executable, "-m", "nidb", "demo", "--people", "2000"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    for expected in (
        "registry.csv → lô",
        "records.csv → lô",
        "0 bị loại",
        "Xác thực (verification)",
        "Kết quả đối sánh",
        "auto",
        "Thông tin thẻ chính xác",  # a hospital's signed card check answered 000
        "Thẻ sai họ tên",
        "Thẻ đã báo giảm",  # the card of the person reported dead is suspended
        "1 cảnh báo gửi tỉnh",
        "chuỗi băm nguyên vẹn",
        "được chấp nhận (declaration applied)",  # an employer declared three workers
        "sao kê ngân hàng lần này: 1 dòng khớp",  # paid by transfer, statement reconciled
        "còn nợ 0 đồng",
    ):
        assert expected in run.stdout, expected
    # the three workers' cards were issued and the citizen portal shows their month as paid
    assert run.stdout.count("đã đóng đến tháng") == 3, run.stdout[-3000:]
    assert len(re.findall(r"│ [A-Z]{2}\d{13} │ đã đóng đến tháng", run.stdout)) == 3
    assert (tmp_path / "var" / "nidb.sqlite3").exists()
    matches = (tmp_path / "var" / "demo" / "matches.csv").read_text(encoding="utf-8").splitlines()
    assert matches[0] == "record_id,personal_id,score,decision,reasons"
    assert len(matches) > 1500

    again = subprocess.run(
        [sys.executable, "-m", "nidb", "demo", "--people", "2000"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=300,
    )
    assert again.returncode == 0, again.stderr[-2000:]
    assert "already imported" in again.stdout
    assert "chuỗi băm nguyên vẹn" in again.stdout  # the demo hospital is registered again
    assert again.stdout.count("đã đóng đến tháng") == 3  # nothing declared or paid twice
    assert "sao kê ngân hàng lần này: 0 dòng khớp" in again.stdout
