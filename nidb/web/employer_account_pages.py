"""The employer's account pages under ``/don-vi/`` (Vietnamese): one declaration with its rows
and how to correct it, the monthly statements (C12-TS, on screen and as PDF), the payments
with the months each settled, and the debt with its interest and how to pay.

Every page reads the signed-in employer's own rows: the employer code comes from the session,
never from the URL; a declaration number or a month of another employer answers the same 404
as one that does not exist.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import Connection, text

from nidb.contributions.account import (
    INTEREST_RULE,
    assessed_months,
    debt_months,
    payments,
    transfer_note,
)
from nidb.contributions.gateway import start_gateway_payment
from nidb.contributions.statement import statement, statement_pdf
from nidb.employers.queries import declaration
from nidb.services.errors import ServiceError
from nidb.web.employer_pages import FIELD_LABELS, error_text
from nidb.web.routing import see_other, web_router
from nidb.web.sessions import EmployerPrincipal, current_employer, engine_of
from nidb.web.templating import render

router = web_router("/don-vi")
EmployerDep = Annotated[EmployerPrincipal, Depends(current_employer)]

_MONTH = re.compile(r"(20\d\d)-(0[1-9]|1[0-2])")
_NUMBER = re.compile(r"[A-Za-z0-9._-]{1,40}")

SOURCE_LABELS = {
    "gateway": "Cổng thanh toán điện tử",
    "bank": "Chuyển khoản ngân hàng",
    "manual": "Nộp tại cơ quan BHXH",
    "credit": "Điều chỉnh giảm kỳ trước",
}
CHARGE_LABELS = {
    "due": "Tiền đóng",
    "adjustment": "Điều chỉnh",
    "interest": "Lãi chậm đóng",
}
CHANNEL_LABELS = {
    "api": "Phần mềm kê khai (có ký số)",
    "ivan": "Nhà cung cấp I-VAN (có ký số)",
    "web": "Trang giao dịch của đơn vị",
    "cli": "Cơ quan BHXH nhập hộ",
}
FORM_OF_KIND = {"increase": "bao-tang", "decrease": "bao-giam", "salary_change": "dieu-chinh-luong"}
"""The page where a refused one-worker declaration of each kind is corrected and sent again."""


def _not_found(request: Request, employer: EmployerPrincipal, what: str) -> HTMLResponse:
    return render(
        request, "don-vi/khong-thay.html", status=404, employer=employer, what=what,
        active_nav=None,
    )  # fmt: skip


def _month(raw: str) -> date | None:
    match = _MONTH.fullmatch(raw)
    return date(int(match[1]), int(match[2]), 1) if match else None


def _has_month(conn: Connection, employer_code: str, month: date) -> bool:
    return (
        conn.execute(
            text(
                "SELECT 1 FROM contribution_charges WHERE employer_code = :e AND month = :m "
                "UNION ALL SELECT 1 FROM contribution_assessments "
                "WHERE employer_code = :e AND month = :m"
            ),
            {"e": employer_code, "m": month},
        ).first()
        is not None
    )


# --- one declaration ---------------------------------------------------------------------------


@router.get("/ho-so/{number}")
def declaration_page(request: Request, number: str, employer: EmployerDep) -> HTMLResponse:
    """One declaration: its rows, what became of each, and how to correct a refused one."""
    if not _NUMBER.fullmatch(number):
        return _not_found(request, employer, "hồ sơ")
    with engine_of(request).connect() as conn:
        found = declaration(conn, employer.employer_code, number)
    if found is None:
        return _not_found(request, employer, "hồ sơ")
    body = found["body"] if isinstance(found["body"], dict) else {}
    listed = body.get("workers")
    rows: list[Any] = listed if isinstance(listed, list) else []
    errors = [
        (e["row"], FIELD_LABELS.get(str(e["field"]), "Dòng"), e.get("value"), error_text(e))
        for e in found["errors"] or []
    ]
    resend = None
    if found["status"] == "refused" and found["kind"] in FORM_OF_KIND and len(rows) == 1:
        resend = f"/don-vi/{FORM_OF_KIND[found['kind']]}?so={number}"
    results = {
        int(r["row"]): r
        for r in found["results"] or []
        if isinstance(r, dict) and isinstance(r.get("row"), int)
    }
    month = str(body.get("month") or "")
    iso = _MONTH.fullmatch(month)
    return render(
        request, "don-vi/ho-so-chi-tiet.html", employer=employer, d=found, rows=rows,
        errors=errors, results_by_row=results, resend=resend,
        month_text=f"{iso[2]}/{iso[1]}" if iso else month,
        channel=CHANNEL_LABELS.get(found["channel"], "Khác"), active_nav="records",
    )  # fmt: skip


# --- statements --------------------------------------------------------------------------------


@router.get("/thong-bao")
def statements(request: Request, employer: EmployerDep) -> HTMLResponse:
    """The months assessed, each with its statement (C12-TS) on screen and as PDF."""
    with engine_of(request).connect() as conn:
        months = assessed_months(conn, employer.employer_code)
    return render(
        request, "don-vi/thong-bao.html", employer=employer, months=months,
        active_nav="statements",
    )  # fmt: skip


@router.get("/thong-bao/{month}")
def statement_page(request: Request, month: str, employer: EmployerDep) -> HTMLResponse:
    """The statement of one month on screen."""
    first = _month(month)
    with engine_of(request).connect() as conn:
        if first is None or not _has_month(conn, employer.employer_code, first):
            return _not_found(request, employer, "thông báo của tháng này")
        data = statement(conn, employer.employer_code, first)
    for pay in data["payments"]:
        pay["paid_on"] = date.fromisoformat(pay["paid_on"])
    return render(
        request, "don-vi/thong-bao-thang.html", employer=employer, s=data, month=first,
        month_slug=month, source_labels=SOURCE_LABELS, active_nav="statements",
    )  # fmt: skip


@router.get("/thong-bao/{month}/c12-ts.pdf", response_model=None)
def statement_download(request: Request, month: str, employer: EmployerDep) -> Response:
    """The statement of one month as PDF."""
    first = _month(month)
    with engine_of(request).connect() as conn:
        if first is None or not _has_month(conn, employer.employer_code, first):
            return _not_found(request, employer, "thông báo của tháng này")
        data = statement(conn, employer.employer_code, first)
    name = f"C12-TS-{employer.employer_code}-{month}.pdf"
    return Response(
        statement_pdf(data),
        media_type="application/pdf",
        headers={
            "content-disposition": f'attachment; filename="{name}"',
            "cache-control": "no-store",
        },
    )


# --- payments and debt -------------------------------------------------------------------------


@router.get("/thanh-toan")
def payments_page(request: Request, employer: EmployerDep) -> HTMLResponse:
    """Money received and the months each payment settled (oldest debt first)."""
    with engine_of(request).connect() as conn:
        found = payments(conn, employer.employer_code)
    return render(
        request, "don-vi/thanh-toan.html", employer=employer, payments=found,
        source_labels=SOURCE_LABELS, charge_labels=CHARGE_LABELS, active_nav="payments",
    )  # fmt: skip


@router.get("/no")
def debt_page(request: Request, employer: EmployerDep) -> HTMLResponse:
    """The months owed, principal and interest, the deadlines, and how to pay."""
    return _debt_page(request, employer)


@router.post("/no/thanh-toan", response_model=None)
def pay_at_gateway(request: Request, employer: EmployerDep) -> Response:
    """Order the whole debt at the payment gateway and go to its pay page; the gateway's
    signed callback records the payment, which settles the oldest months first."""
    try:
        order = start_gateway_payment(
            engine_of(request), employer.employer_code, return_path="/don-vi/thanh-toan"
        )
    except ServiceError as error:
        message = error.message_vi[:1].upper() + error.message_vi[1:] + "."
        status = 422 if error.rule == "NOTHING_TO_PAY" else 502
        return _debt_page(request, employer, message, status)
    return see_other(order.pay_url)


def _debt_page(
    request: Request, employer: EmployerPrincipal, error: str = "", status: int = 200
) -> HTMLResponse:
    with engine_of(request).connect() as conn:
        months = debt_months(conn, employer.employer_code)
        ahead = int(
            conn.execute(
                text(
                    "SELECT COALESCE(SUM(unallocated), 0) FROM contribution_payments "
                    "WHERE employer_code = :e"
                ),
                {"e": employer.employer_code},
            ).scalar_one()
        )
    ctx: dict[str, Any] = {
        "months": months,
        "principal": sum(m.principal for m in months),
        "interest": sum(m.interest for m in months),
        "total": sum(m.total for m in months),
        "ahead": ahead,
        "interest_rule": INTEREST_RULE,
        "transfer_note": transfer_note(employer.employer_code),
    }
    return render(
        request, "don-vi/no.html", status=status, employer=employer, error=error,
        active_nav="debt", **ctx,
    )  # fmt: skip
