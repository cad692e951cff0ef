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
