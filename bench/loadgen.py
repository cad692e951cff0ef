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


def http_request(host: str, path: str, body: bytes) -> bytes:
    """One HTTP/1.1 POST of a JSON ``body``, as bytes ready for the socket."""
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("ascii") + body


def raw_open_loop(
    host: str, port: int, requests: list[bytes], rate: float, connections: int = 64
) -> list[tuple[float, bool]]:
    """Send prepared HTTP/1.1 ``requests`` at ``rate`` per second; ``(seconds late, ok)`` each.

    The same open loop as :func:`open_loop` (request i is due at start + i / rate; its latency is
    measured from that moment), but lean enough not to be the bottleneck itself: one asyncio
    loop, ``connections`` kept-alive sockets, requests prepared as bytes beforehand, replies
    read by their Content-Length. An httpx client in 64 threads spends ~6 ms of CPU per request
    under the interpreter lock, so at 150 requests/s it takes a whole core and its own delays
    show as the server's latency (measured with top on 7 December 2026, 22:08 UTC); this one
    spends a few tenths of a millisecond. ``ok`` is a 2xx status.
    """
    import asyncio

    async def run() -> list[tuple[float, bool]]:
        queue: asyncio.Queue[tuple[int, float] | None] = asyncio.Queue()
        results: list[tuple[float, bool]] = [(0.0, False)] * len(requests)

        async def reply(reader: asyncio.StreamReader) -> tuple[int, bool]:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split(" ", 2)[1])
            fields = {
                k.strip().lower(): v.strip()
                for k, _, v in (x.partition(":") for x in lines[1:] if x)
            }
            await reader.readexactly(int(fields.get("content-length", "0")))
            return status, fields.get("connection", "").lower() == "close"

        async def connection() -> None:
            streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
            while (item := await queue.get()) is not None:
                i, due = item
                ok = False
                try:
                    if streams is None:
                        streams = await asyncio.open_connection(host, port)
                    reader, writer = streams
                    writer.write(requests[i])
                    status, close = await reply(reader)
                    ok = 200 <= status < 300
                    if close:
                        writer.close()
                        streams = None
                except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
                    if streams is not None:
                        streams[1].close()
                    streams = None
                results[i] = (time.perf_counter() - due, ok)
            if streams is not None:
                streams[1].close()

        tasks = [asyncio.create_task(connection()) for _ in range(connections)]
        start = time.perf_counter() + 0.2
        for i in range(len(requests)):
            due = start + i / rate
            pause = due - time.perf_counter()
            if pause > 0:
                await asyncio.sleep(pause)
            queue.put_nowait((i, due))
        for _ in tasks:
            queue.put_nowait(None)
        await asyncio.gather(*tasks)
        return results

    return asyncio.run(run())
