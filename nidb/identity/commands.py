"""The identity commands: `nidb verify`, `nidb review list|show|accept|reject`, `nidb match`,
`nidb dedupe`, `nidb merge` and `nidb unmerge`.

Mounted by nidb.cli (`mount`); `verify` and `review` are also runnable alone as
`python -m nidb.identity.commands`. Thin: they parse, call nidb.identity, print and set exit
codes (0 done; 1 the population service or the database failed, rerun to continue; 2 bad input
or a decision that cannot be made, named in the message). Matching pulls in DuckDB and Splink,
verification the models and the HTTP client: each is imported inside the command using it, so
that `nidb --help` stays fast.
"""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich.table import Table

from nidb.identity.reasons import REASON_LABELS
from nidb.terminal import RowProgress, err, fail, handled, out

if TYPE_CHECKING:
    from nidb.identity.match import MatchSummary
    from nidb.identity.review import ItemDetail
    from nidb.identity.verify import VerifyReport

__all__ = [
    "REASON_LABELS",
    "mount",
    "print_match",
    "print_report",
    "review_app",
    "standalone_app",
    "verify_command",
]

VERIFY_CHUNK_RECORDS = 5000
"""Default of `nidb verify --chunk-size`: nidb.identity.verify.CHUNK_RECORDS, written out so the
help does not load the verifier (a test keeps the two equal)."""

_STATUS_LABELS = {
    "verified": "đã xác thực (verified)",
    "review": "chờ cán bộ xem xét (review)",
    "unmatched": "đã đối chiếu, không khớp CSDL dân cư (checked, no match)",
}
_ITEM_STATUS = {
    "open": "đang chờ (open)",
    "accepted": "đã chấp nhận (accepted)",
    "rejected": "đã từ chối (rejected)",
}

review_app = typer.Typer(
    help="Hàng chờ xử lý của cán bộ (the staff review queue).", no_args_is_help=True
)


def mount(app: typer.Typer) -> None:
    """Add `nidb match|unmatch|dedupe|dedupe-undo|merge|unmerge|verify` and `nidb review` to the main command."""
    app.command("match")(match_command)
    app.command("unmatch")(unmatch_command)
    app.command("dedupe")(dedupe_command)
    app.command("dedupe-undo")(dedupe_undo_command)
    app.command("merge")(merge_command)
    app.command("unmerge")(unmerge_command)
    app.command("verify")(verify_command)
    app.add_typer(review_app, name="review")


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
    ] = VERIFY_CHUNK_RECORDS,
) -> None:
    """Xác thực hồ sơ với CSDL quốc gia về dân cư (verify records against the population
    database, Đề án 06). Dừng giữa chừng thì chạy lại để tiếp tục (rerun to resume)."""
    from nidb.connectors.population import PopulationClient
    from nidb.identity.verify import VerificationStopped, verify_records
    from nidb.settings import actor_name, get_settings
    from nidb.store.db import open_engine

    population_url = population_url or get_settings().population_url
    if not population_url:
        raise fail(
            "chưa có địa chỉ dịch vụ CSDL dân cư: dùng --population-url hoặc đặt "
            "NIDB_POPULATION_URL (no population service URL: pass --population-url or set "
            "NIDB_POPULATION_URL)"
        )
    from nidb.store.runs import JobKind, batch_run

    with handled():
        engine = open_engine()
        stopped: VerificationStopped | None = None
        with batch_run(engine, JobKind.VERIFY):  # a stopped run is recorded as failed
            with PopulationClient(population_url) as client, RowProgress("xác thực") as bar:
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
            print_report(report)
            if stopped is not None:
                raise fail(str(stopped), 1)


def print_report(report: "VerifyReport") -> None:
    """Print what a verification run did: outcome by status, reasons, safe fixes, what is left."""
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
        f"còn {report.remaining:,} hồ sơ chưa gửi đối chiếu (not checked yet)",
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
    from nidb.identity import review
    from nidb.store.db import open_engine

    wanted = None if status == "all" else status
    with handled():
        engine = open_engine()
        try:
            rows = review.list_items(engine, wanted, kind, limit, offset)
            total = review.count_items(engine, wanted, kind)
        except ValueError as error:
            raise fail(str(error)) from None
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
    from nidb.identity import review
    from nidb.settings import actor_name
    from nidb.store.db import open_engine

    with handled():
        try:
            detail = review.get_item(open_engine(), item_id, actor=actor_name())
        except review.ReviewError as error:
            raise fail(str(error)) from None
    _print_detail(detail)


def _print_detail(detail: "ItemDetail") -> None:
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
    from nidb.identity import review
    from nidb.settings import actor_name
    from nidb.store.db import open_engine

    with handled():
        try:
            item = review.accept(open_engine(), item_id, actor_name(), note)
        except review.ReviewError as error:
            raise fail(str(error)) from None
    if item.kind == "dedupe":
        out.print(
            f"Đã gộp theo mục {item.id}: các hồ sơ trùng được gộp vào {item.record_id} "
            f"(merged into {item.record_id}). Hoàn tác (undo): nidb dedupe-undo {item.id} "
            "--reason …",
            highlight=False,
        )
        return
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
    from nidb.identity import review
    from nidb.settings import actor_name
    from nidb.store.db import open_engine

    with handled():
        try:
            item = review.reject(open_engine(), item_id, actor_name(), note)
        except review.ReviewError as error:
            raise fail(str(error)) from None
    out.print(
        f"Đã từ chối mục {item.id}: hồ sơ {item.record_id} (rejected; the record is marked "
        "rejected).",
        highlight=False,
    )


# --- nidb match, dedupe, merge, unmerge -------------------------------------------------------


def print_match(summary: "MatchSummary", path: Path) -> None:
    """Print a matching run: records per decision, reasons, sizes and time."""
    table = Table(title=f"Kết quả đối sánh với CSDL dân cư (matches) → {path}")
    table.add_column("quyết định (decision)")
    table.add_column("hồ sơ (records)", justify="right")
    table.add_column("tỉ lệ (share)", justify="right")
    for decision in ("auto", "review", "none"):
        count = summary.decisions.get(decision, 0)
        table.add_row(decision, f"{count:,}", f"{100 * count / max(summary.records, 1):.2f}%")
    out.print(table)
    reasons = Table(title="Lý do khác biệt (reasons)")
    reasons.add_column("mã (code)")
    reasons.add_column("hồ sơ (records)", justify="right")
    for code, count in summary.reasons.items():
        reasons.add_row(code, f"{count:,}")
    out.print(reasons)
    out.print(
        f"{summary.records:,} hồ sơ × {summary.registry:,} công dân · "
        f"{summary.candidate_pairs:,} cặp ứng viên · {summary.total_seconds:.1f} s"
    )
    out.print(
        "Ngưỡng liên kết tự động, đặt theo tỉ lệ sai mục tiêu trên điểm của chính lần chạy này "
        f"(automatic threshold, set from the target error rate on this run's scores): "
        f"{summary.auto_threshold:.6f}",
        highlight=False,
    )


def match_command(
    registry: Annotated[
        Path | None, typer.Option(help="Tệp trích xuất CSDL dân cư (registry).")
    ] = None,
    records: Annotated[
        Path | None, typer.Option(help="Tệp hồ sơ người tham gia (records).")
    ] = None,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Tệp kết quả (matches), .csv hoặc .parquet.")
    ] = None,
    engine: Annotated[
        Literal["duckdb", "spark"],
        typer.Option(
            help="Nơi huấn luyện và chấm điểm mô hình: duckdb, hoặc spark ở chế độ local "
            "(where the model trains and scores).",
        ),
    ] = "duckdb",
    chunk_rows: Annotated[
        int,
        typer.Option(
            min=1,
            max=100_000,
            help="Hồ sơ mỗi giao dịch ghi, khi đối sánh trong CSDL "
            "(records per write transaction, register mode).",
        ),
    ] = 2_000,
) -> None:
    """Đối sánh hồ sơ với CSDL dân cư (link insurance records to the population registry).

    Không có tệp nào: đối sánh hồ sơ chưa xác thực trong CSDL với CSDL dân cư đã nhập, ghi liên
    kết tự động và mục đối soát (no file options: match the register's unverified records
    against its citizens, writing links and review items).
    """
    from nidb.engines.spark import SparkUnavailable, ensure_available
    from nidb.identity.features import MatchInputError
    from nidb.identity.match import match_files

    given = {"--registry": registry, "--records": records, "--out": out_file}
    if all(value is None for value in given.values()):
        _match_register(chunk_rows)
        return
    missing = [name for name, value in given.items() if value is None]
    if missing:
        raise fail(
            f"thiếu {', '.join(missing)}: đối sánh tệp cần cả ba tuỳ chọn, đối sánh trong CSDL "
            f"không cần tuỳ chọn nào (missing {', '.join(missing)}: file mode needs all three, "
            "register mode none)",
            2,
        )
    assert registry is not None and records is not None and out_file is not None
    try:
        if engine == "spark":
            ensure_available()  # before reading the files: a missing Java is said at once
        summary = match_files(
            registry, records, out_file, stage=lambda m: err.print(f"• {m}"), engine=engine
        )
    except MatchInputError as error:
        raise fail(str(error), 2) from None
    except SparkUnavailable as error:
        raise fail(str(error), 1) from None
    print_match(summary, out_file)
    _say_rejected(summary.rejected_cells, out_file)


def _match_register(chunk_rows: int) -> None:
    """``nidb match`` with no files: link the register's unverified records to its citizens."""
    from nidb.identity.features import MatchInputError
    from nidb.identity.match_register import match_register
    from nidb.settings import actor_name
    from nidb.store.db import open_engine
    from nidb.store.runs import JobKind, batch_run

    with handled():
        engine = open_engine()
        with batch_run(engine, JobKind.MATCH):
            try:
                summary = match_register(
                    engine, actor_name(), chunk_rows=chunk_rows,
                    stage=lambda m: err.print(f"• {m}"),
                )  # fmt: skip
            except MatchInputError as error:
                raise fail(str(error), 2) from None
    if summary.model is None:
        out.print("Không có hồ sơ nào chưa xác thực (no unverified records to match).")
        return
    table = Table(title=f"Đối sánh trong CSDL (register match) · lần {summary.run_id}")
    table.add_column("chỉ số (measure)")
    table.add_column("giá trị (value)", justify="right")
    table.add_row("hồ sơ chưa xác thực (records decided)", f"{summary.records:,}")
    table.add_row("liên kết tự động (links written)", f"{summary.linked:,}")
    table.add_row("chuyển cán bộ đối soát (review items)", f"{summary.queued:,}")
    table.add_row("không tìm thấy (none)", f"{summary.unmatched:,}")
    table.add_row("đã được xử lý trước (already decided)", f"{summary.skipped:,}")
    table.add_row("thời gian (seconds)", f"{summary.model.total_seconds:.1f}")
    out.print(table)
    if summary.linked:
        out.print(f"Hoàn tác (undo): nidb unmatch {summary.run_id} --reason …")


def unmatch_command(
    run_id: Annotated[str, typer.Argument(help="Mã lần đối sánh (match run id).")],
    reason: Annotated[str, typer.Option(help="Lý do hoàn tác, bắt buộc (why; required).")],
) -> None:
    """Hoàn tác liên kết tự động của một lần đối sánh (undo the automatic links of a match run)."""
    from nidb.identity.match_register import unmatch
    from nidb.settings import actor_name
    from nidb.store.db import open_engine

    with handled():
        try:
            result = unmatch(open_engine(), run_id, actor=actor_name(), reason=reason)
        except ValueError as error:
            raise fail(str(error)) from None
    out.print(
        f"Đã đóng {result.closed_links:,} liên kết, trả {result.restored_records:,} hồ sơ về "
        f"trạng thái trước (closed {result.closed_links:,} links, restored "
        f"{result.restored_records:,} records)."
    )


def dedupe_command(
    records: Annotated[
        Path | None, typer.Option(help="Tệp hồ sơ người tham gia (records).")
    ] = None,
    out_file: Annotated[
        Path | None,
        typer.Option("--out", help="Tệp kết quả (duplicates), .csv hoặc .parquet."),
    ] = None,
    registry: Annotated[
        Path | None,
        typer.Option(
            help="Tệp trích xuất CSDL dân cư: hai hồ sơ cùng khớp một công dân là một người "
            "(registry extract: two records matched to one citizen are one person).",
        ),
    ] = None,
    chunk_clusters: Annotated[
        int,
        typer.Option(
            min=1,
            max=10_000,
            help="Cụm mỗi giao dịch ghi, khi tìm trùng trong CSDL "
            "(clusters per write transaction, register mode).",
        ),
    ] = 200,
) -> None:
    """Tìm người có nhiều mã BHXH (find persons holding more than one BHXH code).

    Không có tệp nào: tìm trong hồ sơ của CSDL, đưa mỗi cụm vào hàng chờ đối soát (loại
    dedupe) với đề xuất gộp (no file options: cluster the register's records and queue each
    cluster for review with a proposed merge).
    """
    from nidb.identity.dedupe import dedupe_file
    from nidb.identity.features import MatchInputError

    if records is None and out_file is None and registry is None:
        _dedupe_register(chunk_clusters)
        return
    if records is None or out_file is None:
        missing = [n for n, v in (("--records", records), ("--out", out_file)) if v is None]
        raise fail(
            f"thiếu {', '.join(missing)}: tìm trùng trong tệp cần --records và --out, tìm trùng "
            f"trong CSDL không cần tuỳ chọn nào (missing {', '.join(missing)}: file mode needs "
            "--records and --out, register mode none)",
            2,
        )
    try:
        summary = dedupe_file(
            records, out_file, stage=lambda m: err.print(f"• {m}"), registry=registry
        )
    except MatchInputError as error:
        raise fail(str(error), 2) from None
    table = Table(title=f"Cụm hồ sơ cùng một người (duplicates) → {out_file}")
    table.add_column("chỉ số (measure)")
    table.add_column("giá trị (value)", justify="right")
    table.add_row("hồ sơ (records)", f"{summary.records:,}")
    table.add_row("người (clusters)", f"{summary.clusters:,}")
    table.add_row("người có ≥ 2 hồ sơ (clusters of 2+)", f"{summary.multi_record_clusters:,}")
    if registry is not None:
        table.add_row("công dân khớp ≥ 2 hồ sơ (citizens matched twice+)",
                      f"{summary.registry_links:,}")  # fmt: skip
    for decision in ("auto", "review"):
        table.add_row(f"hồ sơ {decision}", f"{summary.decisions.get(decision, 0):,}")
    table.add_row("thời gian (seconds)", f"{summary.total_seconds:.1f}")
    out.print(table)
    _say_rejected(summary.rejected_cells, out_file)


def _dedupe_register(chunk_clusters: int) -> None:
    """``nidb dedupe`` with no files: queue the register's duplicate clusters for review."""
    from nidb.identity.dedupe_register import dedupe_register
    from nidb.identity.features import MatchInputError
    from nidb.settings import actor_name
    from nidb.store.db import open_engine
    from nidb.store.runs import JobKind, batch_run

    with handled():
        engine = open_engine()
        with batch_run(engine, JobKind.DEDUPE):
            try:
                summary = dedupe_register(
                    engine, actor_name(), chunk_clusters=chunk_clusters,
                    stage=lambda m: err.print(f"• {m}"),
                )  # fmt: skip
            except MatchInputError as error:
                raise fail(str(error), 2) from None
    table = Table(title="Tìm hồ sơ trùng trong CSDL (register dedupe)")
    table.add_column("chỉ số (measure)")
    table.add_column("giá trị (value)", justify="right")
    table.add_row("hồ sơ chưa gộp (records)", f"{summary.records:,}")
    table.add_row("cụm có ≥ 2 mã BHXH (clusters of 2+ codes)", f"{summary.clusters:,}")
    table.add_row("đưa vào hàng chờ (review items written)", f"{summary.queued:,}")
    table.add_row("  trong đó chắc chắn (of which certain)", f"{summary.certain:,}")
    table.add_row("đã có trong hàng chờ (already queued)", f"{summary.skipped:,}")
    out.print(table)
    if summary.queued:
        out.print("Xem và gộp (review and merge): /can-bo/doi-soat/?loai=dedupe · nidb review list")


def dedupe_undo_command(
    item_id: Annotated[int, typer.Argument(help="Mã mục đối soát đã gộp (merged item id).")],
    reason: Annotated[str, typer.Option(help="Lý do hoàn tác, bắt buộc (why; required).")],
) -> None:
    """Hoàn tác một lần gộp hồ sơ trùng (undo the merge a dedupe review item made)."""
    from nidb.identity import dedupe_merge
    from nidb.identity.review import ReviewError
    from nidb.settings import actor_name
    from nidb.store.db import open_engine

    with handled():
        try:
            dedupe_merge.undo(open_engine(), item_id, actor_name(), reason)
        except ReviewError as error:
            raise fail(str(error), 2) from None
    out.print(
        f"Đã hoàn tác lần gộp của mục {item_id}; mục đang chờ quyết định lại "
        f"(undone; item {item_id} is open again)."
    )


def _say_rejected(count: int, out_file: Path) -> None:
    """Name the side file of set-aside cells, when a run had any."""
    from nidb.identity.cells import rejected_path_for

    if count:
        err.print(
            f"{count:,} ô dữ liệu sai định dạng đã bỏ qua, hồ sơ vẫn được đối sánh; xem "
            f"(malformed cells set aside, their records still matched; see) "
            f"{rejected_path_for(out_file)}"
        )


def merge_command(
    keep: Annotated[str, typer.Option(help="Mã BHXH giữ lại (the BHXH code to keep).")],
    retire: Annotated[str, typer.Option(help="Mã BHXH gộp vào (the code to retire).")],
    reason: Annotated[str, typer.Option(help="Lý do gộp, bắt buộc (why; required).")],
) -> None:
    """Gộp sổ: chuyển toàn bộ dữ liệu của một mã BHXH sang mã giữ lại (merge duplicate codes)."""
    from nidb.identity.merge import merge_codes
    from nidb.settings import actor_name
    from nidb.store.db import open_engine

    with handled():
        try:
            result = merge_codes(open_engine(), keep, retire, actor=actor_name(), reason=reason)
        except ValueError as error:
            raise fail(str(error)) from None
    moved = ", ".join(f"{table} {count}" for table, count in result.moved.items() if count)
    out.print(
        f"Đã gộp {retire} → {keep} (lần gộp số {result.merge_id}); đã chuyển: {moved}. "
        f"Hoàn tác (undo): nidb unmerge {result.merge_id} --reason …"
    )


def unmerge_command(
    merge_id: Annotated[int, typer.Argument(help="Số lần gộp (merge id).")],
    reason: Annotated[str, typer.Option(help="Lý do hoàn tác, bắt buộc (why; required).")],
) -> None:
    """Hoàn tác một lần gộp sổ, trả đúng các dòng đã chuyển (undo a merge exactly)."""
    from nidb.identity.merge import unmerge
    from nidb.settings import actor_name
    from nidb.store.db import open_engine

    with handled():
        try:
            result = unmerge(open_engine(), merge_id, actor=actor_name(), reason=reason)
        except ValueError as error:
            raise fail(str(error)) from None
    moved = ", ".join(f"{table} {count}" for table, count in result.moved.items() if count)
    out.print(f"Đã hoàn tác lần gộp {merge_id}; đã trả lại: {moved or 'không có dòng nào'}.")


def standalone_app() -> typer.Typer:
    """The commands on their own, for `python -m nidb.identity.commands`."""
    app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
    app.command("verify")(verify_command)
    app.add_typer(review_app, name="review")
    return app


if __name__ == "__main__":
    standalone_app()()
