"""Shared fixtures: every store-touching test runs on SQLite and on a real PostgreSQL.

PostgreSQL comes from ``NIDB_TEST_POSTGRES_URL`` if set (a server you run), otherwise the suite
starts a private throw-away cluster with ``scripts/pg-cluster.sh`` (initdb/pg_ctl) on a free
loopback port and stops it at the end. Each test gets an empty, migrated register (PostgreSQL:
a database cloned from a migrated template with ``CREATE DATABASE ... TEMPLATE``, emptied after
the test and reused while its catalogue is still the template's: tests/pg_registers.py; SQLite:
a copy of a migrated file), so tests never see each other's rows and the migrations run once per
session, not once per test.
Under CI=true a missing PostgreSQL is an error, never a silent skip. Under pytest-xdist
(``-n 2``) each worker starts its own cluster and names its own template database.

Also shared by several folders: ``exchange`` (nidb's API over ``seed.insured_person`` with two
partners: exchange/, api/, web/) and the web harness (``web_app``, ``client``, ``live_server``,
``make_staff_user``, ``web_env``, ``vneid``: web/, e2e/). Rows are seeded with ``tests.seed``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, select, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from nidb.api.app import create_app
from nidb.engines import spark
from nidb.engines.spark import SparkRuntime
from nidb.exchange.partners import add_grant, add_partner
from nidb.protocol.client import ExchangeClient
from nidb.protocol.keys import SigningKey, VerifyKey
from nidb.settings import get_settings
from nidb.sim.population.server import BackgroundServer
from nidb.store.db import ensure_schema, make_engine
from nidb.web.staff_users import create_staff_user
from tests import seed
from tests.pg_registers import PostgresRegisters

ROOT = Path(__file__).resolve().parent.parent
PG_TEMPLATE = "nidb_template" + (
    f"_{os.environ['PYTEST_XDIST_WORKER']}" if os.environ.get("PYTEST_XDIST_WORKER") else ""
)
"""The migrated database every PostgreSQL test database is cloned from (one per xdist worker,
so workers sharing a server given by NIDB_TEST_POSTGRES_URL do not drop each other's)."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser and multi-process tests (tests/e2e) run last.

    Playwright's synchronous API keeps an event loop running in the main thread for as long as
    its session-scoped browser lives; a later test calling ``asyncio.run`` (the event-loop path
    of the exchange) would then fail with "cannot be called from a running event loop".
    """
    e2e = ROOT / "tests" / "e2e"
    items.sort(key=lambda item: Path(str(item.path)).is_relative_to(e2e))


@pytest.fixture(autouse=True)
def _settings_from_this_tests_environment() -> Iterator[None]:
    """`get_settings()` is read once per process in production; a test that sets NIDB_*
    variables (or runs the CLI with its own environment) must not get another test's."""
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def cli(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    """Run nidb's commands in this process against the test's database, as ``test:cli``."""
    monkeypatch.setenv("NIDB_DATABASE_URL", database_url)
    monkeypatch.setenv("NIDB_ACTOR", "test:cli")
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def _postgres_unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"PostgreSQL is required in CI: {reason}")
    pytest.skip(f"PostgreSQL not available: {reason}")


@pytest.fixture(scope="session")
def postgres_admin_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a PostgreSQL server holding a migrated ``nidb_template`` database."""
    url = os.environ.get("NIDB_TEST_POSTGRES_URL")
    cluster: Path | None = None
    if not url:
        if not shutil.which("pg_ctl") or not shutil.which("initdb"):
            _postgres_unavailable("no initdb/pg_ctl on PATH and NIDB_TEST_POSTGRES_URL unset")
        # under /tmp itself: the server runs as an unprivileged user who must reach the folder
        cluster = Path(tempfile.mkdtemp(prefix="nidb-pg-")) / "cluster"
        started = subprocess.run(
            [str(ROOT / "scripts" / "pg-cluster.sh"), "start", str(cluster)],
            capture_output=True,
            text=True,
            check=False,
        )
        if started.returncode != 0:
            _postgres_unavailable(f"could not start a private cluster: {started.stderr[-500:]}")
        url = started.stdout.strip().splitlines()[-1]
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {PG_TEMPLATE}"))
        conn.execute(text(f"CREATE DATABASE {PG_TEMPLATE}"))
    template = make_engine(make_url(url).set(database=PG_TEMPLATE).render_as_string(False))
    ensure_schema(template)
    template.dispose()
    try:
        yield url
    finally:
        admin.dispose()
        if cluster is not None:
            subprocess.run(
                [str(ROOT / "scripts" / "pg-cluster.sh"), "stop", str(cluster)], check=False
            )
            shutil.rmtree(cluster.parent, ignore_errors=True)


@pytest.fixture(scope="session")
def spark_available() -> None:
    """Spark can start here (pyspark and Java). Under CI=true a missing one fails the run
    (``make install`` installs both); elsewhere the test is skipped with the reason."""
    try:
        spark.ensure_available()
    except spark.SparkUnavailable as missing:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"Spark is required in CI (make install provides it): {missing}")
        pytest.skip(f"Spark not available: {missing}")


@pytest.fixture(scope="session")
def spark_runtime(spark_available: None) -> Iterator[SparkRuntime]:
    """One local Spark session for every Spark test of the run: detection's and matching's
    parity tests share it instead of each starting and stopping a SparkContext (the JVM itself
    lives as long as the test process either way). Kept (``keep=True``), so ``nidb match
    --engine spark`` run in this process reuses it; its settings are matching's test settings
    (2 cores, 1 GB, 2 shuffle partitions: the data are small)."""
    runtime = spark.start(cores=2, driver_memory="1g", shuffle_partitions=2, keep=True)
    yield runtime
    runtime.stop()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated, empty SQLite register, built once per session (migrating a file costs
    ~0.5 s of CPU and several seconds of a loaded machine's wall time; copying it, none)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "nidb.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    ensure_schema(engine)
    engine.dispose()  # the last connection closed: the WAL is checkpointed into the file
    assert not path.with_name(path.name + "-wal").exists(), "the template's WAL was not folded in"
    return path


@pytest.fixture(scope="session")
def postgres_registers(postgres_admin_url: str) -> Iterator[PostgresRegisters]:
    """The PostgreSQL test databases of this session (of this xdist worker): cloned from the
    template, emptied after each test and reused (tests/pg_registers.py)."""
    registers = PostgresRegisters(postgres_admin_url, PG_TEMPLATE)
    try:
        yield registers
    finally:
        registers.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated, empty register on each engine."""
    if request.param == "sqlite":
        path = tmp_path / "nidb.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    registers: PostgresRegisters = request.getfixturevalue("postgres_registers")
    name = registers.take()
    try:
        yield registers.url(name)
    finally:
        registers.give_back(name)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on the fresh register."""
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


# --- the partner exchange over a seeded register ------------------------------------------------

HOSPITAL = seed.HOSPITAL
MINISTRY = "VN/GOV/BLDTBXH/CSDL-ASXH"


@dataclass
class Exchange:
    engine: Engine
    http: TestClient
    server_key: SigningKey
    hospital_key: SigningKey
    ministry_key: SigningKey

    def client(self, sender: str = HOSPITAL, key: SigningKey | None = None) -> ExchangeClient:
        return ExchangeClient(
            "http://testserver",
            sender,
            key or (self.hospital_key if sender == HOSPITAL else self.ministry_key),
            server_key=VerifyKey.from_b64(self.server_key.public_b64),
            http=self.http,
        )


@pytest.fixture
def exchange(engine: Engine) -> Iterator[Exchange]:
    """nidb's API over ``seed.insured_person``; a hospital granted card checks (group đ) for KCB
    and a ministry granted person summaries and participation history (a, d, e) for GQCD."""
    seed.insured_person(engine)
    hospital, ministry, server = SigningKey.generate(), SigningKey.generate(), SigningKey.generate()
    add_partner(engine, HOSPITAL, "Bệnh viện Bạch Mai", "hospital", hospital.public_b64, "test")
    add_grant(engine, HOSPITAL, "card.check/v1", "KCB", "dd", "Luật BHYT Điều 28", "test")
    add_partner(
        engine, MINISTRY, "Bộ LĐTBXH", "molisa", ministry.public_b64, "test", rate_limit=1000
    )
    for service in ("person.summary/v1", "participation.history/v1"):
        add_grant(engine, MINISTRY, service, "GQCD", "a,d,e", "Nghị định 43/2021 Điều 10", "test")
    app = create_app(engine, server)
    with TestClient(app) as http:
        yield Exchange(engine, http, server, hospital, ministry)


# --- the web harness: the real app on both engines, over HTTP (browsers: tests/e2e) -------------

STAFF_PASSWORD = "Mat-khau-2026!"
WEB_KEY = SigningKey.generate()  # one signing key for every app the web tests build (fast)


@pytest.fixture(autouse=True, scope="session")
def _staff_totp_key(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Staff TOTP secrets are encrypted under a key file: one per test session, in a temporary
    folder (never ``var/`` of the working copy); subprocesses inherit it."""
    before = os.environ.get("NIDB_STAFF_TOTP_KEY_FILE")
    os.environ["NIDB_STAFF_TOTP_KEY_FILE"] = str(tmp_path_factory.mktemp("totp") / "totp.key")
    yield
    if before is None:
        os.environ.pop("NIDB_STAFF_TOTP_KEY_FILE", None)
    else:
        os.environ["NIDB_STAFF_TOTP_KEY_FILE"] = before


def _totp_secret(engine: Engine, username: str) -> str:
    """The account's TOTP secret, decrypted as the server does (the harness plays the phone)."""
    from nidb.store.models_web import StaffUser
    from nidb.web import staff_totp

    with engine.connect() as conn:
        stored = conn.execute(
            select(StaffUser.totp_secret).where(StaffUser.username == username)
        ).scalar_one()
    assert stored is not None, f"{username} has no TOTP secret"
    return staff_totp._decrypt(stored, username)


def totp_code(engine: Engine, username: str, step: int | None = None) -> str:
    """What the account's authenticator app shows at ``step`` (default: now)."""
    import pyotp

    from nidb.web.staff_totp import STEP_SECONDS

    totp = pyotp.TOTP(_totp_secret(engine, username))
    return totp.generate_otp(step if step is not None else int(time.time() // STEP_SECONDS))


def fresh_totp_code(engine: Engine, username: str) -> str:
    """A code the server will accept now: of the steps it allows (now ± 1), the first one later
    than the last code used (each code works once); waits for the next step if none is left."""
    from nidb.store.models_web import StaffUser
    from nidb.web.staff_totp import STEP_SECONDS

    with engine.connect() as conn:
        last = conn.execute(
            select(StaffUser.totp_last_step).where(StaffUser.username == username)
        ).scalar_one()
    while True:
        now = time.time()
        if now % STEP_SECONDS > STEP_SECONDS - 1:  # too close to a step change: let it pass
            time.sleep(1.1)
            continue
        step = int(now // STEP_SECONDS)
        for candidate in (step - 1, step, step + 1):
            if last is None or candidate > last:
                return totp_code(engine, username, candidate)
        time.sleep(STEP_SECONDS - now % STEP_SECONDS + 0.1)


def enrol_second_factor(engine: Engine, username: str) -> list[str]:
    """Enrol the account's TOTP as the enrolment page does (confirmed with the previous step's
    code, so sign-ins right after have fresh codes); returns the recovery codes."""
    from nidb.web.staff_totp import STEP_SECONDS, begin_enrolment, confirm_enrolment

    assert begin_enrolment(engine, username) is not None
    if time.time() % STEP_SECONDS > STEP_SECONDS - 1:
        time.sleep(1.1)
    previous = int(time.time() // STEP_SECONDS) - 1
    codes = confirm_enrolment(engine, username, totp_code(engine, username, previous), "test")
    assert codes is not None
    return codes


@pytest.fixture
def cheaper_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real argon2id, with test-sized cost (the production parameters take ~0.1 s a hash on
    this machine and a lockout test needs a dozen); web/ and e2e/ use it for every test."""
    from argon2 import PasswordHasher

    from nidb.employers import passwords
    from nidb.web import staff_users

    cheap = PasswordHasher(time_cost=1, memory_cost=8192)
    monkeypatch.setattr(staff_users, "_hasher", cheap)
    monkeypatch.setattr(passwords, "_hasher", cheap)


@pytest.fixture
def web_app(engine: Engine) -> FastAPI:
    """The whole nidb app over the test engine."""
    return create_app(engine, WEB_KEY)


@pytest.fixture
def client(web_app: FastAPI) -> Iterator[TestClient]:
    """A TestClient (runs the app's lifespan); redirects are not followed, so tests see them."""
    with TestClient(web_app, follow_redirects=False) as test_client:
        yield test_client


@dataclass
class LiveServer:
    """A running nidb app: its base URL and its engine."""

    url: str
    engine: Engine
    app: FastAPI


@pytest.fixture
def live_server(web_app: FastAPI, engine: Engine) -> Iterator[LiveServer]:
    """The real app under uvicorn on a free loopback port (SQLite and PostgreSQL)."""
    server = BackgroundServer(web_app, lifespan="on").start()
    try:
        yield LiveServer(server.url, engine, web_app)
    finally:
        server.stop()


@pytest.fixture
def make_staff_user(engine: Engine) -> Callable[..., str]:
    """Create a staff account (password ``STAFF_PASSWORD`` unless given); returns the username.

    ``second_factor``: enrol a TOTP (the harness computes its codes: ``fresh_totp_code``); by
    default for the roles that must have one (admin, approver), so they can sign in.
    """

    def make(
        username: str = "canbo.hn",
        role: str = "reviewer",
        *,
        password: str = STAFF_PASSWORD,
        full_name: str = "Nguyễn Thị Cán Bộ",
        scope_level: str = "province",
        province_code: str | None = "01",
        district_code: str | None = None,
        second_factor: bool | None = None,
    ) -> str:
        from nidb.domain.staff import second_factor_required

        create_staff_user(
            engine,
            username=username,
            full_name=full_name,
            password=password,
            role=role,
            scope_level=scope_level,
            province_code=province_code,
            district_code=district_code,
            actor="test",
        )
        if second_factor if second_factor is not None else second_factor_required(role):
            enrol_second_factor(engine, username)
        return username

    return make


@pytest.fixture
def web_env(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Point ``NIDB_*`` settings at the test register; ``web_env.setenv`` adds more (the
    settings cache is cleared before and after)."""
    monkeypatch.setenv("NIDB_DATABASE_URL", database_url)
    monkeypatch.setenv("NIDB_ACTOR", "test:admin")

    class Env:
        def setenv(self, name: str, value: str) -> None:
            monkeypatch.setenv(name, value)
            get_settings.cache_clear()

    get_settings.cache_clear()
    yield Env()
    get_settings.cache_clear()


VNEID_CLIENT_SECRET = "bi-mat-cua-nidb-portal"
CITIZEN_PASSWORD = "123456"  # the stand-in's one-time code


@dataclass
class Vneid:
    """The running VNeID stand-in."""

    url: str
    server: BackgroundServer


@pytest.fixture
def vneid(web_env: Any) -> Iterator[Vneid]:
    """The VNeID stand-in on loopback, trusted by nidb (NIDB_VNEID_URL and client secret set);
    it knows the seeded citizen and another one, and accepts callbacks on loopback and on the
    TestClient's ``testserver``."""
    from nidb.sim.vneid.app import DEFAULT_REDIRECTS, RegisteredClient
    from nidb.sim.vneid.app import create_app as create_vneid
    from nidb.sim.vneid.people import ListPeople, VneidPerson

    people = ListPeople(
        [
            VneidPerson(seed.PID, "Nguyễn Văn An", "1985-03-17", "M"),
            VneidPerson(seed.OTHER_PID, "Trần Thị Bình", "1990-07-02", "F", password="Binh-2026"),
        ]
    )
    patterns = (*DEFAULT_REDIRECTS, r"^http://testserver/cong-dan/dang-nhap/vneid/callback$")
    app = create_vneid(people, [RegisteredClient("nidb-portal", VNEID_CLIENT_SECRET, patterns)])
    server = BackgroundServer(app).start()
    web_env.setenv("NIDB_VNEID_URL", server.url)
    web_env.setenv("NIDB_VNEID_CLIENT_SECRET", VNEID_CLIENT_SECRET)
    try:
        yield Vneid(server.url, server)
    finally:
        server.stop()
