"""Access anomalies: precision and recall of the three rules on planted anomalies, on a tuning
set and on a held-out set generated differently.

    .venv/bin/python bench/anomalies.py

Each set is a synthetic access log written into a fresh SQLite register (staff accounts,
partners, reads at chosen times), then `nidb.detect.detect_access` runs over its last 14 days
exactly as `nidb alerts access` does, and its alerts are compared with the planted anomalies
(one per rule, actor and day):

- **tuning** (seed 1, 42 days to 30/11/2026): 8 provinces × 8 clerks reading 8–35 persons on a
  working day (busy days × 1.2–1.6 one day in ten; a clerk finishing after 19:00 with one or two
  persons one day in twenty; some Saturday mornings), 12 hospitals day and night, 2 ministry
  systems in office hours. Planted: volume spikes × 3–8 (staff) and × 4–6 (hospitals), night
  sessions of 3–15 persons, Sunday sessions, a ministry night batch, 1–10 persons of another
  province.
- **held-out** (seed 3, 42 days to 15/09/2026, so National Day 1–2/9 falls in it): 12 provinces ×
  6 clerks reading 5–50 persons, busy days × 1.3–1.9 one day in seven, late clerks one day in
  twelve, 20 hospitals of 80–1,200 reads a day, 3 ministry systems; smaller anomalies (volume
  × 2.5–6, night sessions of 3–8, 1–4 persons out of area) and holiday sessions.

The thresholds (`nidb.detect.access_rules.Thresholds`) were chosen on the tuning set (the sweep
below is printed from it) and are reported unchanged on the held-out set. Appends a dated
section to bench/results/anomalies.md.
"""

from __future__ import annotations

import os
import platform
import random
import shutil
import sys
import tempfile
import time as clock
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import Engine, insert

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.sections import append_section  # noqa: E402
from nidb.detect.access import count_days, detect_access  # noqa: E402
from nidb.detect.access_rules import KINDS, Thresholds, find_anomalies  # noqa: E402
from nidb.services.workdays import VIETNAM, is_public_holiday  # noqa: E402
from nidb.store import models  # noqa: E402
from nidb.store.db import ensure_schema, make_engine  # noqa: E402
from nidb.store.models_web import StaffUser  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "anomalies.md"
PROVINCE_CODES = ["01", "79", "48", "31", "92", "22", "38", "46", "56", "66", "75", "96"]
CHECKED_DAYS = 14
HISTORY_DAYS = 42


@dataclass(frozen=True)
class Profile:
    """How one synthetic access log is made."""

    name: str
    seed: int
    last_day: date
    provinces: int
    clerks_per_province: int
    clerk_mean: tuple[int, int]
    busy_share: float
    busy_factor: tuple[float, float]
    late_share: float
    hospitals: int
    hospital_mean: tuple[int, int]
    ministries: int
    spike: tuple[float, float]
    night_persons: tuple[int, int]
    area_persons: tuple[int, int]
    planted_each: int


TUNING = Profile(
    "tuning", 1, date(2026, 11, 30), 8, 8, (8, 35), 0.10, (1.2, 1.6), 0.05, 12, (150, 600), 2,
    (3.0, 8.0), (3, 15), (1, 10), 8,
)  # fmt: skip
HELD_OUT = Profile(
    "held-out", 3, date(2026, 9, 15), 12, 6, (5, 50), 0.15, (1.3, 1.9), 0.08, 20, (80, 1200), 3,
    (2.5, 6.0), (3, 8), (1, 4), 10,
)  # fmt: skip


@dataclass
class Generated:
    rows: list[dict[str, object]]
    truth: set[tuple[str, str, date]]
    days: list[date]


class Log:
    """Access-log rows at chosen Vietnamese times."""

    def __init__(self) -> None:
        self.rows: list[dict[str, object]] = []

    def reads(self, actor: str, day: date, subjects: list[str], start: time, end: time) -> None:
        first = datetime.combine(day, start, VIETNAM).astimezone(UTC)
        span = (datetime.combine(day, end) - datetime.combine(day, start)).total_seconds()
        for n, subject in enumerate(subjects):
            at = first + timedelta(seconds=span * (n + 0.5) / max(1, len(subjects)))
            self.rows.append(
                {
                    "lane": 7,
                    "seq": len(self.rows) + 1,
                    "occurred_at": at.isoformat(timespec="microseconds"),
                    "actor": actor,
                    "service": "card.check/v1"
                    if not actor.startswith("staff:")
                    else "review.view/v1",
                    "purpose": "KCB" if not actor.startswith("staff:") else "GQCD",
                    "subject": subject,
                    "fields": None,
                    "result": "ok",
                    "message_id": None,
                    "detail": "{}",
                    "prev_hash": "0" * 64,
                    "entry_hash": "0" * 64,
                }
            )


def _persons(rng: random.Random, province: str, n: int) -> list[str]:
    return [f"{province}{rng.randrange(10**8):08d}" for _ in range(n)]


def _days(last: date, count: int) -> Iterator[date]:
    for n in range(count - 1, -1, -1):
        yield last - timedelta(days=n)


def generate(profile: Profile, engine: Engine) -> Generated:
    """Write staff, partners and the access log of ``profile`` into ``engine``; the truth."""
    rng = random.Random(profile.seed)
    log = Log()
    truth: set[tuple[str, str, date]] = set()
    all_days = list(_days(profile.last_day, HISTORY_DAYS))
    checked = all_days[-CHECKED_DAYS:]
    provinces = PROVINCE_CODES[: profile.provinces]
    clerks = [
        (f"cb{p}.{n}", p, rng.uniform(*profile.clerk_mean))
        for p in provinces
        for n in range(profile.clerks_per_province)
    ]
    hospitals = [
        (f"VN/GOV/BYT/BV-{n:05d}", rng.uniform(*profile.hospital_mean))
        for n in range(profile.hospitals)
    ]
    ministries = [f"VN/GOV/BLDTBXH/HT-{n:02d}" for n in range(profile.ministries)]
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(
            insert(StaffUser),
            [
                {
                    "username": name,
                    "full_name": "Cán bộ",
                    "password_hash": "-",
                    "role": "reviewer",
                    "scope_level": "province",
                    "province_code": province,
                    "password_changed_at": now,
                }
                for name, province, _ in clerks
            ],
        )
        conn.execute(
            insert(models.Partner),
            [{"code": c, "name": "BV", "kind": "hospital", "rate_limit": 100} for c, _ in hospitals]
            + [{"code": c, "name": "Bộ", "kind": "molisa", "rate_limit": 100} for c in ministries],
        )

    def plant(kind: str, actor: str, day: date) -> None:
        truth.add((kind, actor, day))

    # normal work
    for day in all_days:
        off_day = day.weekday() == 6 or is_public_holiday(day)
        for name, province, mean in clerks:
            actor = f"staff:{name}"
            if off_day or (day.weekday() == 5 and rng.random() > 0.3):
                continue
            factor = rng.uniform(*profile.busy_factor) if rng.random() < profile.busy_share else 1
            n = max(1, int(rng.gauss(mean, mean * 0.2) * factor))
            end = time(11, 30) if day.weekday() == 5 else time(18, 30)
            log.reads(actor, day, _persons(rng, province, n), time(7, 30), end)
            if rng.random() < profile.late_share:  # finishing a file after hours
                log.reads(
                    actor,
                    day,
                    _persons(rng, province, rng.randint(1, 2)),
                    time(19, 5),
                    time(19, 40),
                )
        for code, mean in hospitals:
            n = max(1, int(rng.gauss(mean, mean * 0.15)))
            subjects = _persons(rng, rng.choice(PROVINCE_CODES), n)
            log.reads(code, day, subjects, time(0, 0), time(23, 59))
        for code in ministries:
            if not off_day and day.weekday() < 5:
                log.reads(code, day, _persons(rng, "01", rng.randint(50, 150)), time(8), time(17))

    # planted anomalies, on distinct (actor, day) pairs of the checked days
    def pick_clerk_day(work_day: bool = True) -> tuple[str, str, float, date]:
        while True:
            name, province, mean = rng.choice(clerks)
            day = rng.choice(checked)
            if work_day and (day.weekday() >= 5 or is_public_holiday(day)):
                continue
            if not any(t[1] == f"staff:{name}" and t[2] == day for t in truth):
                return name, province, mean, day

    for _ in range(profile.planted_each):
        name, province, mean, day = pick_clerk_day()
        n = int(mean * rng.uniform(*profile.spike))
        log.reads(f"staff:{name}", day, _persons(rng, province, n), time(8), time(17))
        plant("access.volume", f"staff:{name}", day)
    for code, mean in rng.sample(hospitals, 2):
        day = rng.choice(checked)
        n = int(mean * rng.uniform(4.0, 6.0))
        log.reads(code, day, _persons(rng, "01", n), time(1), time(5))
        plant("access.volume", code, day)
    for _ in range(profile.planted_each):
        name, province, _, day = pick_clerk_day()
        start = rng.choice([time(20, 30), time(22, 0), time(5, 0)])
        end = (datetime.combine(day, start) + timedelta(minutes=50)).time()
        log.reads(
            f"staff:{name}",
            day,
            _persons(rng, province, rng.randint(*profile.night_persons)),
            start,
            end,
        )
        plant("access.hours", f"staff:{name}", day)
    off_days = [d for d in checked if d.weekday() == 6 or is_public_holiday(d)]
    for _ in range(3):
        name, province, _ = rng.choice(clerks)
        day = rng.choice(off_days)
        log.reads(
            f"staff:{name}", day, _persons(rng, province, rng.randint(3, 10)), time(9), time(11)
        )
        plant("access.hours", f"staff:{name}", day)
    ministry_day = rng.choice([d for d in checked if d.weekday() < 5])
    log.reads(ministries[0], ministry_day, _persons(rng, "01", 20), time(23), time(23, 50))
    plant("access.hours", ministries[0], ministry_day)
    for _ in range(profile.planted_each):
        name, province, _, day = pick_clerk_day()
        other = rng.choice([p for p in PROVINCE_CODES if p != province])
        log.reads(
            f"staff:{name}",
            day,
            _persons(rng, other, rng.randint(*profile.area_persons)),
            time(9),
            time(16),
        )
        plant("access.area", f"staff:{name}", day)
    for n, row in enumerate(log.rows, start=1):
        row["seq"] = n
    with engine.begin() as conn:
        for start in range(0, len(log.rows), 20_000):
            conn.execute(insert(models.AccessLogEntry), log.rows[start : start + 20_000])
    return Generated(log.rows, truth, checked)


@dataclass
class Score:
    kind: str
    found: int
    planted: int
    hits: int

    @property
    def precision(self) -> float | None:
        return self.hits / self.found if self.found else None

    @property
    def recall(self) -> float | None:
        return self.hits / self.planted if self.planted else None


def score(found: set[tuple[str, str, date]], truth: set[tuple[str, str, date]]) -> list[Score]:
    return [
        Score(
            kind,
            len({f for f in found if f[0] == kind}),
            len({t for t in truth if t[0] == kind}),
            len({f for f in found & truth if f[0] == kind}),
        )
        for kind in KINDS
    ]


def run(profile: Profile, work: Path) -> tuple[list[Score], dict[str, object], Engine, Generated]:
    engine = make_engine(f"sqlite:///{work / (profile.name + '.sqlite3')}")
    ensure_schema(engine)
    started = clock.perf_counter()
    generated = generate(profile, engine)
    made = clock.perf_counter() - started
    started = clock.perf_counter()
    result = detect_access(engine, generated.days)
    took = clock.perf_counter() - started
    found = {(f.kind, f.actor, f.day) for f in result.findings}
    facts = {
        "reads": len(generated.rows),
        "actors": result.actors,
        "generate_s": made,
        "detect_s": took,
        "alerts": result.new,
    }
    return score(found, generated.truth), facts, engine, generated


def sweep(engine: Engine, generated: Generated) -> list[tuple[float, float, Score]]:
    """Volume rule on the tuning set for a grid of factors (what the defaults were chosen on)."""
    first = generated.days[0] - timedelta(days=Thresholds().history_days)
    rows = count_days(engine, first, generated.days[-1])
    out = []
    for own in (1.5, 2.0, 3.0):
        for peer in (1.0, 1.5, 2.0):
            limits = replace(Thresholds(), own_factor=own, peer_factor=peer)
            findings = find_anomalies(rows, generated.days, is_public_holiday, limits)
            found = {(f.kind, f.actor, f.day) for f in findings}
            out.append((own, peer, score(found, generated.truth)[0]))
    return out


def cell(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="nidb-anomalies-"))
    lines: list[str] = []
    try:
        tuning, tuning_facts, engine, generated = run(TUNING, work)
        grid = sweep(engine, generated)
        engine.dispose()
        held, held_facts, engine, _ = run(HELD_OUT, work)
        engine.dispose()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    load = os.getloadavg()
    lines += [
        "",
        f"## {datetime.now(UTC):%Y-%m-%d %H:%M} UTC — {platform.node()}, {os.cpu_count()} CPUs, "
        f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}",
        "",
        f"Command: `python bench/anomalies.py`. Thresholds: {Thresholds()}.",
        "",
        "| set | rule | alerts | planted | found planted | precision | recall |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, scores in (("tuning", tuning), ("held-out", held)):
        for s in scores:
            lines.append(
                f"| {name} | {s.kind} | {s.found} | {s.planted} | {s.hits} | {cell(s.precision)} | "
                f"{cell(s.recall)} |"
            )
    lines += [
        "",
        "| set | reads in the log | actors on the checked days | generate s | detect s |",
        "|---|---|---|---|---|",
    ]
    for name, facts in (("tuning", tuning_facts), ("held-out", held_facts)):
        lines.append(
            f"| {name} | {facts['reads']:,} | {facts['actors']} | {facts['generate_s']:.1f} | "
            f"{facts['detect_s']:.1f} |"
        )
    lines += [
        "",
        "Volume rule on the tuning set, by factor (the defaults are own 2.0, peers 1.0):",
        "",
        "| own factor | peer factor | alerts | found planted | precision | recall |",
        "|---|---|---|---|---|---|",
    ]
    for own, peer, s in grid:
        lines.append(
            f"| {own} | {peer} | {s.found} | {s.hits} | {cell(s.precision)} | {cell(s.recall)} |"
        )
    text_out = "\n".join(lines) + "\n"
    print(text_out)
    append_section(
        RESULTS,
        "# Access anomalies: planted anomalies found, tuning and held-out sets\n",
        text_out,
    )


if __name__ == "__main__":
    main()
