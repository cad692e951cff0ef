"""`nidb platforms ...`: nidb's side of the national platforms (issue 17, item 5).

``portal-sync`` (the public service portal: fetch its dossiers, send their statuses back),
``emc-send`` (usage events to the EMC measurement system) and ``ndxp-register`` (list nidb's
partner services in the data-sharing platform's catalogue); ``nidb publish --push`` covers the
open-data portal. They span several capabilities (services, exchange), so the command line
composes them. Each platform's URL and API key come from an option or its ``NIDB_*`` variable;
``--watch`` repeats a run every so many seconds until Ctrl-C.
Exit codes: 0 done; 1 the platform could not be reached (the run stops; the next run resumes);
2 bad input named in the message.
"""

import time
from collections.abc import Callable
from typing import Annotated

import typer

from nidb.terminal import fail, handled, out

__all__ = ["mount"]

platforms_app = typer.Typer(
    help="Kết nối các nền tảng quốc gia (Cổng DVCQG, NDXP, EMC) — national platforms.",
    no_args_is_help=True,
)


def mount(app: typer.Typer) -> None:
    """Add `nidb platforms` to the main command."""
    app.add_typer(platforms_app, name="platforms")


Watch = Annotated[
    float,
    typer.Option("--watch", min=0, help="Lặp lại sau mỗi số giây này (0: chạy một lần)."),
]


def _repeat(run: Callable[[], bool], watch: float) -> None:
    """Run once, or every ``watch`` seconds until Ctrl-C; exit 1 if a single run stopped."""
    with handled():
        while True:
            completed = run()
            if not watch:
                if not completed:
                    raise typer.Exit(1)
                return
            time.sleep(watch)


def _need(value: str | None, option: str, variable: str) -> str:
    if not value:
        raise fail(f"thiếu {option} (hoặc biến {variable}) — {option} or {variable} is needed", 2)
    return value


@platforms_app.command("portal-sync")
def portal_sync_command(
    url: Annotated[
        str | None, typer.Option(envvar="NIDB_DVCQG_URL", help="URL của Cổng DVCQG.")
    ] = None,
    api_key: Annotated[
        str | None, typer.Option(envvar="NIDB_DVCQG_API_KEY", help="Khóa API của BHXH tại Cổng.")
    ] = None,
    watch: Watch = 0.0,
) -> None:
    """Nhận hồ sơ nộp trên Cổng DVCQG và gửi trạng thái về Cổng (portal dossiers in, statuses out)."""
    from nidb.connectors.platforms import PortalClient
    from nidb.services.portal import sync
    from nidb.store.db import open_engine

    base, key = (
        _need(url, "--url", "NIDB_DVCQG_URL"),
        _need(api_key, "--api-key", "NIDB_DVCQG_API_KEY"),
    )

    def run() -> bool:
        with PortalClient(base, key) as portal:
            result = sync(open_engine(), portal)
        out.print(
            f"Cổng DVCQG: nhận {len(result.opened)} hồ sơ, từ chối {len(result.rejected)}, "
            f"gửi {result.statuses_sent} trạng thái"
            + (
                f", Cổng không nhận {len(result.statuses_refused)}"
                if result.statuses_refused
                else ""
            )
            + (f" — dừng: {result.stopped}" if result.stopped else "")
        )
        return result.stopped is None

    _repeat(run, watch)


@platforms_app.command("emc-send")
def emc_send_command(
    url: Annotated[
        str | None, typer.Option(envvar="NIDB_EMC_URL", help="URL của hệ thống EMC.")
    ] = None,
    api_key: Annotated[
        str | None, typer.Option(envvar="NIDB_EMC_API_KEY", help="Khóa API của BHXH tại EMC.")
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, max=1000)] = 500,
    watch: Watch = 0.0,
) -> None:
    """Gửi sự kiện sử dụng dịch vụ công cho hệ thống EMC (usage events to EMC)."""
    from nidb.connectors.platforms import EmcClient
    from nidb.services.measurement import send_usage
    from nidb.store.db import open_engine

    base, key = _need(url, "--url", "NIDB_EMC_URL"), _need(api_key, "--api-key", "NIDB_EMC_API_KEY")

    def run() -> bool:
        with EmcClient(base, key) as emc:
            result = send_usage(open_engine(), emc, batch_size=batch_size)
        out.print(
            f"EMC: {result.events} sự kiện trong {result.batches} lô"
            + (
                f", EMC không nhận {len(result.refused)} sự kiện: "
                + ", ".join(f"{event} ({code})" for event, code in result.refused[:10])
                if result.refused
                else ""
            )
            + (f" — dừng: {result.stopped}" if result.stopped else "")
        )
        return result.stopped is None

    _repeat(run, watch)


@platforms_app.command("ndxp-register")
def ndxp_register_command(
    public_url: Annotated[
        str,
        typer.Option(
            "--public-url",
            envvar="NIDB_PUBLIC_URL",
            help="URL mà nền tảng dùng để gọi nidb (where the platform reaches nidb).",
        ),
    ],
    url: Annotated[str | None, typer.Option(envvar="NIDB_NDXP_URL", help="URL của NDXP.")] = None,
    api_key: Annotated[
        str | None, typer.Option(envvar="NIDB_NDXP_API_KEY", help="Khóa API của BHXH tại NDXP.")
    ] = None,
) -> None:
    """Đăng ký các dịch vụ của nidb vào danh mục của NDXP (list nidb's services at NDXP)."""
    from nidb.connectors.platforms import NdxpClient, PlatformError
    from nidb.exchange.ndxp import register

    base, key = (
        _need(url, "--url", "NIDB_NDXP_URL"),
        _need(api_key, "--api-key", "NIDB_NDXP_API_KEY"),
    )
    with NdxpClient(base, key) as client:
        try:
            listed = register(client, public_url)
        except PlatformError as error:
            raise fail(f"{error.message_vi} ({error.message_en})", 1) from None
    out.print(f"NDXP: đã đăng ký {len(listed['services'])} dịch vụ của {listed['provider']}")
