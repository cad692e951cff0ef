"""`nidb serve`: run the HTTP API (partner services, staff API, portal and console).

Mounted by nidb.cli (`mount`). uvicorn and the application are imported when the command runs,
so that `nidb --help` stays fast.
"""

from pathlib import Path
from typing import Annotated

import typer

from nidb.terminal import err, handled

__all__ = ["mount", "serve_command"]


def mount(app: typer.Typer) -> None:
    """Add `nidb serve` to the main command."""
    app.command("serve")(serve_command)


def serve_command(
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8000,
    workers: Annotated[int, typer.Option("--workers", help="Số tiến trình")] = 1,
    key_file: Annotated[Path | None, typer.Option("--key-file", help="Khóa ký (PEM)")] = None,
) -> None:
    """Chạy dịch vụ API: chia sẻ dữ liệu với đối tác và API cán bộ (run the HTTP API).

    Nhật ký dạng JSON từng dòng ra stderr; số đo Prometheus ở /metrics, cộng dồn mọi tiến
    trình (logs as JSON lines on stderr; Prometheus metrics at /metrics, summed over workers).
    """
    import contextlib
    import os

    import uvicorn

    from nidb.api.logs import logging_config
    from nidb.settings import get_settings
    from nidb.store.db import open_engine

    with handled():
        open_engine()  # migrate once, before the workers start
    if key_file is not None:
        os.environ["NIDB_SIGNING_KEY_FILE"] = str(key_file)
    settings = get_settings()
    # before anything loads prometheus_client: it picks its storage when first imported
    os.environ[METRICS_DIR_ENV] = str(_fresh_metrics_dir(settings.data_dir / "metrics"))
    err.print(f"nidb serve: http://{host}:{port}/docs ({workers} tiến trình)")
    config = uvicorn.Config(
        "nidb.api.app:app_from_settings",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=logging_config(settings.log_level),
        log_level=settings.log_level.lower(),
        access_log=False,  # our own request line (nidb.http) names the route, never the path
    )
    with contextlib.suppress(KeyboardInterrupt):
        if config.workers > 1:
            # a socket per worker, so that connections spread evenly (nidb.api.workers)
            from nidb.api.workers import serve_workers

            serve_workers(config)
        else:
            uvicorn.Server(config).run()


METRICS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"


def _fresh_metrics_dir(folder: Path) -> Path:
    """The workers' shared metrics folder, emptied: counts start again with the server."""
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):
        stale.unlink()
    return folder
