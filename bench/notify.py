"""Notification delivery benchmark: N citizens opted in to e-mail and SMS, one notice each,
delivered to the SMTP stand-in (aiosmtpd, a thread here) and the SMS-gateway stand-in (`nidb sim
sms`, a child process) over loopback, with a share of SMS sends failing transiently.

    python bench/notify.py --citizens 1000 --fail-rate 0.1

SQLite (a file in a temporary folder). Measures: building the deliveries (one transaction), then
sending them with retries (backoff 0.05 s) until none is pending; checks that every notice
arrived exactly once in each box. Appends to bench/results/notify.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results" / "notify.md"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--citizens", type=int, default=1000)
    parser.add_argument("--fail-rate", type=float, default=0.1)
    args = parser.parse_args()

    from sqlalchemy import insert

    from bench.sections import append_section
    from nidb.notify.channels import Channels
    from nidb.notify.collect import build_deliveries
    from nidb.notify.deliver import deliver_due
    from nidb.sim.smtp.server import SmtpStandIn
    from nidb.store import models
    from nidb.store.db import ensure_schema, make_engine
    from nidb.store.models_notify import NotifyContact
    from nidb.store.models_services import Notification
    from nidb.store.models_web import ConsentChoice

    folder = Path(tempfile.mkdtemp(prefix="nidb-notify-bench-"))
    engine = make_engine(f"sqlite:///{folder / 'nidb.sqlite3'}")
    ensure_schema(engine)
    n = args.citizens
    pids = [f"001{i:09d}" for i in range(n)]
    since = datetime.now(UTC) - timedelta(minutes=5)
    with engine.begin() as conn:
        conn.execute(
            insert(models.Citizen),
            [
                {
                    "personal_id": p,
                    "full_name": f"Nguyễn Văn {i}",
                    "name_base": f"nguyen van {i}",
                    "date_of_birth": "1980-01-01",
                    "dob_precision": "day",
                    "birth_year": 1980,
                    "gender": "M",
                    "birth_province": "001",
                    "status": "alive",
                }
                for i, p in enumerate(pids)
            ],
        )
        conn.execute(
            insert(NotifyContact),
            [
                {
                    "party_kind": "citizen",
                    "party_id": p,
                    "email": f"cd{i}@example.vn",
                    "phone": f"09{i:08d}",
                    "updated_at": since,
                }
                for i, p in enumerate(pids)
            ],
        )
        conn.execute(
            insert(ConsentChoice),
            [
                {"personal_id": p, "topic": t, "granted": True, "changed_at": since}
                for p in pids
                for t in ("notify_email", "notify_sms")
            ],
        )
        conn.execute(
            insert(Notification),
            [
                {"personal_id": p, "channel": "portal", "text_vi": "Đã tiếp nhận hồ sơ số 1."}
                for p in pids
            ],
        )
    smtp = SmtpStandIn("127.0.0.1", 0, 0).start()
    port = 18000 + os.getpid() % 1000
    key = "khoa-do-hieu-nang"
    sms = subprocess.Popen(
        [sys.executable, "-m", "nidb", "sim", "sms", "--port", str(port), "--api-key", key],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    sms_url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                httpx.get(f"{sms_url}/healthz", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        httpx.put(f"{sms_url}/admin/faults", json={"fail_rate": args.fail_rate, "seed": 1})
        started = time.perf_counter()
        built = build_deliveries(engine)
        build_s = time.perf_counter() - started
        channels = Channels("127.0.0.1", smtp.smtp_port, "bench@nidb.invalid", sms_url, key)
        sent = retried = failed = passes = 0
        started = time.perf_counter()
        while True:
            passes += 1
            result = deliver_due(engine, channels, max_attempts=10, backoff=0.05, limit=5000)
            sent, retried, failed = (
                sent + result.sent,
                retried + result.retried,
                failed + result.failed,
            )
            if not result.waiting:
                break
            time.sleep(0.05)
        send_s = time.perf_counter() - started
        channels.close()
        mail = len(httpx.get(f"http://127.0.0.1:{smtp.http_port}/messages").json())
        texts = httpx.get(f"{sms_url}/messages").json()["total"]
    finally:
        sms.terminate()
        sms.wait(10)
        smtp.stop()
    ok = mail == n and texts == n and sent == 2 * n and failed == 0
    section = (
        f"\n## {datetime.now(UTC):%Y-%m-%d %H:%M} UTC — {n:,} citizens, SMS fail rate "
        f"{args.fail_rate:.0%}, SQLite\n\n"
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs (shared), Python "
        f"{platform.python_version()}.\n\n"
        f"| measure | value |\n|---|---|\n"
        f"| deliveries built (one transaction) | {built.total:,} in {build_s:.2f} s |\n"
        f"| sent (e-mail + SMS) | {sent:,} in {send_s:.2f} s ({sent / send_s:,.0f}/s), "
        f"{passes} passes |\n"
        f"| transient failures retried | {retried:,} |\n"
        f"| failed | {failed:,} |\n"
        f"| received: mail box / SMS box | {mail:,} / {texts:,} (each exactly once: "
        f"{'yes' if ok else 'NO'}) |\n"
    )
    append_section(RESULTS, "# Notification delivery (bench/notify.py)\n", section)
    print(section)


if __name__ == "__main__":
    main()
