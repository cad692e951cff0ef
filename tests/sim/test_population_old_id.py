"""The population stand-in keeps a citizen's old 9-digit ID number (số CMND) and answers it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from nidb.sim.population import BackgroundServer, RegistryFileError, create_app, load_registry

HEADER = "personal_id,full_name,date_of_birth,gender,birth_province,status,death_date,old_id"
ROWS = [
    "001090000001,Nguyễn Văn An,1990-05-17,M,001,alive,,012345678",
    "001190000002,Nguyễn Thị Hà,1990-03-02,F,001,alive,,012345679",
    "001210000003,Nguyễn Minh Khôi,2010-07-15,M,001,alive,,",  # born after 2007: never held one
]


def write(path: Path, *rows: str) -> Path:
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(write(tmp_path / "registry.csv", *ROWS), admin=True)) as test:
        yield test


def by_old_id(client: TestClient, old_id: str) -> dict[str, Any]:
    response = client.post("/v1/old-id", json={"old_id": old_id})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_person_is_found_by_the_old_id_number_they_held(client: TestClient) -> None:
    assert by_old_id(client, "012345679") == {
        "old_id": "012345679",
        "found": True,
        "person": {
            "personal_id": "001190000002",
            "full_name": "Nguyễn Thị Hà",
            "date_of_birth": "1990-03-02",
            "gender": "F",
            "birth_province": "001",
            "old_id": "012345679",
        },
    }


def test_an_old_id_no_one_held_is_not_found(client: TestClient) -> None:
    assert by_old_id(client, "999999999") == {"old_id": "999999999", "found": False, "person": None}


@pytest.mark.parametrize("old_id", ["01234567", "0123456789", "01234567a", 12345678])
def test_an_old_id_that_is_not_nine_digits_is_refused(client: TestClient, old_id: object) -> None:
    response = client.post("/v1/old-id", json={"old_id": old_id})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "INVALID_REQUEST"
    assert [d["field"] for d in body["details"]] == ["old_id"]


def test_search_answers_carry_the_old_id(client: TestClient) -> None:
    response = client.post(
        "/v1/search", json={"full_name": "Nguyen Van An", "date_of_birth": "1990"}
    )
    assert [c["old_id"] for c in response.json()["candidates"]] == ["012345678"]
    response = client.post(
        "/v1/search", json={"full_name": "Nguyen Minh Khoi", "date_of_birth": "2010"}
    )
    assert [c["old_id"] for c in response.json()["candidates"]] == [None]


def test_the_old_id_follows_the_person_through_an_id_correction(client: TestClient) -> None:
    response = client.post(
        "/v1/admin/changes",
        json={
            "kind": "id_correction",
            "personal_id": "001090000001",
            "data": {"new_personal_id": "001090000011"},
        },
    )
    assert response.status_code == 201
    assert by_old_id(client, "012345678")["person"]["personal_id"] == "001090000011"


def test_an_old_id_held_twice_stops_the_load(tmp_path: Path) -> None:
    path = write(
        tmp_path / "registry.csv",
        ROWS[0],
        "001190000009,Lê Thị Lan,1991-01-02,F,001,alive,,012345678",
    )
    with pytest.raises(RegistryFileError) as caught:
        load_registry(path)
    assert caught.value.column == "old_id"
    assert "012345678" in str(caught.value)


def test_an_old_id_that_is_not_nine_digits_stops_the_load_naming_row(tmp_path: Path) -> None:
    path = write(
        tmp_path / "registry.csv",
        ROWS[0],
        "001190000002,Nguyễn Thị Hà,1990-03-02,F,001,alive,,12345",
    )
    with pytest.raises(RegistryFileError) as caught:
        load_registry(path)
    assert (caught.value.row, caught.value.column) == (2, "old_id")


def test_a_registry_without_the_column_loads_and_knows_no_old_id(tmp_path: Path) -> None:
    path = tmp_path / "registry.csv"
    path.write_text(
        "personal_id,full_name,date_of_birth,gender\n001090000001,Nguyễn Văn An,1990-05-17,M\n",
        encoding="utf-8",
    )
    registry = load_registry(path)
    person = registry.get("001090000001")
    assert person is not None and person.old_id is None
    assert registry.by_old_id("012345678") is None


def test_the_old_id_is_answered_over_real_http(tmp_path: Path) -> None:
    with (
        BackgroundServer(create_app(write(tmp_path / "registry.csv", *ROWS))) as server,
        httpx.Client(base_url=server.url) as http,
    ):
        answer = http.post("/v1/old-id", json={"old_id": "012345678"}).json()
        paths = http.get("/openapi.json").json()["paths"]
    assert answer["person"]["personal_id"] == "001090000001"
    assert "/v1/old-id" in paths
