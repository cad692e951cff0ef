"""The population stand-in's birth and residence changes (inter-linked procedures, Decree 63/2024)."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from nidb.sim.population.app import create_app

MOTHER = "001182000102"
CHILD = "001225000105"


def client(tmp_path: Path) -> TestClient:
    path = tmp_path / "registry.csv"
    path.write_text(
        "personal_id,full_name,date_of_birth,gender,birth_province,permanent_address,household_id,status,death_date\n"
        f"{MOTHER},Trần Thị Mai,1982-07-09,F,001,Hà Nội,HK-100,alive,\n",
        encoding="utf-8",
    )
    return TestClient(create_app(path, admin=True))


def test_a_birth_adds_the_child_to_the_registry_and_the_feed(tmp_path: Path) -> None:
    http = client(tmp_path)
    born = {
        "full_name": " Nguyễn  Minh An",
        "date_of_birth": "2025-03-01",
        "gender": "M",
        "mother_personal_id": MOTHER,
    }
    added = http.post(
        "/v1/admin/changes", json={"kind": "birth", "personal_id": CHILD, "data": born}
    )
    assert added.status_code == 201
    assert added.json()["data"]["full_name"] == "Nguyễn Minh An"
    check = http.post(
        "/v1/verify",
        json={"personal_id": CHILD, "full_name": "Nguyễn Minh An", "date_of_birth": "2025-03-01"},
    )
    assert check.json()["found"] is True
    again = http.post(
        "/v1/admin/changes", json={"kind": "birth", "personal_id": CHILD, "data": born}
    )
    assert again.status_code == 409  # one personal ID, one birth
    residence = {
        "kind": "residence",
        "personal_id": CHILD,
        "data": {"permanent_address": "Hoàn Kiếm, Hà Nội", "household_id": "HK-100"},
    }
    assert http.post("/v1/admin/changes", json=residence).status_code == 201
    page = http.get("/v1/changes").json()["changes"]
    assert [c["kind"] for c in page] == ["birth", "residence"]
    assert page[1]["data"] == {"permanent_address": "Hoàn Kiếm, Hà Nội", "household_id": "HK-100"}


def test_bad_birth_and_residence_changes_are_refused(tmp_path: Path) -> None:
    http = client(tmp_path)
    bad = http.post(
        "/v1/admin/changes",
        json={
            "kind": "birth",
            "personal_id": CHILD,
            "data": {"full_name": "An", "date_of_birth": "2025-02-30", "gender": "X"},
        },
    )
    assert bad.status_code == 422
    unknown = http.post(
        "/v1/admin/changes",
        json={"kind": "residence", "personal_id": CHILD, "data": {"permanent_address": "Hà Nội"}},
    )
    assert unknown.status_code == 404
    assert http.get("/v1/changes").json()["changes"] == []
