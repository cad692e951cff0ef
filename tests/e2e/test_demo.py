"""`nidb demo` as a newcomer runs it: a fresh folder, one command, a readable summary."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from nidb.analytics.report_data import Period, build_report, quarter_period
from nidb.analytics.report_pdf import write_pdf
from nidb.store.db import make_engine
from tests.analytics.pdftext import page_texts


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
        "Giám định hồ sơ XML 130 của cơ sở",  # a hospital sent claims, signed, and nidb assessed
        "cao hơn giá thanh toán BHYT 350 đồng: giảm trừ 5.000 đồng",  # a reduction explained
        "Quyết toán quý",  # the quarter's settlement, downloaded through the exchange
    ):
        assert expected in run.stdout, expected
    # the three workers' cards were issued and the citizen portal shows their month as paid
    assert run.stdout.count("đã đóng đến tháng") == 3, run.stdout[-3000:]
    assert len(re.findall(r"│ [A-Z]{2}\d{13} │ đã đóng đến tháng", run.stdout)) == 3
    assert list((tmp_path / "var" / "demo" / "claims").glob("quyet-toan-*.pdf"))
    assert (tmp_path / "var" / "nidb.sqlite3").exists()
    matches = (tmp_path / "var" / "demo" / "matches.csv").read_text(encoding="utf-8").splitlines()
    assert matches[0] == "record_id,personal_id,score,decision,reasons"
    assert len(matches) > 1500
    _quarterly_report_shows_the_demo(tmp_path)

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
    assert "thay thế hồ sơ cũ (lần gửi 2)" in again.stdout  # the claims resubmitted by MA_LK


def _quarter_to_report(today: date) -> Period:
    """The current quarter; once its cut-off (the 20th of its last month) has passed, the
    records verified today count only in the next quarter, which is then the one to report."""
    period = quarter_period(f"{today.year}Q{(today.month - 1) // 3 + 1}")
    if today <= period.cutoff:
        return period
    following = period.last + timedelta(days=1)
    return quarter_period(f"{following.year}Q{(following.month - 1) // 3 + 1}")


def _quarterly_report_shows_the_demo(tmp_path: Path) -> None:
    """Issue 17: the quarterly report built after its cut-off on the demo data showed 0%
    verified and an empty chart; on the demo it must show the records verified and draw it."""
    engine = make_engine(f"sqlite:///{tmp_path / 'var' / 'nidb.sqlite3'}")
    try:
        period = _quarter_to_report(datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date())
        report = build_report(engine, period, today=period.cutoff + timedelta(days=1))
    finally:
        engine.dispose()
    sections = {section.key: section for section in report.sections}
    national = sections["verification"].rows[-1]
    assert national[0] == "VN" and national[3] > 0 and national[-1] > 0.5, national
    assert sections["participants"].rows and sections["cards"].rows
    text = "\n".join(page_texts(write_pdf(report, tmp_path / "quy.pdf").read_bytes()))
    assert "trước ngày chốt số liệu" not in text  # built after the cut-off: no warning
    provinces = [row for row in sections["verification"].rows if row[0] not in ("00", "VN")]
    assert len(provinces) > 20 and all(row[-1] > 0 for row in provinces)  # every bar above 0
    for chart in ("Người tham gia theo tỉnh", "Tỷ lệ hồ sơ đã xác thực theo tỉnh"):
        assert chart in text, chart  # drawn (a chart with no rows is left out)
    assert "Toàn quốc" in text and f"{national[-1] * 100:.1f}".replace(".", ",") in text
