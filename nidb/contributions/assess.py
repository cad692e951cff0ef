"""The monthly assessment (tính số phải đóng hằng tháng): one month, one transaction.

``assess_month`` writes, for month M, in one transaction with its audit entry and outbox events:
the worker lines of M (``contribution_lines`` kind 'due'); adjustment lines for closed months
whose declared wages changed since they were assessed (kind 'adjustment', assessed in M); the
per-employer, per-fund totals (``contribution_assessments``); the charges on each employer's
account (``contribution_charges``: due, adjustment, interest); and the run itself
(``contribution_runs``). A month already assessed is left as it is (idempotent); months are
assessed in order, so every month before the last assessed one is closed.

Late interest (lãi chậm đóng), Law on Social Insurance 2024 Art. 40: 0.03% a day of the amount
paid late. A month's contributions are due by the last day of the following month (Art. 34), so
the charges raised by month K are late from the first day of K+2. The assessment of M charges the
interest of the days of M-1 (the last whole month before it) on the principal (due and
adjustment charges) raised by months up to M-3 and not yet settled on each day; interest is
never charged on interest. Rounded half up to whole đồng per employer and month.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, Engine, text

from nidb.contributions.ledger import allocate_many
from nidb.contributions.months import add_months, last_day, vn_month
from nidb.contributions.sql import AMOUNT_COLUMNS, FUND_COLUMNS, MonthParameters, covering
from nidb.contributions.sql import expected_lines as expected_sql
from nidb.domain.catalogues import LATE_INTEREST_BP_PER_DAY
from nidb.domain.errors import InvalidDate, Rule
from nidb.store.audit import write_audit

__all__ = ["AssessmentReport", "assess_month"]

TOPIC_STATEMENT = "contributions.statement"
"""Outbox topic: an employer's month was assessed (payload: month, due, adjustment, interest)."""
ACTION_ASSESS = "contributions.assess"
"""Audit action: a month was assessed."""


@dataclass(frozen=True, slots=True)
class AssessmentReport:
    """What one run did (``already`` when the month was assessed before: nothing written)."""

    month: date
    already: bool
    workers: int
    employers: int
    total_due: int
    total_adjustment: int
    total_interest: int
    adjusted_months: tuple[date, ...] = ()


def _out_of_order(month: date, last: date) -> InvalidDate:
    return InvalidDate(
        "month",
        month.strftime("%Y-%m"),
        Rule.DATE_FORMAT,
        f"phải tính lần lượt từng tháng: tháng đã tính gần nhất là {vn_month(last)}",
        f"months are assessed in order: the last assessed month is {last:%Y-%m}",
    )


def _report(conn: Connection, month: date) -> AssessmentReport | None:
    row = conn.execute(
        text(
            "SELECT workers, employers, total_due, total_adjustment, total_interest "
            "FROM contribution_runs WHERE month = :m"
        ),
        {"m": month},
    ).one_or_none()
    if row is None:
        return None
    workers, employers, due, adjustment, interest = (int(v) for v in row)
    return AssessmentReport(month, True, workers, employers, due, adjustment, interest)


def assess_month(
    engine: Engine,
    month: date,
    *,
    actor: str,
    progress: Callable[[str], None] | None = None,
) -> AssessmentReport:
    """Assess ``month`` (its first day) in one transaction; a month already assessed is kept.

    ``progress`` hears each step's name ('lines', 'adjustments', 'charges') inside the
    transaction, before it commits.
    """
    with engine.connect() as conn:
        done = _report(conn, month)
        if done is not None:
            return done
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Declarations wait while a month is assessed, so the watermark below sees every row
            # committed before it and none after (they are read by the next month's adjustment).
            conn.execute(text("LOCK TABLE contribution_runs IN EXCLUSIVE MODE"))
            conn.execute(text("LOCK TABLE declared_wages IN SHARE MODE"))
        else:
            # the first statement writes, so SQLite takes its write lock before reading anything
            conn.execute(text("DELETE FROM contribution_runs WHERE 1 = 0"))
        done = _report(conn, month)
        if done is not None:
            return done
        last = conn.execute(text("SELECT MAX(month) FROM contribution_runs")).scalar_one()
        if last is not None and month != add_months(_as_date(last), 1):
            raise _out_of_order(month, _as_date(last))
        return _assess(conn, month, actor, progress or (lambda step: None))


def _as_date(value: object) -> date:
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _assess(
    conn: Connection, month: date, actor: str, progress: Callable[[str], None]
) -> AssessmentReport:
    watermark = int(
        conn.execute(text("SELECT COALESCE(MAX(id), 0) FROM declared_wages")).scalar_one()
    )
    previous = conn.execute(
        text("SELECT month, wages_watermark FROM contribution_runs ORDER BY month")
    ).all()
    columns = (
        "employer_code, bhxh_code, month, assessed_month, kind, wage, region, "
        + ", ".join(AMOUNT_COLUMNS)
        + ", total"
    )
    params = MonthParameters.of(month)
    conn.execute(
        text(
            f"INSERT INTO contribution_lines ({columns}) "
            f"SELECT employer_code, bhxh_code, :k, :k, 'due', wage, region, "
            f"{', '.join(AMOUNT_COLUMNS)}, total FROM ({expected_sql('')}) expected"
        ),
        {**params.bind(), "watermark": watermark},
    )
    progress("lines")
    adjusted = _adjust_closed_months(conn, month, previous, watermark, columns)
    progress("adjustments")
    _write_assessments(conn, month)
    _write_charges(conn, month)
    _charge_interest(conn, month)
    ahead = conn.execute(
        text("SELECT DISTINCT employer_code FROM contribution_payments WHERE unallocated > 0")
    ).scalars()
    allocate_many(conn, [str(e) for e in ahead])  # money paid ahead (or credited) meets charges
    progress("charges")
    totals = conn.execute(
        text(
            "SELECT COUNT(DISTINCT employer_code), "
            "COALESCE(SUM(CASE WHEN kind = 'due' THEN amount ELSE 0 END), 0), "
            "COALESCE(SUM(CASE WHEN kind = 'adjustment' THEN amount ELSE 0 END), 0), "
            "COALESCE(SUM(CASE WHEN kind = 'interest' THEN amount ELSE 0 END), 0) "
            "FROM contribution_charges WHERE month = :m"
        ),
        {"m": month},
    ).one()
    workers = int(
        conn.execute(
            text("SELECT COUNT(*) FROM contribution_lines WHERE month = :m AND kind = 'due'"),
            {"m": month},
        ).scalar_one()
    )
    report = AssessmentReport(
        month,
        False,
        workers,
        int(totals[0]),
        int(totals[1]),
        int(totals[2]),
        int(totals[3]),
        adjusted,
    )
    conn.execute(
        text(
            "INSERT INTO contribution_runs (month, wages_watermark, workers, employers, total_due, "
            "total_adjustment, total_interest, actor) VALUES (:m, :w, :workers, :employers, "
            ":due, :adjustment, :interest, :actor)"
        ),
        {
            "m": month,
            "w": watermark,
            "workers": report.workers,
            "employers": report.employers,
            "due": report.total_due,
            "adjustment": report.total_adjustment,
            "interest": report.total_interest,
            "actor": actor,
        },
    )
    _write_events(conn, month)
    write_audit(
        conn,
        actor=actor,
        action=ACTION_ASSESS,
        subject_type="contribution_month",
        subject_id=month.strftime("%Y-%m"),
        purpose="monthly assessment",
        detail={
            "workers": report.workers,
            "employers": report.employers,
            "total_due": report.total_due,
            "total_adjustment": report.total_adjustment,
            "total_interest": report.total_interest,
            "adjusted_months": [m.strftime("%Y-%m") for m in adjusted],
            "wages_watermark": watermark,
        },
    )
    return report


def _adjust_closed_months(
    conn: Connection,
    month: date,
    previous: Sequence[Any],
    watermark: int,
    columns: str,
) -> tuple[date, ...]:
    """Adjustment lines for closed months whose declared wages changed since assessed.

    Candidates are the workers with a declared row added since the last run (corrections add
    rows), and the workers billed for the last closed month whom no row covers any more (a
    decrease closing a running row in place). For each closed month the candidates' expected
    contributions, minus what their lines already hold, becomes an adjustment line.
    """
    if not previous:
        return ()
    months = [_as_date(m) for m, _ in previous]
    last_closed = months[-1]
    prev_watermark = int(str(previous[-1][1]))
    conn.execute(text("DELETE FROM contribution_recheck"))
    conn.execute(
        text(
            "INSERT INTO contribution_recheck (employer_code, bhxh_code) "
            "SELECT employer_code, bhxh_code FROM declared_wages "
            "WHERE id > :prev AND id <= :watermark AND from_month < :m "
            "UNION "
            "SELECT l.employer_code, l.bhxh_code FROM contribution_lines l "
            "WHERE l.month = :last AND l.kind = 'due' AND NOT EXISTS ("
            "  SELECT 1 FROM declared_wages d WHERE d.employer_code = l.employer_code "
            f"  AND d.bhxh_code = l.bhxh_code AND d.id <= :watermark AND {covering('d', 'last')})"
        ),
        {"prev": prev_watermark, "watermark": watermark, "m": month, "last": last_closed},
    )
    earliest = conn.execute(
        text(
            "SELECT MIN(d.from_month) FROM declared_wages d JOIN contribution_recheck c "
            "ON c.employer_code = d.employer_code AND c.bhxh_code = d.bhxh_code "
            "WHERE d.id <= :watermark"
        ),
        {"watermark": watermark},
    ).scalar_one()
    if earliest is None:
        return ()
    adjusted: list[date] = []
    candidate = (
        "EXISTS (SELECT 1 FROM contribution_recheck c WHERE c.employer_code = {a}.employer_code "
        "AND c.bhxh_code = {a}.bhxh_code)"
    )
    sums = ", ".join(f"SUM({c})" for c in (*AMOUNT_COLUMNS, "total"))
    nonzero = " OR ".join(f"SUM({c}) <> 0" for c in AMOUNT_COLUMNS)
    recorded_cols = ", ".join(f"-{c}" for c in (*AMOUNT_COLUMNS, "total"))
    for closed in months:
        if closed < _as_date(earliest) and closed != last_closed:
            continue
        params = MonthParameters.of(closed)
        result = conn.execute(
            text(
                f"INSERT INTO contribution_lines ({columns}) "
                f"SELECT employer_code, bhxh_code, :k, :m, 'adjustment', SUM(wage), MAX(region), "
                f"{sums} FROM ("
                f"  SELECT employer_code, bhxh_code, wage, region, "
                f"         {', '.join(AMOUNT_COLUMNS)}, total "
                f"  FROM ({expected_sql('', candidate.format(a='d'))}) expected "
                f"  UNION ALL "
                f"  SELECT employer_code, bhxh_code, 0, 0, {recorded_cols} "
                f"  FROM contribution_lines l WHERE l.month = :k AND {candidate.format(a='l')}"
                f") diff GROUP BY employer_code, bhxh_code HAVING {nonzero}"
            ),
            {**params.bind(), "watermark": watermark, "m": month},
        )
        if result.rowcount:
            adjusted.append(closed)
    conn.execute(text("DELETE FROM contribution_recheck"))
    return tuple(adjusted)


def _write_assessments(conn: Connection, month: date) -> None:
    """Per employer and fund: the month's contributions and the adjustments it carries."""
    for fund, (employee, employer) in FUND_COLUMNS.items():
        ee = employee or "0"
        conn.execute(
            text(
                "INSERT INTO contribution_assessments (employer_code, month, fund, workers, "
                "due_employee, due_employer, adjustment_employee, adjustment_employer) "
                "SELECT employer_code, :m, :fund, "
                "SUM(CASE WHEN kind = 'due' THEN 1 ELSE 0 END), "
                f"SUM(CASE WHEN kind = 'due' THEN {ee} ELSE 0 END), "
                f"SUM(CASE WHEN kind = 'due' THEN {employer} ELSE 0 END), "
                f"SUM(CASE WHEN kind = 'adjustment' THEN {ee} ELSE 0 END), "
                f"SUM(CASE WHEN kind = 'adjustment' THEN {employer} ELSE 0 END) "
                "FROM contribution_lines WHERE assessed_month = :m GROUP BY employer_code"
            ),
            {"m": month, "fund": fund.value},
        )


def _write_charges(conn: Connection, month: date) -> None:
    """The month's due and adjustment charges; a downward adjustment becomes a credit."""
    conn.execute(
        text(
            "INSERT INTO contribution_charges (employer_code, month, kind, amount, settled) "
            "SELECT employer_code, :m, kind, SUM(total), 0 FROM contribution_lines "
            "WHERE assessed_month = :m GROUP BY employer_code, kind HAVING SUM(total) > 0"
        ),
        {"m": month},
    )
    conn.execute(
        text(
            "INSERT INTO contribution_payments (employer_code, source, reference, amount, "
            "unallocated, paid_on) "
            "SELECT employer_code, 'credit', 'ADJ-' || employer_code || '-' || CAST(:tag AS VARCHAR(6)), "
            "-SUM(total), -SUM(total), :m FROM contribution_lines "
            "WHERE assessed_month = :m AND kind = 'adjustment' "
            "GROUP BY employer_code HAVING SUM(total) < 0"
        ),
        {"m": month, "tag": month.strftime("%Y%m")},
    )


def _days_between(conn: Connection, later: str, earlier: str) -> str:
    """SQL for the whole days from ``earlier`` to ``later`` (both dates)."""
    if conn.dialect.name == "postgresql":
        return f"(CAST({later} AS DATE) - CAST({earlier} AS DATE))"
    return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"


def _charge_interest(conn: Connection, month: date) -> None:
    """Interest for the days of M-1 on principal raised by months up to M-3 still unpaid."""
    period = add_months(month, -1)
    end = last_day(period)
    days = end.day
    weighted = f"a.amount * ({_days_between(conn, ':pend', 'a.settled_on')} + 1)"
    conn.execute(
        text(
            "INSERT INTO contribution_charges (employer_code, month, kind, amount, settled) "
            f"SELECT employer_code, :m, 'interest', (2 * late * {LATE_INTEREST_BP_PER_DAY} "
            "+ 10000) / 20000, 0 FROM ("
            "  SELECT c.employer_code, "
            "         CAST(SUM((c.amount - COALESCE(b.paid, 0)) * :days - COALESCE(p.weighted, 0)) "
            "AS BIGINT) AS late "
            "  FROM contribution_charges c "
            "  LEFT JOIN (SELECT charge_id, SUM(amount) AS paid FROM contribution_allocations "
            "             WHERE settled_on < :pstart GROUP BY charge_id) b ON b.charge_id = c.id "
            f"  LEFT JOIN (SELECT a.charge_id, SUM({weighted}) AS weighted "
            "             FROM contribution_allocations a "
            "             WHERE a.settled_on >= :pstart AND a.settled_on <= :pend "
            "             GROUP BY a.charge_id) p ON p.charge_id = c.id "
            "  WHERE c.kind IN ('due', 'adjustment') AND c.month <= :overdue "
            "    AND c.amount > COALESCE(b.paid, 0) "
            "  GROUP BY c.employer_code) owed "
            f"WHERE (2 * late * {LATE_INTEREST_BP_PER_DAY} + 10000) / 20000 > 0"
        ),
        {
            "m": month,
            "days": days,
            "pstart": period,
            "pend": end,
            "overdue": add_months(month, -3),
        },
    )


def _write_events(conn: Connection, month: date) -> None:
    """One outbox event per employer charged in the month (its statement is ready)."""
    build = "json_build_object" if conn.dialect.name == "postgresql" else "json_object"
    conn.execute(
        text(
            "INSERT INTO outbox_events (topic, subject_key, payload) "
            f"SELECT :topic, employer_code, {build}('employer_code', employer_code, "
            "'month', CAST(:tag AS VARCHAR(7)), 'due', SUM(CASE WHEN kind = 'due' THEN amount ELSE 0 END), "
            "'adjustment', SUM(CASE WHEN kind = 'adjustment' THEN amount ELSE 0 END), "
            "'interest', SUM(CASE WHEN kind = 'interest' THEN amount ELSE 0 END)) "
            "FROM contribution_charges WHERE month = :m GROUP BY employer_code"
        ),
        {"topic": TOPIC_STATEMENT, "m": month, "tag": month.strftime("%Y-%m")},
    )
