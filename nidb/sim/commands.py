"""The stand-ins' commands: `nidb sim population|webhook|business|molisa|payment|smtp|sms|vneid|ivan`,
`nidb sim dvcqg|ndxp|emc|opendata` (the national platforms) and
`nidb generate` (the synthetic country).

Mounted by nidb.cli (`mount`). The stand-ins play other organisations: like the rest of
nidb.sim, these commands use only nidb.domain, nidb.protocol and nidb.terminal. What a stand-in
must know of nidb itself when an option is left out (nidb's public key for the webhook, nidb's
client secret for VNeID) is given by nidb.cli as `NidbDefaults`. Each stand-in's server is
imported when its command runs, so that `nidb --help` stays fast.
Exit codes: 0 done (a server ran until stopped); 2 bad input named in the message.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from nidb.terminal import RowProgress, fail, out

if TYPE_CHECKING:
    from nidb.sim.population.faults import FaultConfig

__all__ = ["NidbDefaults", "generate_command", "mount", "sim_app"]


@dataclass(frozen=True, slots=True)
class NidbDefaults:
    """What the stand-ins take from nidb's own configuration when an option is left out."""

    published_keys: Callable[[], dict[str, Any]]
    """nidb's public keys as ``/keys`` publishes them, read from its key files (`nidb sim
    webhook` without --nidb-key or --nidb-url; read again when a message names a new kid)."""
    vneid_client_secret: Callable[[], str]
    """nidb's client secret at VNeID (`nidb sim vneid` without --client-secret)."""


sim_app = typer.Typer(
    help="Hệ thống giả lập của cơ quan khác (stand-ins for other agencies' systems).",
    no_args_is_help=True,
)
_nidb: NidbDefaults | None = None


def mount(app: typer.Typer, nidb: NidbDefaults) -> None:
    """Add `nidb generate` and `nidb sim` to the main command."""
    global _nidb
    _nidb = nidb
    app.command("generate")(generate_command)
    app.add_typer(sim_app, name="sim")


def _defaults() -> NidbDefaults:
    if _nidb is None:
        raise RuntimeError("nidb.sim.commands.mount() gives the stand-ins nidb's defaults")
    return _nidb


# --- nidb generate ----------------------------------------------------------------------------


def generate_command(
    out_dir: Annotated[Path, typer.Argument(help="Thư mục ghi các tệp (output folder).")],
    people: Annotated[int, typer.Option(min=1, help="Số người trong CSDL dân cư.")] = 20_000,
    seed: Annotated[int, typer.Option(help="Hạt giống ngẫu nhiên (same seed, same files).")] = 1,
    file_format: Annotated[str, typer.Option("--format", help="csv | parquet")] = "csv",
    rate: Annotated[
        list[str] | None,
        typer.Option(help="Tỉ lệ lỗi, dạng tên=giá_trị, e.g. --rate name_typo=0.05 (repeatable)."),
    ] = None,
    error_model: Annotated[
        int,
        typer.Option(
            min=1,
            max=2,
            help="Mô hình lỗi nhập liệu: 1 (mặc định) hoặc 2, thiết kế độc lập "
            "để kiểm tra khái quát hoá (typing-error model: 2 is an independent one, CSV only).",
        ),
    ] = 1,
) -> None:
    """Sinh một quốc gia tổng hợp (generate a synthetic country in the interchange layouts)."""
    from nidb.sim.generate import ErrorRates, generate

    if file_format not in ("csv", "parquet"):
        raise fail(f"--format {file_format!r} không hợp lệ; chọn csv hoặc parquet")
    if error_model == 2 and (file_format != "csv" or rate):
        raise fail("--error-model 2 chỉ dùng với csv và không kèm --rate (CSV only, no --rate)")
    rates = _parse_rates(ErrorRates, rate or [])
    if error_model == 2:
        import dataclasses

        from nidb.sim.generate.errors2 import MODEL_1_TYPING_OFF

        rates = dataclasses.replace(rates or ErrorRates(), **MODEL_1_TYPING_OFF)
    started = time.perf_counter()
    with RowProgress("sinh dữ liệu (generating)", unit="bước") as bar:
        summary = generate(
            out_dir,
            people,
            seed,
            rates=rates,
            fmt=file_format,  # type: ignore[arg-type]
            progress=lambda stage, done, total: bar.update(done, done, total),
        )
    if error_model == 2:
        from nidb.sim.generate.errors2 import apply_error_model_2

        apply_error_model_2(out_dir, seed)
    table = Table(
        title=f"Đã sinh (generated) → {out_dir} trong {time.perf_counter() - started:.1f} s"
    )
    table.add_column("tệp (file)")
    table.add_column("dòng (rows)", justify="right")
    for name, rows in summary.rows.items():
        table.add_row(name, f"{rows:,}")
    out.print(table)


def _parse_rates(rates_type: Any, pairs: list[str]) -> Any:
    import dataclasses

    known = {f.name for f in dataclasses.fields(rates_type)}
    values: dict[str, float] = {}
    for pair in pairs:
        name, _, raw = pair.partition("=")
        if name not in known:
            raise fail(
                f"--rate {pair!r}: không có tỉ lệ tên {name!r}; có: {', '.join(sorted(known))}"
            )
        try:
            value = float(raw)
        except ValueError:
            raise fail(f"--rate {pair!r}: giá trị phải là số từ 0 đến 1") from None
        if not 0.0 <= value <= 1.0:
            raise fail(f"--rate {pair!r}: giá trị phải nằm trong [0, 1]")
        values[name] = value
    return rates_type(**values)


# --- nidb sim population ----------------------------------------------------------------------


@sim_app.command("claims-catalogues")
def sim_claims_catalogues(
    out_dir: Annotated[Path, typer.Argument(help="Thư mục ghi các tệp CSV")],
    provinces: Annotated[
        str, typer.Option("--provinces", help="Mã tỉnh, cách nhau bởi dấu phẩy")
    ] = "01,79",
    per_province: Annotated[int, typer.Option("--per-province", min=1, max=999)] = 12,
) -> None:
    """Danh mục cơ sở KCB, thuốc, dịch vụ giả lập (synthetic claims catalogues, CSV)."""
    from nidb.sim.generate.claims import write_catalogues

    codes = [p.strip() for p in provinces.split(",") if p.strip()]
    if not codes or any(len(c) != 2 or not c.isdigit() for c in codes):
        raise fail("--provinces: mã tỉnh 2 chữ số (2-digit province codes)", 2)
    for kind, path in write_catalogues(out_dir, codes, per_province).items():
        out.print(f"{kind}: {path}", highlight=False)


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
        with RowProgress(f"nạp {data.name}") as bar:
            registry = load_registry(data, progress=lambda rows: bar.update(rows, 0, 0))
    except (RegistryFileError, ValueError, OSError) as error:
        raise fail(str(error), 2) from None
    out.print(f"{len(registry):,} người — http://{host}:{port} (OpenAPI: /docs)")
    serve(data, host, port, faults, admin=admin, registry=registry)


# --- nidb sim webhook -------------------------------------------------------------------------


@sim_app.command("webhook")
def sim_webhook(
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8090,
    host: str = "127.0.0.1",
    nidb_key: Annotated[
        list[str] | None,
        typer.Option(
            "--nidb-key",
            help="Khóa công khai của nidb, tin cố định (có thể nhắc lại; pinned public key)",
        ),
    ] = None,
    nidb_url: Annotated[
        str | None,
        typer.Option(
            "--nidb-url",
            help="Địa chỉ nidb: tin các khóa công bố tại /keys (mặc định: tệp khóa cục bộ)",
        ),
    ] = None,
    member: Annotated[str | None, typer.Option("--member", help="Mã đối tác nhận")] = None,
    fail_rate: Annotated[float, typer.Option(min=0.0, max=1.0)] = 0.0,
    ack_loss_rate: Annotated[float, typer.Option(min=0.0, max=1.0)] = 0.0,
    slow_ms: Annotated[float, typer.Option(min=0.0)] = 0.0,
    down_seconds: Annotated[float, typer.Option(min=0.0)] = 0.0,
    seed: int = 0,
) -> None:
    """Webhook giả lập của đối tác nhận thông báo (the partner's webhook stand-in)."""
    from nidb.protocol.trusted import TrustedKeys, fetch_keys
    from nidb.sim.webhook import FaultSettings, serve

    if nidb_key:
        trusted = TrustedKeys.pinned(*nidb_key)
    elif nidb_url:
        trusted = TrustedKeys(fetch_keys(nidb_url.rstrip("/") + "/keys"))
    else:
        trusted = TrustedKeys(_defaults().published_keys, min_refresh=1.0)
    faults = FaultSettings(
        down_seconds=down_seconds,
        slow_ms=slow_ms,
        fail_rate=fail_rate,
        ack_loss_rate=ack_loss_rate,
        seed=seed,
    )
    out.print(f"Webhook: http://{host}:{port}/events (đã nhận: /received, /stats)")
    serve(trusted, host, port, member, faults)


# --- nidb sim business, nidb sim molisa -------------------------------------------------------

DataOption = Annotated[
    Path | None, typer.Option("--data", help="Tệp dữ liệu ban đầu (CSV có dòng tiêu đề, hoặc JSON)")
]


def _faults(error_rate: float, timeout_rate: float, latency_ms: float, seed: int) -> "FaultConfig":
    from nidb.sim.population.faults import FaultConfig

    try:
        return FaultConfig(error_rate, timeout_rate, 30.0, latency_ms, seed)
    except ValueError as error:
        raise fail(str(error), 2) from None


@sim_app.command("business")
def sim_business(
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8002,
    host: str = "127.0.0.1",
    data: DataOption = None,
    error_rate: Annotated[float, typer.Option(help="Tỉ lệ trả 503.")] = 0.0,
    timeout_rate: Annotated[float, typer.Option(help="Tỉ lệ yêu cầu bị treo 30 s.")] = 0.0,
    latency_ms: Annotated[float, typer.Option(help="Độ trễ thêm cho mỗi yêu cầu.")] = 0.0,
    seed: int = 0,
) -> None:
    """CSDL quốc gia về đăng ký doanh nghiệp giả lập (the business-registry stand-in)."""
    from nidb.sim.business import BusinessRegistry, DataFileError, create_app, load_enterprises

    faults = _faults(error_rate, timeout_rate, latency_ms, seed)
    try:
        registry = BusinessRegistry(load_enterprises(data) if data else None)
    except (DataFileError, OSError, ValueError) as error:
        raise fail(str(error), 2) from None
    out.print(f"{len(registry):,} doanh nghiệp — http://{host}:{port} (OpenAPI: /docs)")
    _serve(create_app(faults=faults, registry=registry), host, port)


@sim_app.command("molisa")
def sim_molisa(
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8003,
    host: str = "127.0.0.1",
    data: DataOption = None,
    error_rate: Annotated[float, typer.Option(help="Tỉ lệ trả 503.")] = 0.0,
    timeout_rate: Annotated[float, typer.Option(help="Tỉ lệ yêu cầu bị treo 30 s.")] = 0.0,
    latency_ms: Annotated[float, typer.Option(help="Độ trễ thêm cho mỗi yêu cầu.")] = 0.0,
    seed: int = 0,
) -> None:
    """CSDL an sinh xã hội giả lập (the MOLISA social-welfare stand-in)."""
    from nidb.sim.molisa import WelfareRegistry, create_app, load_beneficiaries

    faults = _faults(error_rate, timeout_rate, latency_ms, seed)
    try:
        registry = WelfareRegistry(load_beneficiaries(data) if data else None)
    except (OSError, ValueError) as error:
        raise fail(str(error), 2) from None
    out.print(f"{len(registry):,} đối tượng — http://{host}:{port} (OpenAPI: /docs)")
    _serve(create_app(faults=faults, registry=registry), host, port)


def _serve(app: Any, host: str, port: int) -> None:
    import uvicorn

    uvicorn.run(app, host=host, port=port, log_level="info")


# --- nidb sim payment -------------------------------------------------------------------------


@sim_app.command("payment")
def sim_payment_command(
    port: Annotated[int, typer.Option(help="Cổng lắng nghe (webhook giả lập dùng 8090).")] = 8020,
    host: Annotated[str, typer.Option(help="Địa chỉ lắng nghe.")] = "127.0.0.1",
    secret: Annotated[
        str,
        typer.Option(
            envvar="NIDB_PAYMENT_SECRET", help="Khóa bí mật chung để ký thông báo (HMAC)."
        ),
    ] = "change-me",
) -> None:
    """Cổng thanh toán giả lập (payment-gateway stand-in) with signed callbacks."""
    from nidb.sim.payment.app import serve

    serve(host, port, secret)


# --- nidb sim smtp ----------------------------------------------------------------------------


@sim_app.command("smtp")
def sim_smtp_command(
    port: Annotated[int, typer.Option(help="Cổng SMTP.")] = 8025,
    http_port: Annotated[int, typer.Option(help="Cổng HTTP xem thư (GET /messages).")] = 8026,
    host: Annotated[str, typer.Option(help="Địa chỉ lắng nghe.")] = "127.0.0.1",
    folder: Annotated[Path | None, typer.Option(help="Thư mục lưu thư (.eml).")] = None,
) -> None:
    """Máy chủ thư giả lập (SMTP stand-in): nhận thư, xem qua HTTP GET /messages."""
    from nidb.sim.smtp.server import SmtpStandIn

    server = SmtpStandIn(host, port, http_port, folder).start()
    out.print(f"SMTP {host}:{server.smtp_port}; thư: http://{host}:{server.http_port}/messages")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


# --- nidb sim sms -----------------------------------------------------------------------------


@sim_app.command("sms")
def sim_sms_command(
    port: Annotated[int, typer.Option(help="Cổng lắng nghe.")] = 8027,
    host: Annotated[str, typer.Option(help="Địa chỉ lắng nghe.")] = "127.0.0.1",
    api_key: Annotated[
        str,
        typer.Option(envvar="NIDB_SMS_API_KEY", help="Khóa API nidb phải gửi (ít nhất 8 ký tự)."),
    ] = "sms-demo-key",
    fail_next: Annotated[
        int, typer.Option(min=0, help="Số lần gửi đầu tiên trả 503 (lỗi tạm thời).")
    ] = 0,
) -> None:
    """Cổng tin nhắn SMS giả lập (SMS-gateway stand-in): POST /v1/messages, xem GET /messages."""
    from nidb.sim.sms.app import SmsFaults, create_app

    try:
        app = create_app(api_key, SmsFaults(fail_next=fail_next))
    except ValueError as error:
        raise fail(str(error), 2) from None
    out.print(f"Cổng SMS http://{host}:{port}/v1/messages; tin đã nhận: /messages")
    _serve(app, host, port)


# --- nidb sim vneid ---------------------------------------------------------------------------


@sim_app.command("vneid")
def sim_vneid(
    port: Annotated[int, typer.Option(help="Cổng lắng nghe")] = 8010,
    host: Annotated[str, typer.Option(help="Địa chỉ lắng nghe")] = "127.0.0.1",
    people: Annotated[
        Path | None,
        typer.Option(help="CSV: personal_id, full_name, date_of_birth, gender[, password]"),
    ] = None,
    db: Annotated[
        str | None, typer.Option(help="Đọc công dân từ bảng citizens của CSDL này")
    ] = None,
    client_id: Annotated[str, typer.Option(help="client_id của nidb")] = "nidb-portal",
    client_secret: Annotated[
        str | None, typer.Option(help="client secret (mặc định NIDB_VNEID_CLIENT_SECRET)")
    ] = None,
    redirect_uri: Annotated[
        list[str] | None,
        typer.Option(
            help="redirect_uri được phép (lặp lại được); mặc định: callback trên loopback"
        ),
    ] = None,
    otp: Annotated[
        str, typer.Option(help="Mã OTP chung cho người không có mật khẩu riêng")
    ] = "123456",
    issuer: Annotated[str | None, typer.Option(help="issuer; mặc định http://HOST:PORT")] = None,
) -> None:
    """Chạy hệ thống giả lập VNeID (OpenID Connect) — a VNeID stand-in for development."""
    import re

    import uvicorn

    from nidb.sim.vneid.app import DEFAULT_REDIRECTS, RegisteredClient, create_app
    from nidb.sim.vneid.people import CsvPeople, DatabasePeople, People

    if db is not None and not db.strip():
        raise fail(
            "--db rỗng (biến môi trường trống?): cho URL của CSDL, ví dụ "
            "--db sqlite:///var/nidb.sqlite3 (empty --db: give the register's URL)"
        )
    if (people is None) == (db is None):
        raise fail("cần đúng một trong --people FILE hoặc --db URL")
    source: People
    if people is not None:
        if not people.is_file():
            raise fail(f"không có tệp {people}")
        source = CsvPeople(people)
    else:
        source = DatabasePeople(str(db))
    patterns = tuple(re.escape(uri) for uri in redirect_uri) if redirect_uri else DEFAULT_REDIRECTS
    secret = client_secret or _defaults().vneid_client_secret()
    app = create_app(
        source,
        [RegisteredClient(client_id, secret, patterns)],
        otp=otp,
        issuer=issuer or f"http://{host}:{port}",
    )
    out.print(f"VNeID (giả lập) tại http://{host}:{port} — client {client_id}", highlight=False)
    uvicorn.run(app, host=host, port=port, log_level="warning")


# --- nidb sim ivan ----------------------------------------------------------------------------


@sim_app.command("ivan")
def sim_ivan_command(
    nidb_url: Annotated[str, typer.Option("--nidb-url", help="Địa chỉ của nidb")] = (
        "http://127.0.0.1:8000"
    ),
    port: Annotated[int, typer.Option(help="Cổng lắng nghe.")] = 8030,
    host: Annotated[str, typer.Option(help="Địa chỉ lắng nghe.")] = "127.0.0.1",
    keys_dir: Annotated[
        Path | None, typer.Option("--keys-dir", help="Thư mục giữ khoá ký của đơn vị (PEM)")
    ] = None,
) -> None:
    """Nhà cung cấp I-VAN giả lập: giữ khoá, ký và chuyển hồ sơ khai báo của đơn vị tới nidb."""
    from nidb.sim.ivan.app import serve

    serve(host, port, nidb_url, keys_dir)


# --- nidb sim dvcqg | ndxp | emc | opendata (the national platforms) ---------------------------


@sim_app.command("dvcqg")
def sim_dvcqg_command(
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8031,
    host: str = "127.0.0.1",
    api_key: Annotated[
        str, typer.Option("--api-key", envvar="NIDB_DVCQG_API_KEY", help="Khóa API của BHXH.")
    ] = "change-me",
) -> None:
    """Cổng Dịch vụ công quốc gia giả lập (the National Public Service Portal stand-in)."""
    from nidb.sim.platforms.dvcqg import create_app

    out.print(f"Cổng DVCQG: http://{host}:{port} (OpenAPI: /docs)")
    _serve(create_app({"BHXH": api_key}), host, port)


def _pairs(raw: list[str], option: str) -> dict[str, str]:
    found = {}
    for item in raw:
        name, sep, key = item.partition("=")
        if not sep or not name or not key:
            raise fail(f"{option} {item!r}: cần dạng MÃ=KHÓA (expected CODE=KEY)", 2)
        found[name] = key
    return found


@sim_app.command("ndxp")
def sim_ndxp_command(
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8032,
    host: str = "127.0.0.1",
    api_key: Annotated[
        str,
        typer.Option("--api-key", envvar="NIDB_NDXP_API_KEY", help="Khóa API của BHXH (provider)."),
    ] = "change-me",
    consumer: Annotated[
        list[str] | None,
        typer.Option(
            "--consumer",
            help="Bên khai thác, dạng MÃ_THÀNH_VIÊN=KHÓA (consumer member code=API key; repeatable)",
        ),
    ] = None,
) -> None:
    """Nền tảng tích hợp, chia sẻ dữ liệu quốc gia giả lập (the NDXP stand-in)."""
    from nidb.sim.platforms.ndxp import create_app

    consumers = _pairs(consumer or [], "--consumer")
    out.print(f"NDXP: http://{host}:{port} (OpenAPI: /docs), {len(consumers)} bên khai thác")
    _serve(create_app({"BHXH": api_key}, consumers), host, port)


@sim_app.command("emc")
def sim_emc_command(
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8033,
    host: str = "127.0.0.1",
    api_key: Annotated[
        str, typer.Option("--api-key", envvar="NIDB_EMC_API_KEY", help="Khóa API của BHXH.")
    ] = "change-me",
) -> None:
    """Hệ thống EMC đo lường dịch vụ công giả lập (the EMC measurement stand-in)."""
    from nidb.sim.platforms.emc import create_app

    out.print(f"EMC: http://{host}:{port} (OpenAPI: /docs; đã nhận: /v1/stats)")
    _serve(create_app({"BHXH": api_key}), host, port)


@sim_app.command("opendata")
def sim_opendata_command(
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8034,
    host: str = "127.0.0.1",
    api_key: Annotated[
        str,
        typer.Option("--api-key", envvar="NIDB_OPENDATA_API_KEY", help="Khóa API (CKAN API key)."),
    ] = "change-me",
) -> None:
    """Cổng dữ liệu mở quốc gia giả lập, API CKAN (the open-data portal stand-in)."""
    from nidb.sim.platforms.ckan import create_app

    out.print(f"Cổng dữ liệu mở: http://{host}:{port}/api/3/action/package_list (OpenAPI: /docs)")
    _serve(create_app({"bhxh": api_key}), host, port)
