"""The four stand-ins as `nidb up` starts them (`nidb sim dvcqg|ndxp|emc|opendata` in their own
processes, keys from the environment), with their own /docs served offline."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
from typer.testing import CliRunner

from nidb.cli import app, up
from nidb.cli.up import Demo


def test_nidb_up_starts_the_platforms_with_their_keys_and_docs(tmp_path: Path) -> None:
    demo = Demo(None, None, "x", None)
    processes, env = up.plan(demo, "sqlite:///unused.sqlite3", "127.0.0.1", 0)
    platforms = [p for p in processes if p.args[0] == "sim" and p.args[1] in up.PLATFORMS]
    assert [p.args[1] for p in platforms] == list(up.PLATFORMS)
    for prefix in ("NIDB_DVCQG", "NIDB_NDXP", "NIDB_EMC", "NIDB_OPENDATA"):
        assert env[f"{prefix}_API_KEY"]
    assert env["NIDB_DVCQG_URL"] in platforms[0].shows and "portal-sync" in platforms[0].shows
    source = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [source, os.environ.get("PYTHONPATH")]))
    stack = up.start_stack(platforms, env, tmp_path / "logs")
    try:
        dvcqg, ndxp, emc, opendata = (p.url for p in platforms)
        for url in (dvcqg, ndxp, emc, opendata):
            page = httpx.get(f"{url}/docs")
            assert page.status_code == 200 and "swagger-ui" in page.text
            assert httpx.get(f"{url}/openapi.json").json()["info"]["title"]
        waiting = httpx.get(
            f"{dvcqg}/v1/agency/dossiers", headers={"x-api-key": env["NIDB_DVCQG_API_KEY"]}
        )
        assert waiting.status_code == 200 and waiting.json() == {"dossiers": []}
        assert httpx.get(f"{emc}/v1/stats").json()["batches"] == 0
        listed = httpx.get(
            f"{opendata}/api/3/action/package_list",
            headers={"authorization": env["NIDB_OPENDATA_API_KEY"]},
        )
        assert listed.json() == {"success": True, "result": []}
    finally:
        stack.stop()
    assert stack.exited() is not None


def test_a_consumer_without_its_key_is_refused_before_the_platform_starts() -> None:
    done = CliRunner().invoke(app, ["sim", "ndxp", "--consumer", "VN/GOV/X"])
    assert done.exit_code == 2 and "MÃ=KHÓA" in done.output
