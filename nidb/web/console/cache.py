"""A small time-limited cache for the console's counts and aggregates, per process.

Counting a province's open review items joins ~100,000 person records with the open items; the
dashboards' progress reads every record of the area. Many staff of one area ask the same
numbers, so they are kept for a few seconds per (engine, area, question). A decision made through
the console clears the cache of this process at once (``clear``); decisions made elsewhere show
after at most the entry's lifetime. The lists themselves (which items, in which state) are
always read live.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import TypeVar

T = TypeVar("T")

_entries: dict[Hashable, tuple[float, object]] = {}
_lock = threading.Lock()


def cached(key: Hashable, seconds: float, compute: Callable[[], T]) -> T:
    """``compute()``, or its value from less than ``seconds`` ago under ``key``."""
    now = time.monotonic()
    with _lock:
        hit = _entries.get(key)
    if hit is not None and now - hit[0] < seconds:
        return hit[1]  # type: ignore[return-value]
    value = compute()
    with _lock:
        _entries[key] = (now, value)
    return value


def clear() -> None:
    """Forget every cached number (after a decision; in tests)."""
    with _lock:
        _entries.clear()
