"""`nidb demo` as a newcomer runs it: a fresh folder, one command, a readable summary."""

from __future__ import annotations

import os
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
        "Giám định hồ sơ XML 130 của cơ sở",  # a hospital sent claims, signed, and nidb assessed
        "cao hơn giá thanh toán BHYT 350 đồng: giảm trừ 5.000 đồng",  # a reduction explained
        "Quyết toán quý",  # the quarter's settlement, downloaded through the exchange
    ):
        assert expected in run.stdout, expected
    assert list((tmp_path / "var" / "demo" / "claims").glob("quyet-toan-*.pdf"))
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
    assert "thay thế hồ sơ cũ (lần gửi 2)" in again.stdout  # the claims resubmitted by MA_LK
