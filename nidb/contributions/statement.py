"""The monthly statement of an employer's account (C12-TS, thông báo kết quả đóng BHXH, BHYT,
BHTN): opening debt, the month's amount per fund, adjustments, interest, payments, closing debt.

As data (a dict, JSON and CSV) and as PDF. The period is the calendar month: payments count in
it by the day they were paid; the opening debt is every charge of earlier months less every
payment made before the month (negative: money paid ahead).
"""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

from sqlalchemy import Connection, text

from nidb.contributions.months import add_months, vn_month
from nidb.domain.catalogues import Fund

__all__ = ["FUND_LABELS", "dong", "statement", "statement_csv", "statement_pdf", "vn_date"]

FUND_LABELS: dict[str, str] = {
    Fund.PENSION_SURVIVORS.value: "Hưu trí, tử tuất",
    Fund.SICKNESS_MATERNITY.value: "Ốm đau, thai sản",
    Fund.OCCUPATIONAL.value: "Tai nạn lao động, bệnh nghề nghiệp",
    Fund.HEALTH.value: "Bảo hiểm y tế",
    Fund.UNEMPLOYMENT.value: "Bảo hiểm thất nghiệp",
}
_FUND_ORDER = list(FUND_LABELS)


def dong(amount: int) -> str:
    """Money as Vietnamese screens show it: '1.234.567 đồng' (a minus sign when negative)."""
    return f"{amount:,}".replace(",", ".") + " đồng"


def vn_date(day: date) -> str:
    """A day as dd/mm/yyyy."""
    return day.strftime("%d/%m/%Y")


def _as_date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _scalar(conn: Connection, sql: str, params: dict[str, Any]) -> int:
    return int(conn.execute(text(sql), params).scalar_one() or 0)


def statement(conn: Connection, employer_code: str, month: date) -> dict[str, Any]:
    """The statement of ``employer_code`` for ``month`` as plain data (amounts in đồng)."""
    p = {"e": employer_code, "m": month}
    after = add_months(month, 1)
    p_next = {**p, "n": after}
    name = conn.execute(
        text("SELECT name, province FROM employers WHERE employer_code = :e"), p
    ).one_or_none()
    charged_before = _scalar(
        conn,
        "SELECT SUM(amount) FROM contribution_charges WHERE employer_code = :e AND month < :m",
        p,
    )
    paid_before = _scalar(
        conn,
        "SELECT SUM(amount) FROM contribution_payments WHERE employer_code = :e AND paid_on < :m",
        p,
    )
    funds = {
        str(f): (int(w), int(de), int(dr), int(ae), int(ar))
        for f, w, de, dr, ae, ar in conn.execute(
            text(
                "SELECT fund, workers, due_employee, due_employer, adjustment_employee, "
                "adjustment_employer FROM contribution_assessments "
                "WHERE employer_code = :e AND month = :m"
            ),
            p,
        ).all()
    }
    charges = {
        str(k): int(a)
        for k, a in conn.execute(
            text(
                "SELECT kind, amount FROM contribution_charges "
                "WHERE employer_code = :e AND month = :m"
            ),
            p,
        ).all()
    }
    payments = [
        {
            "paid_on": _as_date(d).isoformat(),
            "source": str(s),
            "reference": str(r),
            "amount": int(a),
        }
        for d, s, r, a in conn.execute(
            text(
                "SELECT paid_on, source, reference, amount FROM contribution_payments "
                "WHERE employer_code = :e AND paid_on >= :m AND paid_on < :n ORDER BY paid_on, id"
            ),
            p_next,
        ).all()
    ]
    workers = max((v[0] for v in funds.values()), default=0)
    # a net downward adjustment is not a charge but a credit, listed with the payments
    adjustment = charges.get("adjustment", 0)
    opening = charged_before - paid_before
    due = charges.get("due", 0)
    interest = charges.get("interest", 0)
    paid = sum(int(str(x["amount"])) for x in payments)
    closing = opening + due + adjustment + interest - paid
    return {
        "employer_code": employer_code,
        "employer_name": str(name[0]) if name else employer_code,
        "province": str(name[1]) if name else None,
        "month": month.strftime("%Y-%m"),
        "workers": workers,
        "opening_debt": opening,
        "funds": [
            {
                "fund": f,
                "label": FUND_LABELS[f],
                "due_employee": funds[f][1],
                "due_employer": funds[f][2],
                "adjustment_employee": funds[f][3],
                "adjustment_employer": funds[f][4],
            }
            for f in _FUND_ORDER
            if f in funds
        ],
        "due": due,
        "adjustment": adjustment,
        "interest": interest,
        "payments": payments,
        "paid": paid,
        "closing_debt": closing,
    }


def statement_csv(data: dict[str, Any]) -> str:
    """The statement as CSV: one row per fund, then the account's lines (amounts in đồng)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(
        [
            "employer_code",
            "month",
            "fund",
            "due_employee",
            "due_employer",
            "adjustment_employee",
            "adjustment_employer",
        ]
    )
    for f in data["funds"]:
        writer.writerow(
            [
                data["employer_code"],
                data["month"],
                f["fund"],
                f["due_employee"],
                f["due_employer"],
                f["adjustment_employee"],
                f["adjustment_employer"],
            ]
        )
    for key in ("opening_debt", "due", "adjustment", "interest", "paid", "closing_debt"):
        writer.writerow([data["employer_code"], data["month"], key, "", data[key], "", ""])
    return buffer.getvalue()


def statement_pdf(data: dict[str, Any]) -> bytes:
    """The statement as a one-page PDF in Vietnamese (DejaVu Sans, as the reports use)."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    from nidb.analytics.report_pdf import register_fonts

    register_fonts()
    body = ParagraphStyle("body", fontName="DejaVuSans", fontSize=10, leading=13)
    title = ParagraphStyle("title", parent=body, fontName="DejaVuSans-Bold", fontSize=13)
    month = date.fromisoformat(data["month"] + "-01")
    story: list[Any] = [
        Paragraph("THÔNG BÁO KẾT QUẢ ĐÓNG BHXH, BHYT, BHTN (C12-TS)", title),
        Spacer(1, 6),
        Paragraph(f"Đơn vị: {data['employer_name']} — mã đơn vị {data['employer_code']}", body),
        Paragraph(f"Kỳ: {vn_month(month)} — số lao động: {data['workers']}", body),
        Spacer(1, 8),
    ]
    rows: list[list[str]] = [["Quỹ", "Người lao động", "Đơn vị", "Điều chỉnh"]]
    for f in data["funds"]:
        rows.append(
            [
                f["label"],
                dong(f["due_employee"]),
                dong(f["due_employer"]),
                dong(f["adjustment_employee"] + f["adjustment_employer"]),
            ]
        )
    table = Table(rows, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), "DejaVuSans", 9),
                ("FONT", (0, 0), (-1, 0), "DejaVuSans-Bold", 9),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
            ]
        )
    )
    story += [table, Spacer(1, 10)]
    account = [
        ["Nợ đầu kỳ", dong(data["opening_debt"])],
        ["Phải đóng trong kỳ", dong(data["due"])],
        ["Điều chỉnh kỳ trước", dong(data["adjustment"])],
        ["Lãi chậm đóng", dong(data["interest"])],
        ["Số tiền đã nộp trong kỳ", dong(data["paid"])],
        ["Nợ cuối kỳ", dong(data["closing_debt"])],
    ]
    summary = Table(account, hAlign="LEFT")
    summary.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), "DejaVuSans", 10),
                ("FONT", (0, -1), (-1, -1), "DejaVuSans-Bold", 10),
                ("ALIGN", (1, 0), (1, -1), "RIGHT"),
            ]
        )
    )
    story += [summary, Spacer(1, 10)]
    for pay in data["payments"]:
        what = "điều chỉnh giảm" if pay["source"] == "credit" else "đã nộp"
        day = vn_date(date.fromisoformat(pay["paid_on"]))
        story.append(Paragraph(f"Ngày {day}: {what} {dong(pay['amount'])}", body))
    buffer = io.BytesIO()
    SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=f"C12-TS {data['employer_code']} {data['month']}",
        invariant=True,
    ).build(story)
    return buffer.getvalue()
