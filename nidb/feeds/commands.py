"""The inbound-feed commands: `nidb feed business|population|molisa`.

Mounted by nidb.cli (`mount`). Thin: they parse, call nidb.feeds.*, print (in
Vietnamese first) and set exit codes: 0 done; 1 the source or the database is unavailable
(rerun: it continues from the stored cursor); 2 bad input. Another feed is one more command
on `feed_app` that calls `run_feed` with its follower, its report's labels and its errors.
"""

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Annotated, Any

import typer

from nidb.terminal import err, fail, handled, out

if TYPE_CHECKING:
    from sqlalchemy import Engine

__all__ = ["feed_app", "mount", "run_feed"]

feed_app = typer.Typer(
    help="Nhận luồng thay đổi từ CSDL khác (inbound change feeds from other registries).",
    no_args_is_help=True,
)

UrlOption = Annotated[
    str, typer.Option("--url", help="Địa chỉ dịch vụ, ví dụ http://127.0.0.1:8002")
]
FollowOption = Annotated[
    bool, typer.Option("--follow", help="Chạy liên tục, hỏi lại sau mỗi --interval giây")
]
IntervalOption = Annotated[float, typer.Option("--interval", min=0.1, help="Giây giữa hai lần hỏi")]
PageOption = Annotated[int, typer.Option("--page-size", min=1, max=1000)]
RetriesOption = Annotated[int, typer.Option("--retries", min=0, help="Số lần thử lại mỗi yêu cầu")]


def mount(app: typer.Typer) -> None:
    """Add `nidb feed` to the main command."""
    app.add_typer(feed_app, name="feed")


def run_feed(
    title: str,
    follow_once: "Callable[[Engine], object]",
    labels: Sequence[tuple[str, str]],
    *,
    follow: bool,
    interval: float,
    unavailable: tuple[type[BaseException], ...] | None = None,
) -> None:
    """Apply a feed once, or keep following it; print what was applied.

    `follow_once(engine)` applies everything new and returns its report; `labels` pairs a
    report attribute with its label ("đăng ký mới (registered)"); `unavailable` are the errors
    meaning the source could not be read (exit 1; default: `FeedError`). A report's `rejected`
    list, if any, is printed one message a line.
    """
    from nidb.feeds.feed import FeedError
    from nidb.store.db import open_engine

    unavailable = unavailable or (FeedError,)
    with handled():
        engine = open_engine()
        while True:
            try:
                report = follow_once(engine)
            except unavailable as error:
                raise fail(
                    f"{title}: không đọc được luồng thay đổi, chạy lại sẽ tiếp tục từ con trỏ "
                    f"(feed unavailable; a rerun continues from the cursor): {error}",
                    1,
                ) from None
            _print(title, report, labels, quiet=follow)
            if not follow:
                return
            time.sleep(interval)


def _print(title: str, report: Any, labels: Sequence[tuple[str, str]], *, quiet: bool) -> None:
    if quiet and not report.events:
        return
    parts = [
        f"{label} {getattr(report, name):,}" for name, label in labels if getattr(report, name)
    ]
    out.print(
        f"{title}: {report.events:,} sự kiện trong {report.pages:,} trang (events in pages)"
        + (f" — {', '.join(parts)}" if parts else ""),
        highlight=False,
    )
    for message in getattr(report, "rejected", ()):
        err.print(f"[yellow]Bị từ chối (rejected):[/] {message}", highlight=False)


BUSINESS_LABELS = (
    ("registered", "đăng ký mới (registered)"),
    ("changed", "thay đổi (changed)"),
    ("closed", "giải thể (closed)"),
    ("workers_flagged", "người lao động cần rà soát (workers flagged)"),
    ("unchanged", "không đổi (unchanged)"),
    ("unknown_enterprise", "doanh nghiệp chưa có trong sổ (unknown enterprises)"),
)
MOLISA_LABELS = (
    ("added", "đối tượng mới (added)"),
    ("updated", "cập nhật (updated)"),
    ("ended", "thôi hưởng (ended)"),
    ("cards_issued", "thẻ BHYT đã cấp (cards issued)"),
    ("cards_shortened", "thẻ rút ngắn hạn (cards shortened)"),
    ("already_covered", "đã có thẻ (already covered)"),
    ("persons_unknown", "chưa xác định được người (persons not known yet)"),
    ("entries_unknown", "không có đối tượng (unknown entries)"),
    ("unchanged", "không đổi (unchanged)"),
)


@feed_app.command("business")
def feed_business(
    url: UrlOption,
    follow: FollowOption = False,
    interval: IntervalOption = 10.0,
    page_size: PageOption = 500,
    retries: RetriesOption = 3,
) -> None:
    """CSDL quốc gia về đăng ký doanh nghiệp → đơn vị sử dụng lao động (business registry)."""
    from nidb.connectors.population import RetryPolicy
    from nidb.feeds.business import business_client, follow_business

    with business_client(url, retry=RetryPolicy(retries=retries)) as client:
        run_feed(
            "CSDL đăng ký doanh nghiệp (business registry)",
            lambda engine: follow_business(engine, client, page_size),
            BUSINESS_LABELS,
            follow=follow,
            interval=interval,
        )


POPULATION_LABELS = (
    ("deaths", "báo tử (deaths)"),
    ("cards_suspended", "thẻ tạm dừng (cards suspended)"),
    ("benefits_stopped", "chế độ dừng chi trả (benefits stopped)"),
    ("alerts", "cảnh báo (alerts)"),
    ("name_changes", "đổi tên (name changes)"),
    ("id_corrections", "sửa số định danh (ID corrections)"),
    ("not_held", "người không có trong sổ (not held here)"),
    ("skipped", "bị từ chối (rejected)"),
)


@feed_app.command("population")
def feed_population(
    url: Annotated[
        str | None,
        typer.Option("--url", help="CSDL dân cư (mặc định NIDB_POPULATION_URL)"),
    ] = None,
    follow: FollowOption = False,
    interval: IntervalOption = 10.0,
    page_size: PageOption = 500,
    retries: RetriesOption = 3,
) -> None:
    """CSDL quốc gia về dân cư → báo tử, đổi tên, sửa số định danh (population database)."""
    from nidb.connectors.population import PopulationClient, PopulationError, RetryPolicy
    from nidb.feeds.population import follow_population
    from nidb.settings import get_settings

    base = url or get_settings().population_url
    if not base:
        raise fail("cần --url hoặc NIDB_POPULATION_URL (the population service's URL)")
    with PopulationClient(base, retry=RetryPolicy(retries=retries)) as client:
        run_feed(
            "CSDL quốc gia về dân cư (population database)",
            lambda engine: follow_population(engine, client, page_size),
            POPULATION_LABELS,
            follow=follow,
            interval=interval,
            unavailable=(PopulationError,),
        )


@feed_app.command("molisa")
def feed_molisa(
    url: UrlOption,
    follow: FollowOption = False,
    interval: IntervalOption = 10.0,
    page_size: PageOption = 500,
    retries: RetriesOption = 3,
) -> None:
    """CSDL an sinh xã hội (Bộ LĐTBXH) → đối tượng hưởng và thẻ BHYT do nhà nước đóng (MOLISA)."""
    from nidb.connectors.population import RetryPolicy
    from nidb.feeds.molisa import follow_molisa, molisa_client

    with molisa_client(url, retry=RetryPolicy(retries=retries)) as client:
        run_feed(
            "CSDL an sinh xã hội (MOLISA)",
            lambda engine: follow_molisa(engine, client, page_size),
            MOLISA_LABELS,
            follow=follow,
            interval=interval,
        )
