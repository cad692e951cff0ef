"""Issue 16, item 1 (part): /healthz says the process answers; /readyz that it can serve."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from nidb.api.app import create_app
from nidb.protocol.keys import SigningKey
from tests.conftest import Exchange


def test_healthz_and_readyz_answer_when_all_is_well(exchange: Exchange) -> None:
    assert exchange.http.get("/healthz").json() == {"status": "ok"}
    ready = exchange.http.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {
        "status": "ready",
        "checks": {"database": "ok", "migrations": "ok", "signing_key": "ok"},
        "signing_kid": exchange.server_key.kid,  # the key given to the app: no file followed
    }


def test_readyz_names_migrations_behind_the_code(exchange: Exchange, engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    behind = exchange.http.get("/readyz")
    assert behind.status_code == 503
    assert behind.json()["checks"]["migrations"].startswith("at 0001, code at ")
    assert exchange.http.get("/healthz").status_code == 200  # alive, not ready


def test_readyz_is_503_when_the_database_is_gone(database_url: str, tmp_path: Path) -> None:
    url = make_url(database_url)
    absent = (
        url.set(database=str(tmp_path / "no-such-folder" / "nidb.sqlite3"))
        if url.get_backend_name() == "sqlite"
        else url.set(database="nidb_absent_database")
    )
    engine = create_engine(absent)
    http = TestClient(create_app(engine, SigningKey.generate()))  # no lifespan: nothing migrates
    gone = http.get("/readyz")
    assert gone.status_code == 503
    assert gone.json()["checks"]["database"].startswith("unreachable")
    assert http.get("/healthz").status_code == 200
    engine.dispose()
