"""`nidb detect`: run the fraud rules and print, per rule, the alerts found and how many are new.

Mounted by nidb/cli.py (`mount`). Exit codes: 0 done; 1 the database failed; 2 bad input (an
unknown rule, a snapshot folder without the needed files).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table


def mount(app: typer.Typer) -> None:
    """Add `nidb detect` to the main command."""
    app.command("detect")(detect_command)


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
) -> None:
    """Phát hiện trục lợi và ghi cảnh báo (run the fraud rules and store alerts)."""
    from nidb import cli
    from nidb.detect.runner import UnknownRule, run_detection
    from nidb.store.db import ensure_schema, make_engine

    names = [n.strip() for n in rules.split(",") if n.strip()] if rules else None
    engine = make_engine()
    try:
        with cli._handled():
            try:
                ensure_schema(engine)
                results = run_detection(engine, names, snapshot)
            except (UnknownRule, FileNotFoundError) as error:
                raise cli._fail(str(error)) from None
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
    cli.out.print(table)
