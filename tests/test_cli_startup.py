"""`nidb --help` starts fast: the command tree loads no database, web or columnar library.

Each capability's `commands.py` keeps its top level light and imports the heavy modules inside
its commands; these tests fail when an import slips back to a top level (bench/cli_startup.py
measures the time itself).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

HEAVY = ("sqlalchemy", "alembic", "fastapi", "duckdb", "pyarrow", "pydantic_settings", "splink")

# Runs `nidb --help`, then `--help` of every command and group below it, in one fresh process;
# prints the exit codes and which heavy libraries ended up loaded.
HELP_EVERYWHERE = textwrap.dedent(
    """
    import contextlib, io, json, sys
    import typer
    from nidb.cli import app

    codes = {}

    def run(command, path):
        with contextlib.redirect_stdout(io.StringIO()):
            try:
                command(path + ["--help"], prog_name="nidb")
            except SystemExit as stop:
                codes[" ".join(path) or "nidb"] = stop.code

    run(app, [])
    root = typer.main.get_command(app)

    def walk(group, path):
        context = typer.Context(group)
        for name in group.list_commands(context):
            sub = group.get_command(context, name)
            run(root, path + [name])
            if hasattr(sub, "list_commands"):
                walk(sub, path + [name])

    walk(root, [])
    loaded = sorted({m.split(".")[0] for m in sys.modules} & set(sys.argv[1:]))
    print(json.dumps({"codes": codes, "loaded": loaded}))
    """
)


def test_help_of_every_command_loads_no_heavy_library() -> None:
    run = subprocess.run(
        [sys.executable, "-c", HELP_EVERYWHERE, *HEAVY],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        timeout=120,
    )
    result = json.loads(run.stdout.splitlines()[-1])
    assert result["loaded"] == []
    assert {"nidb", "import", "sim", "sim vneid", "outbox dead retry"} <= set(result["codes"])
    assert set(result["codes"].values()) == {0}


def test_the_import_help_names_every_layout() -> None:
    from nidb.ingest.kinds import KINDS
    from nidb.ingest.layouts import LAYOUTS

    assert tuple(LAYOUTS) == KINDS


def test_the_verify_help_shows_the_verifiers_own_chunk_size() -> None:
    from nidb.identity.commands import VERIFY_CHUNK_RECORDS
    from nidb.identity.verify import CHUNK_RECORDS

    assert VERIFY_CHUNK_RECORDS == CHUNK_RECORDS
