"""`nidb detect`: run the fraud rules and print, per rule, the alerts found and how many are new.

Mounted by nidb.cli (`mount`). Exit codes: 0 done; 1 the database failed; 2 bad input (an
unknown rule, a snapshot folder without the needed files).
"""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from nidb.terminal import fail, handled, out

if TYPE_CHECKING:
    from datetime import date

    from nidb.detect.runner import RuleResult

alerts_app = typer.Typer(
    help="Cảnh báo cho cán bộ: xem, xác nhận, bác bỏ (alerts: list, confirm, dismiss).",
    no_args_is_help=True,
)


def mount(app: typer.Typer) -> None:
    """Add `nidb detect` and `nidb alerts` to the main command."""
    app.command("detect")(detect_command)
    app.add_typer(alerts_app, name="alerts")


@alerts_app.command("list")
def alerts_list(
    status: Annotated[str, typer.Option(help="open | confirmed | dismissed | all")] = "open",
    kind: Annotated[str | None, typer.Option(help="loại (rule name)")] = None,
    province: Annotated[str | None, typer.Option(help="mã tỉnh, ví dụ 01")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
) -> None:
    """Danh sách cảnh báo, cũ trước (alerts, oldest first)."""
    from nidb.detect.alerts import list_alerts
    from nidb.store.db import open_engine

    with handled():
        rows = list_alerts(
            open_engine(), None if status == "all" else status, kind, province, limit
        )
    table = Table(title="Cảnh báo (alerts)")
    for column in ("số", "loại (kind)", "tỉnh", "đối tượng (subject)", "trạng thái", "giải thích"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            str(row.id),
            row.kind,
            row.province or "",
            f"{row.subject_type} {row.subject_id}",
            row.status,
            row.explanation_vi,
        )
    out.print(table)


def _decide(alert_id: int, status: str, note: str) -> None:
    from nidb.detect.alerts import AlertError, decide
    from nidb.settings import actor_name
    from nidb.store.db import open_engine

    with handled():
        try:
            row = decide(open_engine(), alert_id, status, actor_name(), note)
        except AlertError as error:
            raise fail(str(error)) from None
    word = "xác nhận" if status == "confirmed" else "bác bỏ"
    out.print(f"Đã {word} cảnh báo số {row.id} ({row.kind}, {row.subject_id}).")


@alerts_app.command("confirm")
def alerts_confirm(
    alert_id: Annotated[int, typer.Argument(min=1)],
    note: Annotated[str, typer.Option("--note", help="Lý do (why)")],
) -> None:
    """Xác nhận cảnh báo đúng (confirm: the alert was right)."""
    _decide(alert_id, "confirmed", note)


@alerts_app.command("dismiss")
def alerts_dismiss(
    alert_id: Annotated[int, typer.Argument(min=1)],
    note: Annotated[str, typer.Option("--note", help="Lý do (why)")],
) -> None:
    """Bác bỏ cảnh báo sai (dismiss: a false alarm)."""
    _decide(alert_id, "dismissed", note)


MAX_ACCESS_DAYS = 366


def _day_option(raw: str | None, option: str) -> "date | None":
    from datetime import date

    if raw is None:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise fail(
            f"{option} phải là một ngày dạng YYYY-MM-DD, nhận được {raw[:20]!r} "
            f"({option} must be a date, YYYY-MM-DD)"
        ) from None


@alerts_app.command("access")
def alerts_access(
    day: Annotated[
        str | None, typer.Option("--day", help="Một ngày (one day), YYYY-MM-DD; mặc định: hôm qua")
    ] = None,
    first: Annotated[
        str | None, typer.Option("--from", help="Từ ngày (first day), YYYY-MM-DD")
    ] = None,
    last: Annotated[
        str | None, typer.Option("--to", help="Đến ngày (last day), YYYY-MM-DD")
    ] = None,
) -> None:
    """Phát hiện truy cập bất thường trong nhật ký truy cập và ghi cảnh báo (access anomalies:
    too many persons in a day, reads off hours, reads outside the staff member's area)."""
    from datetime import timedelta

    from nidb.detect.access import detect_access
    from nidb.detect.access_rules import KINDS, TITLES_VI
    from nidb.services.workdays import today_vn
    from nidb.store.db import open_engine

    one = _day_option(day, "--day")
    start, end = _day_option(first, "--from"), _day_option(last, "--to")
    if one is not None and (start is not None or end is not None):
        raise fail("Dùng --day hoặc --from/--to, không dùng cả hai (use --day or --from/--to)")
    if one is None and start is None and end is None:
        one = today_vn() - timedelta(days=1)
    if one is not None:
        start = end = one
    start = start or end
    end = end or start
    assert start is not None and end is not None
    if end < start:
        raise fail("--to phải sau hoặc bằng --from (--to must not be before --from)")
    if (end - start).days >= MAX_ACCESS_DAYS:
        raise fail(
            f"Tối đa {MAX_ACCESS_DAYS} ngày mỗi lần chạy (at most {MAX_ACCESS_DAYS} days a run)"
        )
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    with handled():
        engine = open_engine()
        try:
            run = detect_access(engine, days)
        finally:
            engine.dispose()
    table = Table(
        title=f"Truy cập bất thường {start:%d/%m/%Y}–{end:%d/%m/%Y} (access anomalies), "
        f"{run.actors:,} người/hệ thống có truy cập"
    )
    for column in ("quy tắc (rule)", "mô tả", "phát hiện (found)", "mới (new)"):
        table.add_column(
            column, justify="right" if "(" in column and "rule" not in column else "left"
        )
    for kind in KINDS:
        found = [f for f in run.findings if f.kind == kind]
        table.add_row(kind, TITLES_VI[kind], f"{len(found):,}", "")
    table.add_row("", "tổng (total)", f"{len(run.findings):,}", f"{run.new:,}")
    out.print(table)
    for finding in run.findings:
        out.print(f"• {finding.day:%d/%m/%Y} {finding.kind}: {finding.explanation_vi}")


@alerts_app.command("stats")
def alerts_stats() -> None:
    """Độ chính xác đo được của từng quy tắc (each rule's measured precision)."""
    from nidb.detect.alerts import rule_stats
    from nidb.store.db import open_engine

    with handled():
        stats = rule_stats(open_engine())
    table = Table(title="Độ chính xác theo quy tắc (precision per rule, from staff decisions)")
    for column in ("loại (kind)", "đang mở", "xác nhận", "bác bỏ", "độ chính xác"):
        table.add_column(column)
    for s in stats:
        precision = "—" if s.precision is None else f"{s.precision:.3f}"
        table.add_row(s.kind, str(s.open), str(s.confirmed), str(s.dismissed), precision)
    out.print(table)


def detect_command(
    rules: Annotated[
        str | None,
        typer.Option(
            "--rules",
            help="Chỉ các quy tắc này, cách nhau bằng dấu phẩy (only these rules, comma-separated).",
        ),
    ] = None,
    snapshot: Annotated[
        Path | None,
        typer.Option(
            "--snapshot",
            help="Đọc ảnh chụp Parquet có sẵn (read an existing `nidb export` folder).",
        ),
    ] = None,
    evaluate: Annotated[
        Path | None,
        typer.Option(
            "--evaluate",
            help=(
                "Đo độ chính xác và độ phủ theo tệp frauds của `nidb generate` "
                "(precision and recall per rule against the generator's frauds file)."
            ),
        ),
    ] = None,
) -> None:
    """Phát hiện trục lợi và ghi cảnh báo (run the fraud rules and store alerts)."""
    from nidb.detect.evaluate import read_truth
    from nidb.detect.runner import UnknownRule, run_detection
    from nidb.store.db import open_engine

    names = [n.strip() for n in rules.split(",") if n.strip()] if rules else None
    truth = None
    if evaluate is not None:
        try:
            truth = read_truth(evaluate)
        except (FileNotFoundError, ValueError) as error:
            raise fail(str(error)) from None
    with handled():
        engine = open_engine()
        try:
            results = run_detection(engine, names, snapshot)
        except (UnknownRule, FileNotFoundError) as error:
            raise fail(str(error)) from None
        finally:
            engine.dispose()
    table = Table(title="Phát hiện trục lợi (fraud detection)")
    table.add_column("quy tắc (rule)")
    table.add_column("mô tả (description)")
    table.add_column("phát hiện (found)", justify="right")
    table.add_column("mới (new)", justify="right")
    for result in results:
        rule = result.rule
        table.add_row(
            rule.name,
            f"{rule.title_vi} ({rule.title_en})",
            f"{len(result.findings):,}",
            f"{result.new:,}",
        )
    out.print(table)
    if truth is not None:
        _print_scores(results, truth)


def _print_scores(results: "list[RuleResult]", truth: dict[str, set[str]]) -> None:
    from nidb.detect.evaluate import score

    def cell(value: float | None) -> str:
        return "—" if value is None else f"{value:.3f}"

    table = Table(title="Đánh giá theo gian lận cài sẵn (evaluation against injected frauds)")
    for column in ("quy tắc (rule)", "phát hiện", "cài sẵn", "đúng", "precision", "recall"):
        table.add_column(column, justify="left" if column.startswith("quy") else "right")
    for s in score(results, truth):
        table.add_row(
            s.rule,
            f"{s.found:,}",
            f"{s.injected:,}",
            f"{s.true_positives:,}",
            cell(s.precision),
            cell(s.recall),
        )
    out.print(table)
