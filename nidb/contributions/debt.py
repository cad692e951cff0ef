"""Debt (nợ đóng): debtors per province, reminders written to the outbox, delivered by e-mail.

An employer is "in debt one month or more" at assessed month M when charges raised by a month
before M are not settled in full (the month's contributions were due by the end of the month
after it; Law on Social Insurance 2024 Art. 34). Employers whose enterprise closed in the
business registry (``employers.status`` 'closed', kept by the business feed) are flagged: their
debt is for staff to pursue, not for a reminder alone.

Reminders follow the outbox pattern: ``remind`` writes one ``contribution_reminders`` row (one
per employer and month: re-running adds none) and its outbox event in one transaction;
``send_reminders`` delivers the unsent ones over SMTP after commit and marks each sent (at
least once: a crash between sending and marking sends it again).
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from datetime import date
from email.message import EmailMessage

from sqlalchemy import Connection, Engine, text

from nidb.contributions.months import add_months, last_day, vn_month
from nidb.contributions.statement import dong
from nidb.store.audit import write_audit, write_event

__all__ = ["Debtor", "debtors", "remind", "send_reminders"]

TOPIC_REMINDER = "contributions.reminder"
"""Outbox topic: an employer in debt was reminded (payload: month, debt, months, e-mail)."""
SENDER = "thongbao@baohiemxahoi.invalid"


@dataclass(frozen=True, slots=True)
class Debtor:
    """An employer with unsettled charges of months before the given month."""

    employer_code: str
    name: str
    province: str | None
    email: str | None
    debt: int
    months: int
    oldest: date
    closed: bool


def _as_date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def debtors(conn: Connection, month: date, province: str | None = None) -> list[Debtor]:
    """Employers in debt one month or more at ``month``, largest debt first."""
    where = "AND e.province = :p" if province else ""
    rows = conn.execute(
        text(
            "SELECT c.employer_code, COALESCE(e.name, c.employer_code), e.province, e.email, "
            "SUM(c.amount - c.settled), COUNT(DISTINCT c.month), MIN(c.month), "
            "MAX(CASE WHEN e.status = 'closed' THEN 1 ELSE 0 END) "
            "FROM contribution_charges c LEFT JOIN employers e ON e.employer_code = c.employer_code "
            f"WHERE c.settled < c.amount AND c.month < :m {where} "
            "GROUP BY c.employer_code, e.name, e.province, e.email "
            "ORDER BY SUM(c.amount - c.settled) DESC, c.employer_code"
        ),
        {"m": month, "p": province},
    ).all()
    return [
        Debtor(str(c), str(n), p, em, int(d), int(k), _as_date(o), bool(x))
        for c, n, p, em, d, k, o, x in rows
    ]


def remind(engine: Engine, month: date, *, actor: str) -> int:
    """Write a reminder for every debtor at ``month`` not yet reminded for it; returns how many."""
    with engine.begin() as conn:
        already = {
            str(e)
            for (e,) in conn.execute(
                text("SELECT employer_code FROM contribution_reminders WHERE month = :m"),
                {"m": month},
            )
        }
        written = 0
        for debtor in debtors(conn, month):
            if debtor.employer_code in already:
                continue
            conn.execute(
                text(
                    "INSERT INTO contribution_reminders (employer_code, month, email, debt, "
                    "months, oldest, closed) VALUES (:e, :m, :email, :d, :k, :o, :c)"
                ),
                {
                    "e": debtor.employer_code,
                    "m": month,
                    "email": debtor.email,
                    "d": debtor.debt,
                    "k": debtor.months,
                    "o": debtor.oldest,
                    "c": debtor.closed,
                },
            )
            write_event(
                conn,
                TOPIC_REMINDER,
                debtor.employer_code,
                {
                    "month": month.strftime("%Y-%m"),
                    "debt": debtor.debt,
                    "months": debtor.months,
                    "oldest": debtor.oldest.strftime("%Y-%m"),
                    "closed": debtor.closed,
                },
            )
            written += 1
        write_audit(
            conn,
            actor=actor,
            action="contributions.remind",
            subject_type="contribution_month",
            subject_id=month.strftime("%Y-%m"),
            purpose="debt reminders",
            detail={"reminders": written},
        )
    return written


def _message(
    code: str, name: str, to: str, month: date, debt: int, months: int, oldest: date
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = SENDER
    message["To"] = to
    message["Subject"] = f"Thông báo nợ đóng BHXH, BHYT, BHTN — {vn_month(month)}"
    due_by = last_day(add_months(oldest, 1))
    message.set_content(
        f"Kính gửi {name},\n\n"
        f"Đến {vn_month(month)}, đơn vị còn nợ {dong(debt)} tiền đóng bảo hiểm xã hội, bảo hiểm "
        f"y tế, bảo hiểm thất nghiệp của {months} tháng, từ {vn_month(oldest)} "
        f"(hạn nộp là ngày {due_by:%d/%m/%Y}).\n"
        "Số tiền chậm đóng bị tính lãi 0,03% mỗi ngày (Luật Bảo hiểm xã hội 2024, Điều 40).\n"
        "Đề nghị đơn vị nộp ngay; khi chuyển khoản xin ghi nội dung "
        f'"BHXH {code}".\n\n'
        "Cơ quan Bảo hiểm xã hội\n"
    )
    return message


def send_reminders(engine: Engine, host: str, port: int) -> tuple[int, int]:
    """Deliver unsent reminders over SMTP; returns (sent, without an e-mail address)."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT r.id, r.employer_code, COALESCE(e.name, r.employer_code), r.email, "
                "r.month, r.debt, r.months, r.oldest FROM contribution_reminders r "
                "LEFT JOIN employers e ON e.employer_code = r.employer_code "
                "WHERE r.sent_at IS NULL ORDER BY r.id"
            )
        ).all()
    sent = missing = 0
    if not rows:
        return 0, 0
    with smtplib.SMTP(host, port, timeout=30) as smtp:
        for rid, code, name, email, month, debt, months, oldest in rows:
            if not email:
                missing += 1
                continue
            smtp.send_message(
                _message(
                    str(code),
                    str(name),
                    str(email),
                    _as_date(month),
                    int(debt),
                    int(months),
                    _as_date(oldest),
                )
            )
            with engine.begin() as conn:
                conn.execute(
                    text(
                        "UPDATE contribution_reminders SET sent_at = CURRENT_TIMESTAMP "
                        "WHERE id = :i"
                    ),
                    {"i": rid},
                )
            sent += 1
    return sent, missing
