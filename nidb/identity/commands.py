"""The identity commands: `nidb verify` and `nidb review list|show|accept|reject`.

Mounted by nidb/cli.py (`app.command("verify")(verify_command)`,
`app.add_typer(review_app, name="review")`); also runnable alone as
`python -m nidb.identity.commands`. Thin: they parse, call nidb.identity, print and set exit
codes (0 done; 1 the population service or the database failed, rerun to continue; 2 bad input
or a decision that cannot be made, named in the message).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from nidb.connectors.population import PopulationClient
from nidb.identity import review
from nidb.identity.reasons import REASON_LABELS
from nidb.identity.verify import (
    CHUNK_RECORDS,
    VerificationStopped,
    VerifyReport,
    verify_records,
)
from nidb.settings import actor_name, get_settings

if TYPE_CHECKING:
    from nidb.identity.review import ItemDetail

__all__ = ["REASON_LABELS", "review_app", "verify_command"]

_STATUS_LABELS = {
    "verified": "đã xác thực (verified)",
    "review": "chờ cán bộ xem xét (review)",
    "unmatched": "chưa khớp, cần đối sánh (unmatched)",
}
_ITEM_STATUS = {
    "open": "đang chờ (open)",
    "accepted": "đã chấp nhận (accepted)",
    "rejected": "đã từ chối (rejected)",
}

review_app = typer.Typer(
    help="Hàng chờ xử lý của cán bộ (the staff review queue).", no_args_is_help=True
)


# --- nidb verify ------------------------------------------------------------------------------


def verify_command(
    population_url: Annotated[
        str | None,
        typer.Option(
            "--population-url",
            help="Địa chỉ dịch vụ CSDL dân cư, e.g. http://127.0.0.1:8001 (population service); "
            "mặc định NIDB_POPULATION_URL (default: NIDB_POPULATION_URL).",
        ),
    ] = None,
    batch_size: Annotated[
        int, typer.Option(min=1, max=1000, help="Số yêu cầu mỗi lần gọi (requests per call).")
    ] = 500,
    concurrency: Annotated[
        int, typer.Option(min=1, max=64, help="Số lần gọi song song (calls in flight).")
    ] = 4,
    limit: Annotated[
        int | None, typer.Option(min=1, help="Chỉ xác thực tối đa N hồ sơ (at most N records).")
    ] = None,
    chunk_size: Annotated[
        int,
        typer.Option(min=1, max=100_000, help="Hồ sơ mỗi giao dịch (records per transaction)."),
    ] = CHUNK_RECORDS,
) -> None:
    """Xác thực hồ sơ với CSDL quốc gia về dân cư (verify records against the population
    database, Đề án 06). Dừng giữa chừng thì chạy lại để tiếp tục (rerun to resume)."""
    from nidb.cli import _engine, _fail, _handled, _RowProgress

    population_url = population_url or get_settings().population_url
    if not population_url:
        raise _fail(
            "chưa có địa chỉ dịch vụ CSDL dân cư: dùng --population-url hoặc đặt "
            "NIDB_POPULATION_URL (no population service URL: pass --population-url or set "
            "NIDB_POPULATION_URL)"
        )
    with _handled():
        engine = _engine()
        stopped: VerificationStopped | None = None
        with PopulationClient(population_url) as client, _RowProgress("xác thực") as bar:
            try:
                report = verify_records(
                    engine,
                    client,
                    batch_size=batch_size,
                    concurrency=concurrency,
                    limit=limit,
                    progress=lambda done, total: bar.update(done, done, total),
                    actor=actor_name(),
                    chunk_size=chunk_size,
                )
            except VerificationStopped as error:
                stopped, report = error, error.report
        _print_report(report)
        if stopped is not None:
            raise _fail(str(stopped), 1)


def _print_report(report: VerifyReport) -> None:
    from nidb.cli import out

    out.print(
        f"[bold]Xác thực (verification)[/]: {report.records:,} hồ sơ (records) · "
        f"{report.seconds:.1f} s · {report.records_per_second:,.0f} hồ sơ/s (records/s)",
        highlight=False,
    )
    if not report.records:
        out.print("Không còn hồ sơ nào chờ xác thực (no records left to verify).")
    statuses = Table(title="Kết quả (outcome)")
    statuses.add_column("trạng thái (status)")
    statuses.add_column("hồ sơ (records)", justify="right")
    statuses.add_column("%", justify="right")
    for status, label in _STATUS_LABELS.items():
        count = report.by_status.get(status, 0)
        share = 100 * count / report.records if report.records else 0.0
        statuses.add_row(label, f"{count:,}", f"{share:.1f}")
    out.print(statuses)
    if report.by_reason:
        reasons = Table(title="Lý do (reasons)")
        reasons.add_column("mã (code)")
        reasons.add_column("ý nghĩa (meaning)")
        reasons.add_column("hồ sơ (records)", justify="right")
        for code, count in report.by_reason.most_common():
            reasons.add_row(code, REASON_LABELS.get(code, ""), f"{count:,}")
        out.print(reasons)
    if report.safe_fixes:
        fixes = Table(title="Tự động sửa an toàn (safe fixes, audited)")
        fixes.add_column("mã (code)")
        fixes.add_column("đã sửa theo CSDL dân cư (adopted from the registry)")
        fixes.add_column("hồ sơ (records)", justify="right")
        for code, count in report.safe_fixes.most_common():
            fixes.add_row(code, REASON_LABELS.get(code, ""), f"{count:,}")
        out.print(fixes)
    out.print(
        f"{report.review_items:,} mục mới trong hàng chờ (new review items) · "
        f"{report.links_opened:,} liên kết đã xác thực (verified links) · "
        f"{report.deaths:,} người đã mất (deceased) · "
        f"còn {report.remaining:,} hồ sơ chưa xác thực (left unverified)",
        highlight=False,
    )
    if report.fixes_unconfirmed:
        out.print(
            f"{report.fixes_unconfirmed:,} sửa lỗi không được CSDL dân cư xác nhận, đã chuyển "
            "cán bộ xem xét (fixes the service did not confirm went to review)",
            highlight=False,
        )
    if report.skipped:
        out.print(
            f"{report.skipped:,} hồ sơ đổi trong lúc chạy, để lần sau (records changed meanwhile, "
            "left for the next run)",
            highlight=False,
        )


# --- nidb review ------------------------------------------------------------------------------


@review_app.command("list")
def review_list(
    status: Annotated[
        str, typer.Option(help="open | accepted | rejected | all (trạng thái mục).")
    ] = "open",
    kind: Annotated[
        str | None, typer.Option(help="verification | match | dedupe (loại mục).")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="Số mục mỗi trang.")] = 50,
    offset: Annotated[int, typer.Option(min=0, help="Bỏ qua N mục đầu (skip N).")] = 0,
) -> None:
    """Liệt kê các mục trong hàng chờ (list review items, oldest first)."""
    from nidb.cli import _engine, _fail, _handled, out

    wanted = None if status == "all" else status
    with _handled():
        engine = _engine()
        try:
            rows = review.list_items(engine, wanted, kind, limit, offset)
            total = review.count_items(engine, wanted, kind)
        except ValueError as error:
            raise _fail(str(error)) from None
    table = Table(title=f"Hàng chờ xử lý (review queue): {status}")
    for column in (
        "mã (id)",
        "hồ sơ (record)",
        "họ tên (name)",
        "loại (kind)",
        "đề xuất (candidate)",
        "điểm (score)",
        "lý do (reasons)",
        "trạng thái (status)",
    ):
        table.add_column(column, justify="right" if column.startswith(("mã", "điểm")) else "left")
    for row in rows:
        table.add_row(
            str(row.id),
            row.record_id,
            row.full_name or "—",
            row.kind,
            row.candidate_personal_id or "—",
            "—" if row.score is None else f"{row.score:.2f}",
            ", ".join(row.reasons),
            _ITEM_STATUS.get(row.status, row.status),
        )
    out.print(table)
    shown = f"{offset + 1}–{offset + len(rows)}" if rows else "0"
    out.print(f"Hiển thị (showing) {shown} / {total:,}", highlight=False)


@review_app.command("show")
def review_show(item_id: Annotated[int, typer.Argument(help="Mã mục (item id).")]) -> None:
    """Xem một mục: hồ sơ và người trong CSDL dân cư, từng trường (show one item side by side)."""
    from nidb.cli import _engine, _fail, _handled

    with _handled():
        try:
            detail = review.get_item(_engine(), item_id, actor=actor_name())
        except review.ReviewError as error:
            raise _fail(str(error)) from None
    _print_detail(detail)


def _print_detail(detail: ItemDetail) -> None:
    from nidb.cli import out

    item = detail.item
    out.print(
        f"[bold]Mục {item.id}[/] ({item.kind}) · hồ sơ (record) {item.record_id} · "
        f"{_ITEM_STATUS.get(item.status, item.status)} · tạo lúc (created) "
        f"{item.created_at:%Y-%m-%d %H:%M}"
        + ("" if item.score is None else f" · điểm (score) {item.score:.2f}"),
        highlight=False,
    )
    if item.decided_by:
        out.print(
            f"Quyết định bởi (decided by) {item.decided_by} lúc {item.decided_at:%Y-%m-%d %H:%M}"
            + (f" — {item.note}" if item.note else ""),
            highlight=False,
        )
    table = Table(title="Đối chiếu (side by side)")
    table.add_column("trường (field)")
    table.add_column("hồ sơ bảo hiểm (insurance record)")
    table.add_column("CSDL dân cư (population registry)")
    table.add_column("", justify="center")
    table.add_column("lý do (reasons)")
    for field in detail.fields:
        mark = "[green]✓[/]" if field.agrees else "[red]✗[/]"
        table.add_row(
            field.label,
            field.record or "—",
            field.registry or "—",
            mark,
            "; ".join(f"{code}: {REASON_LABELS.get(code, '')}" for code in field.reasons),
        )
    out.print(table)
    for change in detail.on_accept:
        out.print(
            f"Chấp nhận sẽ sửa (accepting will set) {change.column}: {change.before!s} → "
            f"{change.after!s}",
            highlight=False,
        )
    if detail.registry is None and item.candidate_personal_id:
        out.print(
            "Trích xuất CSDL dân cư của nidb không có người này (nidb's registry extract "
            "does not hold this person).",
            highlight=False,
        )
    if detail.record is None:
        out.print("Hồ sơ không còn trong sổ (the record is no longer in the register).")


@review_app.command("accept")
def review_accept(
    item_id: Annotated[int, typer.Argument(help="Mã mục (item id).")],
    note: Annotated[str | None, typer.Option(help="Ghi chú (note).")] = None,
) -> None:
    """Chấp nhận người được đề xuất (accept the candidate: the record is verified as them)."""
    from nidb.cli import _engine, _fail, _handled, out

    with _handled():
        try:
            item = review.accept(_engine(), item_id, actor_name(), note)
        except review.ReviewError as error:
            raise _fail(str(error)) from None
    out.print(
        f"Đã chấp nhận mục {item.id}: hồ sơ {item.record_id} được xác thực là "
        f"{item.candidate_personal_id} (accepted: record verified as that personal ID).",
        highlight=False,
    )
    for change in item.changes:
        out.print(
            f"  {change.column}: {change.before!s} → {change.after!s} "
            "(theo CSDL dân cư, from the registry)",
            highlight=False,
        )


@review_app.command("reject")
def review_reject(
    item_id: Annotated[int, typer.Argument(help="Mã mục (item id).")],
    note: Annotated[str, typer.Option(help="Lý do từ chối, bắt buộc (why; required).")],
) -> None:
    """Từ chối người được đề xuất (reject the candidate; the record is marked rejected)."""
    from nidb.cli import _engine, _fail, _handled, out

    with _handled():
        try:
            item = review.reject(_engine(), item_id, actor_name(), note)
        except review.ReviewError as error:
            raise _fail(str(error)) from None
    out.print(
        f"Đã từ chối mục {item.id}: hồ sơ {item.record_id} (rejected; the record is marked "
        "rejected).",
        highlight=False,
    )


def standalone_app() -> typer.Typer:
    """The commands on their own, for `python -m nidb.identity.commands`."""
    app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
    app.command("verify")(verify_command)
    app.add_typer(review_app, name="review")
    return app


if __name__ == "__main__":
    standalone_app()()
