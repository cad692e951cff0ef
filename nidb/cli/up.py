"""`nidb up`: the whole stack for a newcomer, in one command.

`nidb serve` and the stand-ins of the other organisations (population database, VNeID, payment
gateway, business registry, MOLISA, a partner's webhook), each in its own process on a free
loopback port, with the settings between them wired (``NIDB_POPULATION_URL``,
``NIDB_VNEID_URL``/``_CLIENT_SECRET``, ``NIDB_PAYMENT_GATEWAY_URL``/``_SECRET``/
``_PUBLIC_BASE_URL``); on an empty register a small synthetic province is generated and loaded
first (as `nidb demo`). A demo citizen and a demo staff account are printed with how to sign
in. Ctrl-C (SIGINT) or SIGTERM stops every process it started: each runs in its own session,
is sent SIGTERM, and is killed if still there after ten seconds.

The national platforms' stand-ins (public service portal, NDXP, EMC, open data) start too, each
with a new API key in its ``NIDB_*_API_KEY`` variable; the table shows the command to run on
nidb's side with those settings (docs/platforms.md).

The mail server (``nidb sim smtp``) and the SMS gateway (``nidb sim sms``) receive the
notifications (``NIDB_SMTP_HOST``/``_PORT``, ``NIDB_SMS_URL``/``_API_KEY``), which
``nidb notify run --every 15`` delivers; what they received is listed at their ``/messages``.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO

from sqlalchemy import Engine, text

__all__ = ["DEMO_STAFF", "Process", "Stack", "free_port", "prepare", "start_stack"]

DEMO_STAFF = "demo.admin"
"""The demo staff account (central scope, role admin); its password is new at each `nidb up`."""


def free_port(preferred: int = 0, host: str = "127.0.0.1") -> int:
    """``preferred`` when nothing listens there, else a port the system picks."""
    for candidate in (preferred, 0) if preferred else (0,):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((host, candidate))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    raise OSError("no free port")


@dataclass
class Process:
    """One server of the stack."""

    name: str
    """What it is, in Vietnamese (for the table)."""
    url: str
    shows: str
    """What the URL shows, in Vietnamese."""
    args: list[str]
    ready_path: str
    popen: subprocess.Popen[bytes] | None = None
    log: Path | None = None


@dataclass
class Demo:
    """Who can sign in."""

    citizen_id: str | None
    citizen_name: str | None
    staff_password: str
    registry: Path | None
    employer_code: str | None = None
    """The employer ``nidb demo`` declared for, and its web password (new at each run)."""
    employer_password: str | None = None


@dataclass
class Stack:
    """The running processes, in start order."""

    processes: list[Process] = field(default_factory=list)

    def stop(self, grace_seconds: float = 10.0) -> None:
        """SIGTERM to every process group, then SIGKILL to what remains after the grace."""
        running = [p.popen for p in self.processes if p.popen and p.popen.poll() is None]
        for popen in running:
            _signal_group(popen.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace_seconds
        for popen in running:
            try:
                popen.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(popen.pid, signal.SIGKILL)
                popen.wait()

    def exited(self) -> Process | None:
        """The first process that ended on its own, if any."""
        return next((p for p in self.processes if p.popen and p.popen.poll() is not None), None)


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)


def prepare(
    engine: Engine,
    data_dir: Path,
    people: int,
    seed: int,
    on_stage: Callable[[str], None],
) -> Demo:
    """Load a synthetic province when the register is empty; (re)set the demo staff account's
    password and second factor (it enrols at its first sign-in); pick a demo citizen who has a verified record and a health-insurance card."""
    from nidb.cli.demo import run_demo
    from nidb.web.staff_totp import reset_second_factor
    from nidb.web.staff_users import StaffUserError, create_staff_user, set_password

    demo_dir = data_dir / "demo"
    with engine.connect() as conn:
        empty = not conn.execute(text("SELECT 1 FROM citizens LIMIT 1")).first()
    if empty:
        on_stage(f"CSDL trống: sinh và nạp một tỉnh mẫu {people:,} người (chỉ lần đầu)")
        run_demo(engine, demo_dir, people, seed, on_stage=lambda m: on_stage(f"  {m}"))
    password = "Demo-" + secrets.token_urlsafe(9)
    try:
        create_staff_user(
            engine,
            username=DEMO_STAFF,
            full_name="Cán bộ dùng thử",
            password=password,
            role="admin",
            scope_level="central",
            actor="cli:nidb-up",
        )
    except StaffUserError:
        set_password(engine, DEMO_STAFF, password, actor="cli:nidb-up")
        # the new password must be enough to get in: the phone of a previous run may be gone
        reset_second_factor(engine, DEMO_STAFF, actor="cli:nidb-up")
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT c.personal_id, c.full_name FROM citizens c "
                "JOIN persons p ON p.verified_personal_id = c.personal_id "
                "JOIN health_cards h ON h.bhxh_code = p.bhxh_code "
                "WHERE c.death_date IS NULL AND h.status = 'active' "
                "ORDER BY c.personal_id LIMIT 1"
            )
        ).first()
    registry = demo_dir / "registry.csv"
    employer_code, employer_password = _demo_employer(engine)
    return Demo(
        citizen_id=row[0] if row else None,
        citizen_name=row[1] if row else None,
        staff_password=password,
        registry=registry if registry.is_file() else None,
        employer_code=employer_code,
        employer_password=employer_password,
    )


def _demo_employer(engine: Engine) -> tuple[str | None, str | None]:
    """The employer of the demo (enrolled by ``nidb demo``) with a new web password."""
    from nidb.employers.accounts import set_password
    from nidb.employers.passwords import hash_password

    with engine.connect() as conn:
        code = conn.execute(
            text(
                "SELECT employer_code FROM employer_accounts WHERE enrolled_by = 'demo' "
                "ORDER BY employer_code LIMIT 1"
            )
        ).scalar_one_or_none()
    if code is None:
        return None, None
    password = "Don-vi-" + secrets.token_urlsafe(9)
    with engine.begin() as conn:
        set_password(conn, str(code), hash_password(password), "cli:nidb-up")
    return str(code), password


PLATFORMS = {
    "dvcqg": ("Cổng Dịch vụ công quốc gia (giả lập)", "NIDB_DVCQG", "nidb platforms portal-sync"),
    "ndxp": (
        "Nền tảng chia sẻ dữ liệu NDXP (giả lập)",
        "NIDB_NDXP",
        "nidb platforms ndxp-register",
    ),
    "emc": ("Hệ thống đo lường EMC (giả lập)", "NIDB_EMC", "nidb platforms emc-send"),
    "opendata": ("Cổng dữ liệu mở, API CKAN (giả lập)", "NIDB_OPENDATA", "nidb publish"),
}
"""The national platforms' stand-ins (docs/platforms.md): name, settings prefix, nidb's side."""


def _platforms(
    url: dict[str, str], ports: dict[str, int], env: dict[str, str], nidb: str
) -> list[Process]:
    """The platforms' stand-ins, each with a new API key; what to run on nidb's side is shown
    with the settings it needs (the stand-ins read the same variables)."""
    found = []
    for name, (title, prefix, command) in PLATFORMS.items():
        key = secrets.token_urlsafe(12)
        env[f"{prefix}_API_KEY"] = key
        setting = f"{prefix}_API_KEY={key}"
        if name != "opendata":
            env[f"{prefix}_URL"] = url[name]
            setting = f"{prefix}_URL={url[name]} {setting}"
        target = {"opendata": f" --out open --push {url[name]}", "ndxp": f" --public-url {nidb}"}
        target_args = target.get(name, "")
        found.append(
            Process(
                title,
                url[name],
                f"chạy: {setting} {command}{target_args}",
                ["sim", name, "--port", str(ports[name])],
                "/docs",
            )
        )
    return found


def plan(
    demo: Demo, database_url: str, host: str, port: int
) -> tuple[list[Process], dict[str, str]]:
    """The processes to start and the settings nidb needs to reach them."""
    nidb = f"http://{host}:{free_port(port, host)}"
    ports = {
        name: free_port(0, host)
        for name in (
            "pop",
            "vneid",
            "pay",
            "biz",
            "molisa",
            "hook",
            "smtp",
            "mail",
            "sms",
            *PLATFORMS,
        )
    }
    url = {name: f"http://{host}:{p}" for name, p in ports.items()}
    vneid_secret = secrets.token_urlsafe(16)
    payment_secret = secrets.token_urlsafe(16)
    sms_key = secrets.token_urlsafe(16)
    env = {
        "NIDB_DATABASE_URL": database_url,
        "NIDB_VNEID_URL": url["vneid"],
        "NIDB_VNEID_CLIENT_SECRET": vneid_secret,
        "NIDB_PAYMENT_GATEWAY_URL": url["pay"],
        "NIDB_PAYMENT_SECRET": payment_secret,
        "NIDB_PAYMENT_PUBLIC_BASE_URL": nidb,
        "NIDB_PUBLIC_URL": nidb,
        "NIDB_SMTP_HOST": host,
        "NIDB_SMTP_PORT": str(ports["smtp"]),
        "NIDB_SMS_URL": url["sms"],
        "NIDB_SMS_API_KEY": sms_key,
        "NIDB_NOTIFY_BACKOFF_SECONDS": "5",
        "NIDB_NOTIFY_ACCESS_EVERY_MINUTES": "1",
    }
    sim = ["sim"]
    processes = []
    if demo.registry is not None:
        env["NIDB_POPULATION_URL"] = url["pop"]
        processes.append(
            Process(
                "CSDL dân cư (giả lập)",
                url["pop"],
                "API xác thực công dân; tài liệu ở /docs",
                [*sim, "population", "--data", str(demo.registry), "--port", str(ports["pop"])],
                "/docs",
            )
        )
    processes += [
        Process(
            "VNeID (giả lập)",
            url["vneid"],
            "trang đăng nhập công dân (OpenID Connect)",
            [
                *sim,
                "vneid",
                "--port",
                str(ports["vneid"]),
                "--db",
                database_url,
                "--client-secret",
                vneid_secret,
            ],
            "/.well-known/openid-configuration",
        ),
        Process(
            "Cổng thanh toán (giả lập)",
            url["pay"],
            "trang thanh toán khi gia hạn BHYT hộ gia đình",
            [*sim, "payment", "--port", str(ports["pay"]), "--secret", payment_secret],
            "/docs",
        ),
        Process(
            "Đăng ký doanh nghiệp (giả lập)",
            url["biz"],
            f"API và dòng thay đổi; nạp bằng: nidb feed business --url {url['biz']}",
            [*sim, "business", "--port", str(ports["biz"])],
            "/docs",
        ),
        Process(
            "CSDL an sinh xã hội, Bộ LĐTBXH (giả lập)",
            url["molisa"],
            f"API và dòng thay đổi; nạp bằng: nidb feed molisa --url {url['molisa']}",
            [*sim, "molisa", "--port", str(ports["molisa"])],
            "/docs",
        ),
        Process(
            "Webhook của đối tác (giả lập)",
            url["hook"],
            f"thông báo đã nhận ở /received; đăng ký bằng: nidb outbox subscribe … --url "
            f"{url['hook']}/events",
            [*sim, "webhook", "--port", str(ports["hook"])],
            "/docs",
        ),
        *_platforms(url, ports, env, nidb),
        Process(
            "Máy chủ thư (giả lập)",
            url["mail"],
            f"thư thông báo đã nhận ở /messages (SMTP cổng {ports['smtp']})",
            [
                *sim,
                "smtp",
                "--port",
                str(ports["smtp"]),
                "--http-port",
                str(ports["mail"]),
            ],
            "/messages",
        ),
        Process(
            "Cổng tin nhắn SMS (giả lập)",
            url["sms"],
            "tin SMS đã nhận ở /messages; gửi: POST /v1/messages",
            [*sim, "sms", "--port", str(ports["sms"]), "--api-key", sms_key],
            "/healthz",
        ),
        Process(
            "Gửi thông báo (nidb notify run)",
            "",
            "mỗi 15 giây: thư và SMS cho công dân đã đăng ký, nhắc nợ cho đơn vị",
            ["notify", "run", "--every", "15"],
            "",
        ),
        Process(
            "nidb",
            nidb,
            "cổng công dân /cong-dan/, dịch vụ công /cong-dan/dich-vu/, cán bộ /can-bo/, API /docs",
            ["serve", "--host", host, "--port", nidb.rsplit(":", 1)[1]],
            "/health",
        ),
    ]
    return processes, env


def start_stack(processes: list[Process], env: dict[str, str], logs: Path) -> Stack:
    """Start every process (each in its own session, its output in ``logs/NAME.log``) and wait
    until each answers; raise RuntimeError naming the one that did not."""
    import httpx

    logs.mkdir(parents=True, exist_ok=True)
    child_env = {**os.environ, **env}
    stack = Stack()
    for index, process in enumerate(processes):
        short = process.args[1] if process.args[0] == "sim" else process.args[0]
        process.log = logs / f"{index:02d}-{short}.log"
        with process.log.open("wb") as log:
            process.popen = subprocess.Popen(
                [sys.executable, "-m", "nidb", *process.args],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=child_env,
                start_new_session=True,
            )
        stack.processes.append(process)
    deadline = time.monotonic() + 120
    for process in processes:
        while process.url:  # a worker without a URL (the notifier) is ready once started
            ended = stack.exited()
            if ended is not None:
                stack.stop()
                raise RuntimeError(f"{ended.name} dừng khi khởi động; xem {ended.log}")
            try:
                if httpx.get(process.url + process.ready_path, timeout=2).status_code < 500:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                stack.stop()
                raise RuntimeError(f"{process.name} không trả lời sau 120 s; xem {process.log}")
            time.sleep(0.3)
    return stack


def run_until_stopped(stack: Stack, on_exit: Callable[[Process], None]) -> int:
    """Wait for Ctrl-C or SIGTERM (exit 130 / 0) or a process ending by itself (exit 1); stop
    every process either way."""
    stopping: list[int] = []

    def handler(signum: int, frame: FrameType | None) -> None:
        stopping.append(signum)

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not stopping:
            ended = stack.exited()
            if ended is not None:
                on_exit(ended)
                return 1
            time.sleep(0.3)
        return 130 if stopping[0] == signal.SIGINT else 0
    finally:
        stack.stop()
        for sig, old in previous.items():
            signal.signal(sig, old)


def log_tail(path: Path | None, lines: int = 15) -> str:
    """The last lines of a process's log."""
    if path is None or not path.is_file():
        return ""
    with path.open("rb") as handle:
        content: IO[bytes] = handle
        return b"".join(content.readlines()[-lines:]).decode("utf-8", "replace")
