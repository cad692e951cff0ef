"""`nidb publish --push`: the open datasets reach a CKAN-compatible portal with their files, and
a second push updates them instead of adding copies; over HTTP to the stand-in, both engines."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from nidb.analytics.publish import publish
from nidb.analytics.push import push_datasets
from nidb.cli import app
from nidb.connectors.platforms import CkanClient, PlatformRefused
from nidb.sim.platforms.ckan import OpenDataPortal, create_app
from tests.analytics.register import AS_OF, load
from tests.platforms.conftest import KEY, serve


@pytest.fixture
def portal() -> Iterator[tuple[OpenDataPortal, str]]:
    held = OpenDataPortal()
    with serve(create_app({"bhxh": KEY}, held)) as server:
        yield held, server.url


def test_datasets_arrive_with_their_files_and_a_second_push_updates_them(
    engine: Engine, tmp_path: Path, portal: tuple[OpenDataPortal, str]
) -> None:
    held, url = portal
    load(engine)
    datasets = publish(engine, tmp_path, AS_OF, k=1)
    with CkanClient(url, KEY) as client:
        first = push_datasets(client, tmp_path, datasets, AS_OF)
    assert sorted(first.created) == sorted(d.identifier for d in datasets) and not first.updated
    names = httpx.get(f"{url}/api/3/action/package_list").json()["result"]
    assert names == sorted(d.identifier for d in datasets)
    for dataset in datasets:
        package = httpx.get(
            f"{url}/api/3/action/package_show", params={"id": dataset.identifier}
        ).json()["result"]
        assert package["title"] == dataset.title_vi
        assert {r["name"] for r in package["resources"]} == {dataset.file, "catalog.jsonld"}
        csv = next(r for r in package["resources"] if r["name"] == dataset.file)
        local = (tmp_path / dataset.file).read_bytes()
        assert httpx.get(csv["url"]).content == local
        assert csv["hash"] == f"sha256:{hashlib.sha256(local).hexdigest()}"
    ids = {p["name"]: [r["id"] for r in p["resources"]] for p in held.packages.values()}
    before = (tmp_path / "participants_by_province_age.csv").read_bytes()

    again = publish(engine, tmp_path, AS_OF, k=20)  # different suppression: different bytes
    with CkanClient(url, KEY) as client:
        second = push_datasets(client, tmp_path, again, AS_OF)
    assert sorted(second.updated) == sorted(d.identifier for d in datasets) and not second.created
    assert len(held.packages) == len(datasets)
    assert {p["name"]: [r["id"] for r in p["resources"]] for p in held.packages.values()} == ids
    participants = held.packages[
        next(k for k, p in held.packages.items() if p["name"] == "participants-by-province-age")
    ]
    csv = next(r for r in participants["resources"] if r["name"].endswith(".csv"))
    after = (tmp_path / "participants_by_province_age.csv").read_bytes()
    assert after != before and held.files[csv["id"]] == after
    assert sum(a.startswith("package_update") for a in held.actions) == len(datasets)


def test_the_portal_refuses_a_wrong_key_and_bad_datasets(
    portal: tuple[OpenDataPortal, str],
) -> None:
    _, url = portal
    with CkanClient(url, "wrong") as client, pytest.raises(PlatformRefused) as refused:
        client.action("package_create", json={"name": "x1"})
    assert (refused.value.status, refused.value.code) == (403, "API_KEY_INVALID")
    with CkanClient(url, KEY) as client:
        for body, code in [
            ({"name": "Có Dấu"}, "NAME_INVALID"),
            ({}, "FIELD_MISSING"),
            ({"name": "ok", "tags": "x"}, "TAGS_INVALID"),
        ]:
            with pytest.raises(PlatformRefused) as invalid:
                client.action("package_create", json=body)
            assert (invalid.value.status, invalid.value.code) == (409, code)
        client.action("package_create", json={"name": "ok"})
        with pytest.raises(PlatformRefused) as taken:
            client.action("package_create", json={"name": "ok"})
        assert taken.value.code == "NAME_TAKEN"
        with pytest.raises(PlatformRefused) as no_file:
            client.action("resource_create", json={"package_id": "ok", "name": "a"})
        assert no_file.value.code == "URL_OR_UPLOAD_MISSING"
        assert client.find("nothing-here") is None
    raw = httpx.post(
        f"{url}/api/3/action/package_update",
        content=b"[",
        headers={"authorization": KEY, "content-type": "application/json"},
    )
    assert raw.status_code == 409 and raw.json()["error"]["code"] == "BODY_NOT_JSON"
    assert "không phải JSON" in raw.json()["error"]["message"]


def test_publish_push_command(
    engine: Engine, cli: CliRunner, tmp_path: Path, portal: tuple[OpenDataPortal, str]
) -> None:
    held, url = portal
    load(engine)
    args = ["publish", "--out", str(tmp_path), "--as-of", "2026-09-20", "--push", url]
    missing = cli.invoke(app, args, env={"NIDB_OPENDATA_API_KEY": ""})
    assert missing.exit_code == 2 and "NIDB_OPENDATA_API_KEY" in missing.output
    done = cli.invoke(app, [*args, "--push-key", KEY])
    assert done.exit_code == 0, done.output
    assert "Đã đẩy lên" in done.output and len(held.packages) == 7
    wrong = cli.invoke(app, [*args, "--push-key", "wrong"])
    assert wrong.exit_code == 1 and "403" in wrong.output
