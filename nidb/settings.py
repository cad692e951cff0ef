"""The single settings object: every knob is an environment variable with the NIDB_ prefix."""

from __future__ import annotations

import contextlib
import getpass
import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from nidb.settings_error import SettingsError


class Settings(BaseSettings):
    """nidb configuration, read from the environment (``NIDB_*``)."""

    model_config = SettingsConfigDict(env_prefix="NIDB_", extra="ignore")

    data_dir: Path = Path("var")
    """Where the embedded database and generated files live by default."""

    database_url: str | None = None
    """SQLAlchemy URL; defaults to a SQLite file in ``data_dir``. PostgreSQL:
    ``postgresql+psycopg://user@host:port/db``."""

    import_chunk_rows: int = 20_000
    """Rows validated and written per chunk during an import (memory stays flat)."""

    import_workers: int = max(1, min(4, os.cpu_count() or 1))
    """Processes validating rows during an import (1 = in the importing process)."""

    population_url: str | None = None
    """Base URL of the population database's verification service (CSDLQG về dân cư), e.g.
    ``http://127.0.0.1:8001``; the default of ``nidb verify --population-url``."""

    timezone: str = "Asia/Ho_Chi_Minh"
    """Business-rule time zone; timestamps are stored in UTC."""

    cookie_secure: bool = False
    """Mark the session cookies ``Secure`` (set true whenever the portal is served over HTTPS)."""

    staff_idle_minutes: int = 15
    """A staff session ends after this long without a request."""

    citizen_idle_minutes: int = 30
    """A citizen session ends after this long without a request."""

    session_max_hours: int = 8
    """No web session lives longer than this, however active."""

    staff_totp_required_for_all: bool = False
    """Require the second factor (TOTP, xác thực hai bước) of every staff role, not only of
    admins and approvers (who always need it)."""

    staff_totp_key_file: Path | None = None
    """The key that encrypts staff TOTP secrets at rest (AES-256-GCM); default
    ``data_dir/keys/staff-totp.key``, created (mode 0600) on first use. Every process serving
    the console must read the same file; back it up apart from the database."""

    signing_key_grace_days: int = Field(default=30, ge=1, le=3650)
    """After ``nidb keys rotate``, nidb's previous public key stays published at ``/keys`` this
    many days, so that partners can still verify replies it signed while they refresh."""

    signing_key_check_seconds: float = Field(default=1.0, gt=0, le=60)
    """How often each server process looks at the signing key file (two ``stat`` calls): after
    ``nidb keys rotate`` every worker signs with the new key within this many seconds, without
    a restart."""

    vneid_url: str | None = None
    """Base URL of the VNeID identity provider (OpenID Connect issuer), e.g. the stand-in
    ``http://127.0.0.1:8010`` started by ``nidb sim vneid``."""

    vneid_client_id: str = "nidb-portal"
    """nidb's client id registered with VNeID."""

    vneid_client_secret: str = "nidb-portal-secret"
    """nidb's client secret registered with VNeID (set a real one outside development)."""

    public_url: str | None = None
    """The portal's own external base URL, for the OpenID Connect ``redirect_uri``; default:
    taken from the incoming request."""

    db_pool_size: int = Field(default=10, ge=1, le=200)
    """PostgreSQL connections each process keeps open (SQLAlchemy's ``pool_size``). A connection
    beyond it (up to ``db_max_overflow`` more) is closed as soon as it is returned, and opening
    one costs a server process, so the steady load of a ``nidb serve`` worker should fit in
    it: the declaration path uses at most ``declaration_threads`` at once."""

    db_max_overflow: int = Field(default=10, ge=0, le=200)
    """Extra PostgreSQL connections a process may open for a burst (closed when returned).
    Each ``nidb serve`` worker may hold ``db_pool_size + db_max_overflow`` connections: keep
    their sum over all workers and hosts under the server's ``max_connections``."""

    declaration_threads: int = Field(default=6, ge=1, le=64)
    """Signed employer declarations each ``nidb serve`` worker applies at once; more wait their
    turn. Each declaration makes about twenty database round trips in a thread, and every
    round trip hands the interpreter lock between the threads of a worker: beyond a few
    threads that hand-off, not the CPU, bounds throughput (bench/employer_declarations.py:
    132 declarations/s with 40 threads, ~158 with 4 to 10, on the same machine)."""

    access_log_linger_ms: float = Field(default=3.0, ge=0, le=100)
    """How long a busy access-log writer keeps its batch open for more entries (PostgreSQL):
    one commit per dozen requests instead of one per request (docs/exchange.md)."""

    # Retention (thời hạn lưu trữ): how long nidb keeps what is not the register itself. The
    # reasoning behind each default, and its legal basis where one is known, is in README.md
    # ("Operating nidb", Retention) and nidb/retention/kinds.py; `nidb retention apply` removes
    # what is past its period.
    retention_access_log_days: int = Field(default=1825, ge=365)
    """Access-log entries (who read whose data), counted from the read: 5 years."""

    retention_evidence_days: int = Field(default=365, ge=30)
    """Evidence files of correction requests, counted from the request's decision."""

    retention_dossier_files_days: int = Field(default=1825, ge=365)
    """Files attached to online-service dossiers, counted from the dossier's closing."""

    retention_sessions_days: int = Field(default=0, ge=0)
    """Web sessions and VNeID sign-ins in flight, counted from their expiry."""

    retention_rejected_files_days: int = Field(default=90, ge=1)
    """Rejected-row files (``FILE.rejected.csv``, ``OUT.rejected.csv``), from when written."""

    retention_outbox_days: int = Field(default=90, ge=1)
    """Outbox events delivered to (or skipped by) every subscriber, counted from fan-out."""

    retention_notify_days: int = Field(default=365, ge=30)
    """E-mails and SMS sent (or failed) to citizens and employers, counted from sending (or the
    last attempt); pending ones are never removed."""

    retention_message_ids_days: int = Field(default=30, ge=1)
    """Employers' message ids kept against replays, counted from receipt (a message older than
    5 minutes is refused as stale anyway)."""

    retention_extract_days: int = Field(default=30, ge=1)
    """Partners' bulk-extract jobs and their answers, counted from the job's end."""

    retention_folders: str = ""
    """Folders (separated by ``:``) searched, with their subfolders, for rejected-row files past
    their period, besides those beside the files the register imported and ``data_dir``."""

    metrics_token: str | None = Field(default=None, min_length=16)
    """Bearer token a Prometheus server presents to read ``/metrics`` of ``nidb serve``
    (``Authorization: Bearer …``). Unset: ``/metrics`` answers loopback clients only."""

    log_level: str = Field(default="INFO", pattern="^(DEBUG|INFO|WARNING|ERROR)$")
    """Level of the JSON-lines log of ``nidb serve`` (stderr). Libraries that would echo SQL
    parameters or URLs (personal data) stay at WARNING whatever this says."""

    @field_validator("log_level", mode="before")
    @classmethod
    def _level_in_capitals(cls, value: object) -> object:
        """``info`` and ``INFO`` are the same level."""
        return value.strip().upper() if isinstance(value, str) else value

    backup_key: SecretStr | None = None
    """The key of ``nidb backup`` and ``nidb restore``: 32 random bytes in base64 (e.g. ``openssl
    rand -base64 32``). Keep it apart from the backups (a vault, a sealed envelope): without it
    a backup cannot be read, and with it anyone holding a backup can."""

    pg_bin_dir: Path | None = None
    """Where ``pg_dump`` and ``pg_restore`` are, if not found for the server's major version
    (``/usr/lib/postgresql/<major>/bin``, then beside ``pg_ctl``, then on ``PATH``)."""

    rate_limit_shared: bool = True
    """Partners' rate limits held in the database, for every worker process and machine at once
    (``nidb.exchange.ratelimit``); false keeps one bucket per process, so N workers admit N
    times a partner's rate (only for a single process, or to measure the difference)."""

    # Notifications (thông báo): e-mail over SMTP, SMS through a gateway (docs/notifications.md).
    smtp_host: str = "127.0.0.1"
    """The mail server nidb hands e-mail notifications to (``nidb sim smtp`` listens on 8025)."""

    smtp_port: int = Field(default=8025, ge=1, le=65535)
    """Its SMTP port."""

    sms_url: str | None = None
    """Base URL of the SMS gateway, e.g. ``http://127.0.0.1:8027`` (``nidb sim sms``); unset:
    no SMS is sent (deliveries wait, recorded as pending)."""

    sms_api_key: SecretStr | None = None
    """The API key nidb presents to the SMS gateway."""

    notify_sender: str = "thongbao@baohiemxahoi.invalid"
    """The From address of e-mail notifications."""

    notify_max_attempts: int = Field(default=6, ge=1, le=50)
    """Attempts per delivery before it is recorded as failed (transient failures only; a
    permanent refusal fails at once)."""

    notify_backoff_seconds: float = Field(default=30.0, ge=0, le=86_400)
    """Wait before the second attempt; doubled at each further one (capped at one day)."""

    notify_access_every_minutes: int = Field(default=60, ge=0, le=10_080)
    """At most one "who read your data" notice per citizen in this many minutes: reads in
    between are gathered into the next notice."""

    def resolved_database_url(self) -> str:
        """The database URL in force: the configured one, or the embedded SQLite file."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'nidb.sqlite3').as_posix()}"


_RULES = {  # pydantic's error types → Vietnamese; any other falls back to pydantic's English
    "greater_than_equal": "phải lớn hơn hoặc bằng {ge}",
    "greater_than": "phải lớn hơn {gt}",
    "less_than_equal": "phải nhỏ hơn hoặc bằng {le}",
    "less_than": "phải nhỏ hơn {lt}",
    "int_parsing": "phải là số nguyên",
    "float_parsing": "phải là số",
    "bool_parsing": "phải là true hoặc false",
}


def _describe(error: ValidationError) -> str:
    lines = []
    for problem in error.errors():
        name = "NIDB_" + "_".join(str(part) for part in problem["loc"]).upper()
        rule = _RULES.get(problem["type"], "không dùng được")
        with contextlib.suppress(KeyError, IndexError):  # a rule whose bound is not given
            rule = rule.format(**problem.get("ctx", {}))
        lines.append(f"{name}={problem.get('input')!r}: {rule} ({problem['msg']})")
    return "biến môi trường không hợp lệ (invalid environment variable): " + "; ".join(lines)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once; ``SettingsError`` if a variable is unusable."""
    try:
        return Settings()
    except ValidationError as error:
        raise SettingsError(_describe(error)) from None


def actor_name() -> str:
    """Who is acting: ``NIDB_ACTOR``, else the operating-system user as ``cli:<login>``."""
    explicit = os.environ.get("NIDB_ACTOR")
    if explicit:
        return explicit
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


def signing_key_path() -> Path:
    """nidb's own signing key: ``NIDB_SIGNING_KEY_FILE``, else ``NIDB_DATA_DIR/keys/nidb-signing.pem``.

    Read from the environment at each call (not cached): ``nidb serve --key-file`` sets it for
    the server it starts.
    """
    explicit = os.environ.get("NIDB_SIGNING_KEY_FILE")
    return Path(explicit) if explicit else get_settings().data_dir / "keys" / "nidb-signing.pem"
