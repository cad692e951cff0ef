"""Access anomalies (truy cập bất thường): the three rules over each actor's reads of one day.

Pure: the input is one row per (actor, Vietnamese day) of the access log, already counted
(``nidb.detect.access`` counts them in SQL); the output is one `AccessFinding` per rule broken.
The thresholds are `Thresholds`' fields, each with the reason for its value; they were tuned on
one generated data set and are reported on another generated differently (bench/anomalies.py,
bench/results/anomalies.md).

The rules:

- **volume** (``access.volume``): an actor read more distinct persons in a day than
  ``max(volume_floor, own_factor × own p95, peer_factor × peers' p99)``, where *own* is the
  actor's daily counts on the days it read anything in the ``history_days`` before (needs
  ``min_history_days`` of them) and *peers* are the other actors of the same group (staff of the
  same role; partners of the same kind) over the same days. A term without data drops out.
- **hours** (``access.hours``): an actor read at least ``off_hours_min_persons`` distinct
  persons outside 07:00–19:00 Vietnam time, or on a Sunday or public holiday. Staff always;
  a partner only if its own history is an office-hours one (less than ``office_share`` of its
  persons read off hours), since hospitals check cards day and night.
- **area** (``access.area``): a staff member of a province (or district) read at least
  ``area_min_persons`` distinct persons whose BHXH code was issued in another province.
  Central staff read the whole country and are not checked.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from nidb.domain.errors import DomainError
from nidb.domain.provinces import province

VOLUME, HOURS, AREA = "access.volume", "access.hours", "access.area"
KINDS = ACCESS_KINDS = (VOLUME, HOURS, AREA)
TITLES_VI = ACCESS_RULE_TITLES = {
    VOLUME: "Xem dữ liệu quá nhiều người trong ngày",
    HOURS: "Xem dữ liệu ngoài giờ làm việc",
    AREA: "Xem dữ liệu người ngoài địa bàn",
}
"""Each rule's name on the console."""

DAY_START_HOUR, DAY_END_HOUR = 7, 19
"""Office reads happen from 07:00 to 19:00 Vietnam time (VSS offices open 07:00–17:00; two
hours of overtime are ordinary)."""


@dataclass(frozen=True)
class Thresholds:
    """The rules' thresholds; the defaults are the values tuned on bench/anomalies.py's tuning set."""

    volume_floor: int = 50
    """No volume alert below 50 persons a day: a clerk handling a queue of dossiers reads that
    many on a busy day, and a smaller count is not worth an auditor's time."""
    own_factor: float = 2.0
    """Twice the actor's own 95th-percentile day: busy days reach 1.5× the usual (tuning set),
    a spike of mass look-ups is 3× or more."""
    peer_factor: float = 1.0
    """The peers' 99th percentile itself: their busiest normal day. On the tuning set 1.5
    missed a planted spike of a clerk whose colleagues' busiest day was near it, and 1.0 raised
    no false alert (bench/results/anomalies.md, the sweep)."""
    history_days: int = 28
    """Four weeks of history: every weekday four times, short enough to follow a new workload."""
    min_history_days: int = 5
    """An own baseline needs five days with reads; before that only the peers and the floor count."""
    off_hours_min_persons: int = 3
    """Three persons outside office hours: one or two are a clerk finishing a call at 19:10."""
    office_share: float = 0.01
    """A partner is held to office hours if under 1 % of its persons were read off hours in its
    history (a ministry's system); a hospital's night shift is above that."""
    area_min_persons: int = 1
    """One person outside the area: the console and the staff API refuse such reads, so any that
    reached the log came through a gap or a wrongly scoped account, and is worth a look."""


@dataclass(frozen=True)
class ActorDay:
    """What one actor read on one Vietnamese day (counts of distinct persons)."""

    actor: str
    kind: str
    """``staff`` or ``partner``."""
    group: str
    """The peer group: a staff member's role, a partner's kind."""
    group_label: str
    """A staff member's role in Vietnamese, as explanations name it ("" for a partner)."""
    province: str | None
    """A staff member's province (None: central scope, or a partner)."""
    day: date
    persons: int
    off_hours_persons: int
    """Persons read before 07:00 or from 19:00 (on a Sunday or holiday: all of them)."""
    by_province: dict[str, int] = field(default_factory=dict)
    """Persons read per province of issue of their BHXH code (staff only)."""


@dataclass(frozen=True)
class AccessFinding:
    """One rule broken by one actor on one day: becomes one alert."""

    kind: str
    actor: str
    actor_kind: str
    province: str | None
    day: date
    count: int
    threshold: float
    explanation_vi: str
    explanation_en: str
    facts: dict[str, object]
    """The numbers the explanation quotes (baselines, percentiles, provinces), for the page."""

    @property
    def evidence_key(self) -> str:
        """One alert per rule, actor and day: running detection again adds nothing."""
        return self.day.isoformat()


def percentile(values: Sequence[int], share: float) -> float:
    """The ``share`` percentile of ``values`` (nearest rank), 0 for none.

    Examples:
        >>> percentile([1, 2, 3, 4, 100], 0.95)
        100.0
        >>> percentile([5, 1, 3], 0.5)
        3.0
    """
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, -(-int(share * 1000) * len(ordered) // 1000))  # ceil(share × n)
    return float(ordered[min(rank, len(ordered)) - 1])


def province_name(code: str) -> str:
    """A province's name by its code (the code itself if nidb knows no such province)."""
    try:
        return province(code).name
    except DomainError:
        return f"mã tỉnh {code}"


def _vi_day(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def _vi_number(value: float) -> str:
    text = f"{value:,.1f}" if value != int(value) else f"{int(value):,}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def _who_vi(day: ActorDay) -> str:
    if day.kind == "staff":
        return f"Cán bộ {day.actor.removeprefix('staff:')}"
    return f"Hệ thống đối tác {day.actor}"


def unusual_day(day: date, is_holiday: Callable[[date], bool]) -> bool:
    """Sundays and public holidays: no read is expected at all."""
    return day.weekday() == 6 or is_holiday(day)


def find_anomalies(
    rows: Iterable[ActorDay],
    days: Sequence[date],
    is_holiday: Callable[[date], bool],
    thresholds: Thresholds | None = None,
) -> list[AccessFinding]:
    """The findings of every rule on ``days``, given the rows of those days and of the
    ``history_days`` before them."""
    limits = thresholds or Thresholds()
    by_actor: dict[str, dict[date, ActorDay]] = defaultdict(dict)
    by_group_day: dict[tuple[str, str, date], list[ActorDay]] = defaultdict(list)
    for row in rows:
        by_actor[row.actor][row.day] = row
        by_group_day[(row.kind, row.group, row.day)].append(row)
    findings: list[AccessFinding] = []
    for day in sorted(set(days)):
        window = [day - timedelta(days=n) for n in range(1, limits.history_days + 1)]
        for actor in sorted(by_actor):
            today = by_actor[actor].get(day)
            if today is None:
                continue
            history = [by_actor[actor][d] for d in window if d in by_actor[actor]]
            findings += _volume(today, history, by_group_day, window, limits)
            findings += _hours(today, history, is_holiday, limits)
            findings += _area(today, limits)
    return findings


def _volume(
    today: ActorDay,
    history: list[ActorDay],
    by_group_day: dict[tuple[str, str, date], list[ActorDay]],
    window: list[date],
    limits: Thresholds,
) -> list[AccessFinding]:
    own = [h.persons for h in history]
    own_p95 = percentile(own, 0.95) if len(own) >= limits.min_history_days else None
    peers = [
        p.persons
        for d in window
        for p in by_group_day.get((today.kind, today.group, d), ())
        if p.actor != today.actor
    ]
    peer_p99 = percentile(peers, 0.99) if peers else None
    threshold = float(limits.volume_floor)
    if own_p95 is not None:
        threshold = max(threshold, limits.own_factor * own_p95)
    if peer_p99 is not None:
        threshold = max(threshold, limits.peer_factor * peer_p99)
    if today.persons <= threshold:
        return []
    own_vi = (
        f"mức thường ngày của chính họ là tối đa {_vi_number(own_p95)} người/ngày "
        f"(phân vị 95 của {len(own)} ngày có truy cập trong {limits.history_days} ngày trước)"
        if own_p95 is not None
        else f"chưa đủ {limits.min_history_days} ngày lịch sử để so với chính họ"
    )
    peers_vi = (
        f"các cán bộ khác cùng vai trò «{today.group_label}»"
        if today.kind == "staff"
        else "các hệ thống đối tác khác cùng loại"
    )
    peer_vi = (
        f"{peers_vi} xem nhiều nhất {_vi_number(peer_p99)} người/ngày (phân vị 99, tính trên "
        f"{len(peers)} ngày có truy cập của họ)"
        if peer_p99 is not None
        else f"không có {peers_vi} để so sánh"
    )
    explanation_vi = (
        f"{_who_vi(today)} đã xem dữ liệu của {_vi_number(today.persons)} người khác nhau trong "
        f"ngày {_vi_day(today.day)}, vượt ngưỡng {_vi_number(threshold)} người. Để so sánh: "
        f"{own_vi}; {peer_vi}."
    )
    explanation_en = (
        f"{today.actor} read {today.persons} distinct persons on {today.day.isoformat()}, above "
        f"the threshold of {threshold:g} (own p95: "
        f"{'n/a' if own_p95 is None else f'{own_p95:g}'}, peers' p99: "
        f"{'n/a' if peer_p99 is None else f'{peer_p99:g}'})."
    )
    facts: dict[str, object] = {
        "own_p95": own_p95,
        "own_days": len(own),
        "peer_p99": peer_p99,
        "peer_days": len(peers),
    }
    return [
        _finding(VOLUME, today, today.persons, threshold, explanation_vi, explanation_en, facts)
    ]


def _hours(
    today: ActorDay,
    history: list[ActorDay],
    is_holiday: Callable[[date], bool],
    limits: Thresholds,
) -> list[AccessFinding]:
    if today.kind != "staff":
        read = sum(h.persons for h in history)
        off = sum(h.off_hours_persons for h in history)
        if read == 0 or off / read >= limits.office_share:
            return []  # no history to judge by, or a partner that works day and night
    if today.off_hours_persons < limits.off_hours_min_persons:
        return []
    when_vi = (
        ("ngày Chủ nhật" if today.day.weekday() == 6 else "ngày nghỉ lễ")
        if unusual_day(today.day, is_holiday)
        else f"ngoài giờ làm việc ({DAY_START_HOUR:02d}:00–{DAY_END_HOUR:02d}:00)"
    )
    explanation_vi = (
        f"{_who_vi(today)} đã xem dữ liệu của {today.off_hours_persons} người vào {when_vi} "
        f"ngày {_vi_day(today.day)}; ngưỡng là {limits.off_hours_min_persons} người."
    )
    explanation_en = (
        f"{today.actor} read {today.off_hours_persons} distinct persons outside office hours "
        f"(07:00-19:00, Sundays and holidays) on {today.day.isoformat()}."
    )
    facts: dict[str, object] = {"unusual_day": unusual_day(today.day, is_holiday)}
    return [
        _finding(
            HOURS,
            today,
            today.off_hours_persons,
            limits.off_hours_min_persons,
            explanation_vi,
            explanation_en,
            facts,
        )
    ]


def _area(today: ActorDay, limits: Thresholds) -> list[AccessFinding]:
    if today.kind != "staff" or today.province is None:
        return []
    outside = {p: n for p, n in today.by_province.items() if p != today.province}
    count = sum(outside.values())
    if count < limits.area_min_persons:
        return []
    listed = ", ".join(f"{province_name(p)}: {n} người" for p, n in sorted(outside.items()))
    explanation_vi = (
        f"{_who_vi(today)} thuộc {province_name(today.province)} đã xem dữ liệu của {count} người "
        f"ngoài địa bàn trong ngày {_vi_day(today.day)} ({listed}); ngưỡng là "
        f"{limits.area_min_persons} người."
    )
    explanation_en = (
        f"{today.actor} (province {today.province}) read {count} persons of other provinces on "
        f"{today.day.isoformat()}."
    )
    facts: dict[str, object] = {"outside": outside, "staff_province": today.province}
    return [
        _finding(AREA, today, count, limits.area_min_persons, explanation_vi, explanation_en, facts)
    ]


def _finding(
    kind: str,
    today: ActorDay,
    count: int,
    threshold: float,
    explanation_vi: str,
    explanation_en: str,
    facts: dict[str, object],
) -> AccessFinding:
    return AccessFinding(
        kind,
        today.actor,
        today.kind,
        today.province,
        today.day,
        count,
        threshold,
        explanation_vi,
        explanation_en,
        facts,
    )
