"""The contributions commands: `nidb contributions ...`.

Mounted by nidb.cli (`mount`). Thin: they parse, call nidb.contributions, print, and set exit
codes (0 done; 1 the database failed; 2 bad input named in the message). The store is imported
inside the commands, so that `nidb --help` stays fast.
"""

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from nidb.terminal import fail, handled, out

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["contributions_app", "mount"]

contributions_app = typer.Typer(
    help="Tính số phải đóng, thông báo C12-TS, nộp tiền và nợ (contributions, payments, debt).",
    no_args_is_help=True,
)


def mount(app: typer.Typer) -> None:
    """Add `nidb contributions` to the main command."""
    app.add_typer(contributions_app, name="contributions")


def _month(text: str) -> "object":
    from nidb.contributions.months import parse_month
    from nidb.domain.errors import DomainError

    try:
        return parse_month(text)
    except DomainError as error:
        raise fail(f"--month: {error.reason}", 2) from None


@contributions_app.command("assess")
def assess_command(
    month: Annotated[str, typer.Option("--month", help="Tháng, ví dụ 2026-11")],
) -> None:
    """Tính số phải đóng của một tháng cho mọi đơn vị (assess one month, once)."""
    from datetime import date

    from nidb.contributions.assess import assess_month
    from nidb.contributions.statement import dong
    from nidb.domain.errors import DomainError
    from nidb.settings import actor_name
    from nidb.store.db import open_engine

    first = _month(month)
    assert isinstance(first, date)
    out.print(f"Đang tính tháng {first:%m/%Y}… (assessing)")
    with handled():
        try:
            report = assess_month(
                open_engine(), first, actor=actor_name(), progress=_step_printer()
            )
        except DomainError as error:
            raise fail(f"--month: {error.reason}", 2) from None
    if report.already:
        out.print(f"Tháng {first:%m/%Y} đã tính trước đây; không thay đổi gì (already assessed).")
    else:
        out.print(f"Đã tính tháng {first:%m/%Y} (assessed).")
    out.print(f"  Lao động (workers): {report.workers:,}".replace(",", "."))
    out.print(f"  Đơn vị (employers): {report.employers:,}".replace(",", "."))
    out.print(f"  Phải đóng (due): {dong(report.total_due)}")
    out.print(f"  Điều chỉnh (adjustments): {dong(report.total_adjustment)}")
    out.print(f"  Lãi chậm đóng (interest): {dong(report.total_interest)}")
    for adjusted in report.adjusted_months:
        out.print(f"  Điều chỉnh tháng {adjusted:%m/%Y}")


def _step_printer() -> "Callable[[str], None]":
    labels = {
        "lines": "đã tính từng lao động (worker lines)",
        "adjustments": "đã điều chỉnh các tháng trước (adjustments)",
        "charges": "đã ghi số phải đóng và lãi (charges)",
    }

    def step(name: str) -> None:
        out.print(f"  … {labels.get(name, name)}")

    return step


@contributions_app.command("statement")
def statement_command(
    employer: Annotated[str, typer.Argument(help="Mã đơn vị")],
    month: Annotated[str, typer.Option("--month", help="Tháng, ví dụ 2026-11")],
    fmt: Annotated[str, typer.Option("--format", help="json, csv hoặc pdf")] = "json",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Tệp ghi ra")] = None,
) -> None:
    """Thông báo kết quả đóng C12-TS của một đơn vị (the monthly statement)."""
    from datetime import date

    from nidb.contributions.statement import statement, statement_csv, statement_pdf
    from nidb.store.db import open_engine

    first = _month(month)
    assert isinstance(first, date)
    if fmt not in ("json", "csv", "pdf"):
        raise fail(f"--format: {fmt!r} không phải json, csv, pdf (not json, csv or pdf)", 2)
    if fmt == "pdf" and output is None:
        raise fail("--format pdf cần --output (a PDF needs --output)", 2)
    with handled(), open_engine().connect() as conn:
        data = statement(conn, employer, first)
    if fmt == "pdf":
        assert output is not None
        output.write_bytes(statement_pdf(data))
        out.print(f"Đã ghi {output}")
        return
    body = json.dumps(data, ensure_ascii=False, indent=2) if fmt == "json" else statement_csv(data)
    if output is None:
        sys.stdout.write(body + ("\n" if fmt == "json" else ""))
    else:
        output.write_text(body, encoding="utf-8")
        out.print(f"Đã ghi {output}")


@contributions_app.command("pay")
def pay_command(
    employer: Annotated[str, typer.Argument(help="Mã đơn vị")],
    amount: Annotated[int, typer.Option("--amount", min=1, help="Số tiền (đồng)")],
    reference: Annotated[str, typer.Option("--reference", help="Số chứng từ")],
    paid_on: Annotated[str, typer.Option("--paid-on", help="Ngày nộp, NNNN-TT-NN")],
) -> None:
    """Ghi một khoản nộp do cán bộ nhập (record a payment by hand; settles oldest debt first)."""
    from datetime import date

    from nidb.contributions.ledger import record_payment
    from nidb.contributions.statement import dong
    from nidb.settings import actor_name
    from nidb.store.db import open_engine

    try:
        day = date.fromisoformat(paid_on)
    except ValueError:
        raise fail(
            f"--paid-on: {paid_on!r} không phải ngày NNNN-TT-NN (not YYYY-MM-DD)", 2
        ) from None
    with handled(), open_engine().begin() as conn:
        result = record_payment(
            conn,
            employer_code=employer,
            source="manual",
            reference=reference,
            amount=amount,
            paid_on=day,
            actor=actor_name(),
        )
    if result.duplicate:
        out.print(f"Chứng từ {reference} đã ghi trước đây (already recorded).")
    else:
        out.print(f"Đã ghi {dong(amount)}; đã trừ nợ {dong(result.settled)}.")


@contributions_app.command("paid-through")
def paid_through_command(
    bhxh_code: Annotated[str, typer.Argument(help="Mã số BHXH")],
) -> None:
    """Đã đóng đến tháng nào (the last month paid for a worker)."""
    from nidb.contributions.ledger import paid_through
    from nidb.store.db import open_engine

    with handled(), open_engine().connect() as conn:
        month = paid_through(conn, bhxh_code)
    out.print(f"Đã đóng đến tháng {month:%m/%Y}" if month else "Chưa có tháng nào đã đóng.")


@contributions_app.command("region")
def region_command(
    employer: Annotated[str, typer.Argument(help="Mã đơn vị")],
    region: Annotated[int, typer.Argument(min=1, max=4, help="Vùng 1..4 (vùng I..IV)")],
) -> None:
    """Đặt vùng lương tối thiểu của đơn vị (set an employer's minimum-wage region)."""
    from nidb.contributions.regions import set_region
    from nidb.settings import actor_name
    from nidb.store.db import open_engine

    with handled():
        set_region(open_engine(), employer, region, actor=actor_name())
    out.print(f"Đơn vị {employer}: vùng {region}")


@contributions_app.command("reconcile")
def reconcile_command(
    path: Annotated[Path, typer.Argument(help="Tệp sao kê camt.053 (XML)", exists=True)],
) -> None:
    """Đối soát một sao kê ngân hàng camt.053 (reconcile a bank statement, once)."""
    from nidb.contributions.camt import CamtError
    from nidb.contributions.reconcile import reconcile_file
    from nidb.contributions.statement import dong
    from nidb.settings import actor_name
    from nidb.store.db import open_engine

    with handled():
        try:
            report = reconcile_file(
                open_engine(),
                path,
                actor=actor_name(),
                progress=lambda n: out.print(f"  … {n:,} dòng đã đọc (lines read)"),
            )
        except CamtError as error:
            raise fail(str(error), 2) from None
    m = report.matched
    out.print(f"Sao kê {', '.join(sorted(report.statement_ids))}: {report.lines} dòng có")
    out.print(f"  Đã đối soát trước đây (already): {report.already}")
    out.print(
        f"  Khớp (matched): theo nội dung {m['reference']}, theo tài khoản {m['account']}, "
        f"theo số tiền {m['amount']} — {dong(report.amount_matched)}"
    )
    out.print(
        f"  Chưa khớp, chờ cán bộ (unmatched): {report.unmatched} — {dong(report.amount_unmatched)}"
    )


unmatched_app = typer.Typer(
    help="Dòng sao kê chưa khớp, chờ cán bộ (unmatched bank lines): list, assign.",
    no_args_is_help=True,
)
contributions_app.add_typer(unmatched_app, name="unmatched")


@unmatched_app.command("list")
def unmatched_list() -> None:
    """Danh sách dòng sao kê chưa khớp (lines waiting for staff)."""
    from rich.table import Table

    from nidb.contributions.reconcile import unmatched_lines
    from nidb.contributions.statement import dong, vn_date
    from nidb.store.db import open_engine

    with handled(), open_engine().connect() as conn:
        lines = unmatched_lines(conn)
    from datetime import date

    table = Table("số", "ngày", "số tiền", "người nộp", "tài khoản", "nội dung")
    for line in lines:
        table.add_row(
            str(line.id),
            vn_date(date.fromisoformat(line.booked_on)),
            dong(line.amount),
            line.debtor_name or "",
            line.debtor_account or "",
            line.remittance or "",
        )
    out.print(table)


@unmatched_app.command("assign")
def unmatched_assign(
    line: Annotated[int, typer.Argument(help="Số dòng")],
    employer: Annotated[str, typer.Argument(help="Mã đơn vị")],
) -> None:
    """Gán một dòng sao kê cho đơn vị (assign a line to an employer: it becomes a payment)."""
    from nidb.contributions.reconcile import AssignRefused, assign_line
    from nidb.contributions.statement import dong
    from nidb.settings import actor_name
    from nidb.store.db import open_engine

    with handled():
        try:
            settled = assign_line(open_engine(), line, employer, actor=actor_name())
        except AssignRefused as error:
            raise fail(str(error), 2) from None
    out.print(f"Đã gán dòng {line} cho {employer}; đã trừ nợ {dong(settled)}.")


@contributions_app.command("debtors")
def debtors_command(
    month: Annotated[str, typer.Option("--month", help="Tháng đã tính, ví dụ 2026-11")],
    province: Annotated[str | None, typer.Option("--province", help="Mã tỉnh, ví dụ 01")] = None,
) -> None:
    """Đơn vị nợ từ một tháng trở lên, theo tỉnh (debtors, largest debt first)."""
    from datetime import date

    from rich.table import Table

    from nidb.contributions.debt import debtors
    from nidb.contributions.months import vn_month
    from nidb.contributions.statement import dong
    from nidb.store.db import open_engine

    first = _month(month)
    assert isinstance(first, date)
    with handled(), open_engine().connect() as conn:
        rows = debtors(conn, first, province)
    table = Table("mã đơn vị", "tên", "tỉnh", "số nợ", "số tháng", "nợ từ", "ghi chú")
    for d in rows:
        note = "doanh nghiệp đã giải thể" if d.closed else ""
        table.add_row(
            d.employer_code,
            d.name,
            d.province or "",
            dong(d.debt),
            str(d.months),
            vn_month(d.oldest),
            note,
        )
    out.print(table)
    out.print(f"{len(rows)} đơn vị nợ; tổng {dong(sum(d.debt for d in rows))}")


@contributions_app.command("remind")
def remind_command(
    month: Annotated[str, typer.Option("--month", help="Tháng đã tính, ví dụ 2026-11")],
    send: Annotated[bool, typer.Option("--send/--no-send", help="Gửi thư ngay")] = True,
    smtp_host: Annotated[str, typer.Option(envvar="NIDB_SMTP_HOST", help="Máy chủ SMTP")] = (
        "127.0.0.1"
    ),
    smtp_port: Annotated[int, typer.Option(envvar="NIDB_SMTP_PORT", help="Cổng SMTP")] = 8025,
) -> None:
    """Nhắc nợ các đơn vị nợ từ một tháng trở lên, gửi thư điện tử (debt reminders by e-mail)."""
    from datetime import date

    from nidb.contributions.debt import remind, send_reminders
    from nidb.settings import actor_name
    from nidb.store.db import open_engine

    first = _month(month)
    assert isinstance(first, date)
    with handled():
        engine = open_engine()
        written = remind(engine, first, actor=actor_name())
        out.print(f"Đã ghi {written} thông báo nhắc nợ (reminders written).")
        if send:
            try:
                sent, missing = send_reminders(engine, smtp_host, smtp_port)
            except OSError as error:
                raise fail(f"SMTP {smtp_host}:{smtp_port}: {error}", 1) from None
            out.print(f"Đã gửi {sent} thư; {missing} đơn vị chưa có địa chỉ thư (no e-mail).")
