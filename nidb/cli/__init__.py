"""The ``nidb`` command: thin over the modules; it parses, reports and sets exit codes.

Exit codes: 0 done; 1 a failure of the system (database unreachable…); 2 bad input named in the
message (file, row, column); 130 interrupted (nothing of the interrupted batch was kept).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from nidb.ingest.layouts import LAYOUTS
from nidb.ingest.loader import ImportReport, import_file
from nidb.ingest.readers import FileError
from nidb.store.db import ensure_schema, make_engine

if TYPE_CHECKING:  # matching pulls in DuckDB and Splink: loaded only by the commands using it
    from nidb.identity.match import MatchSummary
    from nidb.sim.generate import ErrorRates

app = typer.Typer(
    help="nidb — Cơ sở dữ liệu quốc gia về Bảo hiểm (National Insurance Database of Vietnam).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Quản trị cơ sở dữ liệu (database administration).", no_args_is_help=True)
app.add_typer(db_app, name="db")
sim_app = typer.Typer(
    help="Hệ thống giả lập của cơ quan khác (stand-ins for other agencies' systems).",
    no_args_is_help=True,
)
app.add_typer(sim_app, name="sim")


def _mount_identity_commands() -> None:
    from nidb.identity import commands as identity_commands

    app.command("verify")(identity_commands.verify_command)
    app.add_typer(identity_commands.review_app, name="review")


def _mount_detect_commands() -> None:
    from nidb.detect import commands as detect_commands

    detect_commands.mount(app)  # `nidb detect`


def _mount_later_commands() -> None:
    from nidb.analytics import commands as analytics_commands  # `nidb quality|report|publish`
    from nidb.services import commands as service_commands  # `nidb dossier …`

    analytics_commands.mount(app)
    service_commands.mount(app, sim_app)
    from nidb.web import commands as web_commands  # `nidb staff-user …`, `nidb sim vneid`

    web_commands.mount(app, sim_app)


def _mount_exchange_commands() -> None:
    from nidb.exchange import commands as exchange_commands

    app.add_typer(exchange_commands.partner_app, name="partner")
    app.add_typer(exchange_commands.token_app, name="token")
    app.add_typer(exchange_commands.audit_app, name="audit")
    app.command("keys")(exchange_commands.keys_show)
    app.command("serve")(exchange_commands.serve_command)
    from nidb.outbox import commands as outbox_commands

    outbox_commands.mount(app, sim_app)
    from nidb.feeds import commands as feeds_commands  # `nidb feed …`, `nidb sim business|molisa`

    feeds_commands.mount(app, sim_app)


def _console(stderr: bool = False) -> Console:
    # logs and pipes get wide, unwrapped lines: a path or a rule code cut in two is useless there
    console = Console(stderr=stderr)
    return console if console.is_terminal else Console(stderr=stderr, width=200, soft_wrap=True)


out = _console()
err = _console(stderr=True)

KINDS = tuple(LAYOUTS)


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[bold red]Lỗi (error):[/] {message}", highlight=False)
    return typer.Exit(code)


@contextmanager
def _handled() -> Iterator[None]:
    """Turn expected failures into a message and an exit code instead of a traceback."""
    try:
        yield
    except FileError as error:
        raise _fail(str(error), 2) from None
    except KeyboardInterrupt:
        raise _fail(
            "đã dừng theo yêu cầu; lô đang nạp không được ghi (interrupted; the batch "
            "in progress was not kept)",
            130,
        ) from None
    except SQLAlchemyError as error:
        raise _fail(
            f"cơ sở dữ liệu báo lỗi (database error): {error.__class__.__name__}: "
            f"{str(error).splitlines()[0]}",
            1,
        ) from None


def _engine() -> Engine:
    engine = make_engine()
    ensure_schema(engine)
    return engine


class _RowProgress:
    """A progress display: a Rich bar on a terminal, plain lines otherwise (logs, CI, tests)."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.live = err.is_terminal
        self.started = time.perf_counter()
        self.last_line = 0.0
        self._progress: Progress | None = None

    def __enter__(self) -> _RowProgress:
        if self.live:
            self._progress = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                TaskProgressColumn(),
                TextColumn("{task.fields[rows]:,} dòng · {task.fields[rate]:,.0f} dòng/s"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=err,
                transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task(self.label, total=None, rows=0, rate=0.0)
        return self

    def update(self, rows: int, done: int, total: int) -> None:
        """Show progress; ``total`` 0 means the size of the work is not known."""
        elapsed = max(time.perf_counter() - self.started, 1e-6)
        if self._progress is not None:
            self._progress.update(
                self._task, completed=done, total=total or None, rows=rows, rate=rows / elapsed
            )
        elif time.perf_counter() - self.last_line >= 1.0 or (total and done >= total):
            self.last_line = time.perf_counter()
            share = f", {100 * done / total:.0f}%" if total else ""
            print(
                f"{self.label}: {rows} rows{share}, {rows / elapsed:,.0f} rows/s",
                file=sys.stderr,
                flush=True,
            )

    def __exit__(self, *_exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()


def _print_import(report: ImportReport) -> None:
    if report.skipped:
        out.print(
            f"[yellow]{report.path.name}[/]: tệp này đã được nạp ở lô {report.batch_id}; "
            "không thay đổi gì (already imported as batch "
            f"{report.batch_id}; nothing changed). Dùng --force để nạp lại."
        )
        return
    rate = report.rows_read / report.seconds if report.seconds else 0.0
    out.print(
        f"[bold]{report.path.name}[/] → lô {report.batch_id} ({report.kind}): "
        f"{report.rows_read:,} dòng đọc, {report.inserted:,} thêm mới, {report.updated:,} cập nhật, "
        f"{report.unchanged:,} không đổi, {report.rejected:,} bị loại "
        f"· {report.seconds:.1f} s · {rate:,.0f} dòng/s",
        highlight=False,
    )
    if report.rejected:
        table = Table(title="Dòng bị loại theo quy tắc (rejected rows by rule)")
        table.add_column("quy tắc (rule)")
        table.add_column("số lỗi (errors)", justify="right")
        for rule, count in report.rejected_by_rule.items():
            table.add_row(rule, f"{count:,}")
        out.print(table)
        out.print(f"Chi tiết từng dòng (details per row): {report.rejected_path}")


@app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(help="Tệp CSV hoặc Parquet (CSV or Parquet file).")],
    kind: Annotated[str, typer.Option(help=f"Loại dữ liệu: {' | '.join(KINDS)}.")],
    force: Annotated[bool, typer.Option(help="Nạp lại kể cả khi tệp đã được nạp.")] = False,
    rejected: Annotated[
        Path | None, typer.Option(help="Nơi ghi dòng bị loại (default: FILE.rejected.csv).")
    ] = None,
) -> None:
    """Nạp một tệp vào sổ đăng ký (import one interchange file as one all-or-nothing batch)."""
    if kind not in LAYOUTS:
        raise _fail(f"--kind {kind!r} không hợp lệ; chọn một trong: {', '.join(KINDS)}")
    with _handled():
        engine = _engine()
        with _RowProgress(f"nạp {file.name}") as bar:
            report = import_file(
                engine, kind, file, progress=bar.update, force=force, rejected_path=rejected
            )
        _print_import(report)


@app.command("export")
def export_command(
    out_dir: Annotated[Path, typer.Argument(help="Thư mục ghi ảnh chụp Parquet.")],
    table: Annotated[list[str] | None, typer.Option(help="Chỉ các bảng này (repeatable).")] = None,
) -> None:
    """Xuất ảnh chụp Parquet của sổ đăng ký (write Parquet snapshots for DuckDB/Spark)."""
    from nidb.ingest.export import SNAPSHOT_TABLES, export_snapshot

    with _handled():
        try:
            written = export_snapshot(_engine(), out_dir, tuple(table or SNAPSHOT_TABLES))
        except ValueError as error:
            raise _fail(str(error)) from None
    summary = Table(title=f"Ảnh chụp (snapshot) → {out_dir}")
    summary.add_column("bảng (table)")
    summary.add_column("dòng (rows)", justify="right")
    for item in written:
        summary.add_row(item.table, f"{item.rows:,}")
    out.print(summary)


@app.command("status")
def status_command() -> None:
    """Tóm tắt sổ đăng ký (summary of the register: rows per information group)."""
    from nidb.store.summary import register_summary

    with _handled():
        out.print(register_summary(_engine()))


@app.command("generate")
def generate_command(
    out_dir: Annotated[Path, typer.Argument(help="Thư mục ghi các tệp (output folder).")],
    people: Annotated[int, typer.Option(min=1, help="Số người trong CSDL dân cư.")] = 20_000,
    seed: Annotated[int, typer.Option(help="Hạt giống ngẫu nhiên (same seed, same files).")] = 1,
    file_format: Annotated[str, typer.Option("--format", help="csv | parquet")] = "csv",
    rate: Annotated[
        list[str] | None,
        typer.Option(help="Tỉ lệ lỗi, dạng tên=giá_trị, e.g. --rate name_typo=0.05 (repeatable)."),
    ] = None,
) -> None:
    """Sinh một quốc gia tổng hợp (generate a synthetic country in the interchange layouts)."""
    from nidb.sim.generate import ErrorRates, generate

    if file_format not in ("csv", "parquet"):
        raise _fail(f"--format {file_format!r} không hợp lệ; chọn csv hoặc parquet")
    rates = _parse_rates(ErrorRates, rate or [])
    started = time.perf_counter()
    with _RowProgress("sinh dữ liệu (bước/steps)") as bar:
        summary = generate(
            out_dir,
            people,
            seed,
            rates=rates,
            fmt=file_format,  # type: ignore[arg-type]
            progress=lambda stage, done, total: bar.update(done, done, total),
        )
    table = Table(
        title=f"Đã sinh (generated) → {out_dir} trong {time.perf_counter() - started:.1f} s"
    )
    table.add_column("tệp (file)")
    table.add_column("dòng (rows)", justify="right")
    for name, rows in summary.rows.items():
        table.add_row(name, f"{rows:,}")
    out.print(table)


def _parse_rates(rates_type: type[ErrorRates], pairs: list[str]) -> ErrorRates:
    import dataclasses

    known = {f.name for f in dataclasses.fields(rates_type)}
    values: dict[str, float] = {}
    for pair in pairs:
        name, _, raw = pair.partition("=")
        if name not in known:
            raise _fail(
                f"--rate {pair!r}: không có tỉ lệ tên {name!r}; có: {', '.join(sorted(known))}"
            )
        try:
            value = float(raw)
        except ValueError:
            raise _fail(f"--rate {pair!r}: giá trị phải là số từ 0 đến 1") from None
        if not 0.0 <= value <= 1.0:
            raise _fail(f"--rate {pair!r}: giá trị phải nằm trong [0, 1]")
        values[name] = value
    return rates_type(**values)


@app.command("demo")
def demo_command(
    people: Annotated[int, typer.Option(min=100, help="Số người của tỉnh mẫu.")] = 20_000,
    seed: Annotated[int, typer.Option(help="Hạt giống ngẫu nhiên.")] = 2026,
) -> None:
    """Chạy thử: sinh một tỉnh mẫu, nạp, đối sánh và tóm tắt (generate, import, match, summarise)."""
    from nidb.cli.demo import run_demo
    from nidb.settings import get_settings
    from nidb.store.summary import register_summary

    data_dir = get_settings().data_dir / "demo"
    with _handled():
        engine = _engine()
        out.rule("[bold]nidb demo")
        out.print(f"Cơ sở dữ liệu (database): {engine.url!r}")
        result = run_demo(engine, data_dir, people, seed, on_stage=lambda m: out.print(f"• {m}"))
        out.print(f"  sinh dữ liệu mất {result.generate_seconds:.1f} s")
        for report in result.imports:
            _print_import(report)
        out.print(register_summary(engine))
        if result.verification is not None:
            from nidb.identity.commands import _print_report

            _print_report(result.verification)
        if result.matching is not None:
            _print_match(result.matching, data_dir / "matches.csv")
        if result.exchange is not None:
            from nidb.cli.demo_exchange import print_exchange_demo

            print_exchange_demo(out, result.exchange)


def _print_match(summary: MatchSummary, path: Path) -> None:
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


@app.command("match")
def match_command(
    registry: Annotated[Path, typer.Option(help="Tệp trích xuất CSDL dân cư (registry).")],
    records: Annotated[Path, typer.Option(help="Tệp hồ sơ người tham gia (records).")],
    out_file: Annotated[
        Path, typer.Option("--out", help="Tệp kết quả (matches), .csv hoặc .parquet.")
    ],
    engine: Annotated[
        Literal["duckdb", "spark"],
        typer.Option(
            help="Nơi huấn luyện và chấm điểm mô hình: duckdb, hoặc spark ở chế độ local "
            "(where the model trains and scores).",
        ),
    ] = "duckdb",
) -> None:
    """Đối sánh hồ sơ với CSDL dân cư (link insurance records to the population registry)."""
    from nidb.engines.spark import SparkUnavailable, ensure_available
    from nidb.identity.features import MatchInputError
    from nidb.identity.match import match_files

    try:
        if engine == "spark":
            ensure_available()  # before reading the files: a missing Java is said at once
        summary = match_files(
            registry, records, out_file, stage=lambda m: err.print(f"• {m}"), engine=engine
        )
    except MatchInputError as error:
        raise _fail(str(error), 2) from None
    except SparkUnavailable as error:
        raise _fail(str(error), 1) from None
    _print_match(summary, out_file)


@app.command("dedupe")
def dedupe_command(
    records: Annotated[Path, typer.Option(help="Tệp hồ sơ người tham gia (records).")],
    out_file: Annotated[
        Path, typer.Option("--out", help="Tệp kết quả (duplicates), .csv hoặc .parquet.")
    ],
) -> None:
    """Tìm người có nhiều mã BHXH (find persons holding more than one BHXH code)."""
    from nidb.identity.dedupe import dedupe_file
    from nidb.identity.features import MatchInputError

    try:
        summary = dedupe_file(records, out_file, stage=lambda m: err.print(f"• {m}"))
    except MatchInputError as error:
        raise _fail(str(error), 2) from None
    table = Table(title=f"Cụm hồ sơ cùng một người (duplicates) → {out_file}")
    table.add_column("chỉ số (measure)")
    table.add_column("giá trị (value)", justify="right")
    table.add_row("hồ sơ (records)", f"{summary.records:,}")
    table.add_row("người (clusters)", f"{summary.clusters:,}")
    table.add_row("người có ≥ 2 hồ sơ (clusters of 2+)", f"{summary.multi_record_clusters:,}")
    for decision in ("auto", "review"):
        table.add_row(f"hồ sơ {decision}", f"{summary.decisions.get(decision, 0):,}")
    table.add_row("thời gian (seconds)", f"{summary.total_seconds:.1f}")
    out.print(table)


@app.command("merge")
def merge_command(
    keep: Annotated[str, typer.Option(help="Mã BHXH giữ lại (the BHXH code to keep).")],
    retire: Annotated[str, typer.Option(help="Mã BHXH gộp vào (the code to retire).")],
    reason: Annotated[str, typer.Option(help="Lý do gộp, bắt buộc (why; required).")],
) -> None:
    """Gộp sổ: chuyển toàn bộ dữ liệu của một mã BHXH sang mã giữ lại (merge duplicate codes)."""
    from nidb.identity.merge import merge_codes
    from nidb.settings import actor_name

    with _handled():
        try:
            result = merge_codes(_engine(), keep, retire, actor=actor_name(), reason=reason)
        except ValueError as error:
            raise _fail(str(error)) from None
    moved = ", ".join(f"{table} {count}" for table, count in result.moved.items() if count)
    out.print(
        f"Đã gộp {retire} → {keep} (lần gộp số {result.merge_id}); đã chuyển: {moved}. "
        f"Hoàn tác (undo): nidb unmerge {result.merge_id} --reason …"
    )


@app.command("unmerge")
def unmerge_command(
    merge_id: Annotated[int, typer.Argument(help="Số lần gộp (merge id).")],
    reason: Annotated[str, typer.Option(help="Lý do hoàn tác, bắt buộc (why; required).")],
) -> None:
    """Hoàn tác một lần gộp sổ, trả đúng các dòng đã chuyển (undo a merge exactly)."""
    from nidb.identity.merge import unmerge
    from nidb.settings import actor_name

    with _handled():
        try:
            result = unmerge(_engine(), merge_id, actor=actor_name(), reason=reason)
        except ValueError as error:
            raise _fail(str(error)) from None
    moved = ", ".join(f"{table} {count}" for table, count in result.moved.items() if count)
    out.print(f"Đã hoàn tác lần gộp {merge_id}; đã trả lại: {moved or 'không có dòng nào'}.")


@sim_app.command("population")
def sim_population(
    data: Annotated[Path, typer.Option("--data", help="Tệp trích xuất CSDL dân cư (registry).")],
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8001,
    host: str = "127.0.0.1",
    admin: Annotated[bool, typer.Option(help="Bật /v1/admin (changes, faults).")] = False,
    error_rate: Annotated[float, typer.Option(help="Tỉ lệ trả 503.")] = 0.0,
    timeout_rate: Annotated[float, typer.Option(help="Tỉ lệ yêu cầu bị treo.")] = 0.0,
    timeout_seconds: float = 30.0,
    latency_ms: Annotated[float, typer.Option(help="Độ trễ thêm cho mỗi yêu cầu.")] = 0.0,
    seed: int = 0,
) -> None:
    """CSDL quốc gia về dân cư giả lập (the population-database stand-in, over HTTP)."""
    from nidb.sim.population import FaultConfig, RegistryFileError, load_registry, serve

    try:
        faults = FaultConfig(error_rate, timeout_rate, timeout_seconds, latency_ms, seed)
        with _RowProgress(f"nạp {data.name}") as bar:
            registry = load_registry(data, progress=lambda rows: bar.update(rows, 0, 0))
    except (RegistryFileError, ValueError, OSError) as error:
        raise _fail(str(error), 2) from None
    out.print(f"{len(registry):,} người — http://{host}:{port} (OpenAPI: /docs)")
    serve(data, host, port, faults, admin=admin, registry=registry)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Tạo hoặc nâng cấp lược đồ (create or migrate the schema to the latest version)."""
    with _handled():
        engine = make_engine()
        ensure_schema(engine)
    out.print(f"Lược đồ đã ở phiên bản mới nhất (schema is at head): {engine.url!r}")


def main() -> None:
    """Entry point for ``python -m nidb``."""
    app()


_mount_identity_commands()
_mount_exchange_commands()
_mount_detect_commands()
_mount_later_commands()
