"""nidb's signing key rotated under load, with no restart: how long the switch takes, whether a
reply fails, and what following the key file costs.

Starts ``nidb serve --workers N`` (SQLite in a temporary folder unless ``--database-url``),
registers a hospital, and has ``--senders`` threads send signed card checks without pause, each
on a connection of its own kept open (the kernel spreads the connections over the workers; all
eight on one worker of two has odds 2 ** -7), each reply verified as a partner verifies it (`ExchangeClient`, which fetches ``/keys`` again on a new kid). During the
run ``nidb keys rotate`` runs ``--rotations`` times. For each rotation it reports:

- **switch**: from the moment the new key file was in place (its mtime) to the last request
  answered with the old key (by when it was sent) — bounded by
  ``NIDB_SIGNING_KEY_CHECK_SECONDS`` (1) plus scheduling delay;
- replies per second in the ``--window`` seconds before and after (their ratio: the switch does
  not slow the workers down);
- failures: replies that did not verify, were not 200, or did not arrive (must be 0).

It also times `KeyFile.refresh` when nothing changed (what each worker does once a second).

    PYTHONPATH=$PWD .venv/bin/python bench/key_rotation.py [--database-url URL] [--rotations 3]

Appends a dated section to bench/results/key_rotation.md, with the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import timeit
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.sections import append_section  # noqa: E402
from nidb.exchange.partners import add_grant, add_partner  # noqa: E402
from nidb.protocol.client import ExchangeClient  # noqa: E402
from nidb.protocol.envelope import signature_kid  # noqa: E402
from nidb.protocol.keys import KeyFile, SigningKey  # noqa: E402
from nidb.store.db import ensure_schema, make_engine  # noqa: E402
from tests import seed  # noqa: E402  (the one insured person the tests use)

CARD = {
    "card_code": f"DN401{seed.BHXH}",
    "full_name": "Nguyễn Văn An",
    "date_of_birth": "1985-03-17",
}
RESULTS = ROOT / "bench" / "results" / "key_rotation.md"


@dataclass
class Reply:
    sent: float
    done: float
    kid: str | None
    ok: bool


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def sender(base: str, client: ExchangeClient, replies: list[Reply], stop: threading.Event) -> None:
    http = httpx.Client(timeout=30)
    while not stop.is_set():
        sent = time.time()
        envelope = client.envelope("card.check/v1", "KCB", dict(CARD))
        try:
            response = http.post(
                f"{base}/x/card.check/v1",
                content=json.dumps(envelope),
                headers={"content-type": "application/json"},
            )
            raw = response.json()
            reply = client.check(response.status_code, raw)
            ok = response.status_code == 200 and reply.error_code is None
            kid: str | None = signature_kid(raw["signature"])
        except Exception:
            ok, kid = False, None
        replies.append(Reply(sent, time.time(), kid, ok))
    http.close()


def rate(replies: list[Reply], start: float, end: float) -> float:
    return sum(1 for r in replies if start <= r.done < end) / (end - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="default: SQLite in a temporary folder")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--senders", type=int, default=8)
    parser.add_argument("--rotations", type=int, default=3)
    parser.add_argument("--window", type=float, default=5.0, help="seconds before and after")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="nidb-keyrot-"))
    url = args.database_url or f"sqlite:///{folder / 'nidb.sqlite3'}"
    key_file = folder / "keys" / "nidb-signing.pem"
    env = {
        **os.environ,
        "NIDB_DATABASE_URL": url,
        "NIDB_DATA_DIR": str(folder / "data"),
        "NIDB_SIGNING_KEY_FILE": str(key_file),
        "NIDB_ACTOR": "bench",
        "NIDB_LOG_LEVEL": "WARNING",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    engine = make_engine(url)
    ensure_schema(engine)
    seed.insured_person(engine)
    hospital = SigningKey.generate()
    add_partner(engine, seed.HOSPITAL, "BV Bạch Mai", "hospital", hospital.public_b64, "bench")
    add_grant(engine, seed.HOSPITAL, "card.check/v1", "KCB", "dd", "Luật BHYT Điều 28", "bench")
    engine.dispose()

    load_before = load_average()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "nidb", "serve", "--port", str(port)]
    server = subprocess.Popen(
        [*command, "--workers", str(args.workers)], env=env, stderr=subprocess.DEVNULL
    )
    replies: list[Reply] = []
    stop = threading.Event()
    threads: list[threading.Thread] = []
    rotations: list[tuple[float, str, str]] = []  # (new key file in place, old kid, new kid)
    try:
        deadline = time.time() + 120
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=None).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.time() > deadline:
                raise SystemExit("nidb serve did not start")
            time.sleep(0.2)
        for _ in range(args.senders):
            client = ExchangeClient(base, seed.HOSPITAL, hospital)
            thread = threading.Thread(target=sender, args=(base, client, replies, stop))
            thread.start()
            threads.append(thread)
        time.sleep(args.window)
        for _ in range(args.rotations):
            old = SigningKey.from_pem(key_file.read_bytes()).kid
            subprocess.run(
                [sys.executable, "-m", "nidb", "keys", "rotate"],
                env=env,
                check=True,
                capture_output=True,
            )
            new = SigningKey.from_pem(key_file.read_bytes()).kid
            rotations.append((key_file.stat().st_mtime, old, new))
            time.sleep(args.window)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        server.terminate()
        server.wait(timeout=60)

    unchanged = KeyFile(key_file)
    calls = 20_000
    refresh_us = timeit.timeit(unchanged.refresh, number=calls) / calls * 1e6

    rows = []
    for switched, old, new in rotations:
        last_old = max((r.sent for r in replies if r.kid == old), default=switched) - switched
        first_new = min((r.sent for r in replies if r.kid == new), default=switched) - switched
        before = rate(replies, switched - args.window, switched)
        after = rate(replies, switched, switched + args.window)
        new_count = sum(1 for r in replies if r.kid == new)
        rows.append(
            f"| {old[:8]}… → {new[:8]}… | {first_new:+.2f} s | {last_old:+.2f} s | {before:.1f} | {after:.1f} "
            f"| {after / before if before else float('nan'):.2f} | {new_count} |"
        )
    failures = sum(1 for r in replies if not r.ok)
    engine_name = url.split(":", 1)[0]
    section = (
        f"\n## {datetime.now(UTC):%Y-%m-%d %H:%M} UTC — {engine_name}, {args.workers} workers, "
        f"{args.senders} senders, {args.rotations} rotations\n\n"
        f"Load average (1, 5, 15 min): {load_before} at start, {load_average()} at end "
        f"(2 cores, shared).\n\n"
        "| rotation | first request answered with the new key, after the new key file was in "
        "place | last answered with the old key | replies/s before "
        "| after | after/before | replies with the new key |\n|---|---|---|---|---|---|---|\n"
        + "\n".join(rows)
        + f"\n\nReplies: {len(replies)}, failed (unverified, not 200, or lost): **{failures}**. "
        f"`KeyFile.refresh` with nothing changed: {refresh_us:.1f} µs a call (each worker calls "
        "it once a second).\n"
    )
    print(section)
    heading = (
        "# Signing key rotation under load, no restart\n\n"
        "`bench/key_rotation.py` (its docstring says what is measured).\n"
    )
    append_section(RESULTS, heading, section)
    if failures:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
