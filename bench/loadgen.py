"""What the HTTP benchmarks share: an open-loop sender, CPU time read from /proc, percentiles.

The load is an open loop: payload i is due at start + i / rate and its latency is measured from
that moment, so a server that falls behind shows it in the percentiles (no coordinated
omission). Used by bench/claims_intake.py, bench/employer_declarations.py and bench/claims.py.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx


def open_loop(
    pool: ThreadPoolExecutor,
    payloads: list[Any],
    rate: float,
    send: Callable[[Any, float], Any],
) -> list[Any]:
    """Hand each payload to ``send(payload, due)`` on ``pool`` at its due time; their results."""
    start = time.perf_counter() + 0.2
    futures = []
    for i, payload in enumerate(payloads):
        due = start + i / rate
        pause = due - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        futures.append(pool.submit(send, payload, due))
    return [f.result() for f in futures]


def proc_cpu() -> dict[int, tuple[int, float]]:
    """Every live process: pid → (parent pid, CPU-seconds used, user + system)."""
    tick = os.sysconf("SC_CLK_TCK")
    stats: dict[int, tuple[int, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        stats[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)
    return stats


def cpu_seconds(pid: int) -> float:
    """CPU time of ``pid`` and its live children (a server's workers)."""
    return sum(cpu for p, (parent, cpu) in proc_cpu().items() if pid in (p, parent))


def tree_cpu_seconds(root: int | None = None) -> float:
    """CPU time of ``root`` (this process by default) and all its live descendants."""
    stats = proc_cpu()
    mine, grew = {root or os.getpid()}, True
    while grew:
        grew = False
        for pid, (parent, _) in stats.items():
            if parent in mine and pid not in mine:
                mine.add(pid)
                grew = True
    return sum(stats.get(pid, (0, 0.0))[1] for pid in mine)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def latency_summary(results: list[tuple[float, bool]], elapsed: float) -> dict[str, float]:
    """Sent, errors, achieved rate and latency percentiles (ms) of ``(seconds late, ok)`` pairs."""
    latencies = [r[0] * 1000 for r in results]
    return {
        "sent": len(results),
        "errors": sum(1 for r in results if not r[1]),
        "achieved": len(results) / elapsed,
        "p50": percentile(latencies, 0.50),
        "p90": percentile(latencies, 0.90),
        "p99": percentile(latencies, 0.99),
        "max": max(latencies),
    }


def wait_up(url: str, timeout: float = 90) -> None:
    """Wait until ``url`` answers 200, or stop the benchmark."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"server at {url} did not start")
