"""The population-database stand-in: loading, strict verification, search, changes, faults."""

from __future__ import annotations

import json
import time
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from nidb.sim.population import (
    BackgroundServer,
    FaultConfig,
    RegistryFileError,
    create_app,
    load_registry,
)
from nidb.sim.population.app import _results_json
from nidb.sim.population.schemas import BatchVerifyResponse

HEADER = (
    "personal_id,full_name,date_of_birth,gender,birth_province,permanent_address,household_id,"
    "status,death_date"
)
NFD_HOA = unicodedata.normalize("NFD", "Phạm Thị Hòa")
ROWS = [
    "001090000001,Nguyễn Văn An,1990-05-17,M,001,Số 1 Tràng Tiền,HH01,alive,",
    "001190000002,Nguyễn Thị Hà,1990-03-02,F,001,Số 1 Tràng Tiền,HH01,alive,",
    "001190000003,Nguyễn Thị Hạ,1990-07-15,F,001,,,alive,",
    "079055000004,Trần Văn Bình,1955,M,079,,,alive,",
    "079150000005,Lê Thị Hoa,1950-01-01,F,079,,,dead,2023-11-20",
    f"031185000006,{NFD_HOA},1985-12-30,F,031,,,alive,",
    "048200000007,Hoàng Minh Đức,2000-02-29,M,048,,,alive,",
    "001088000008,Đặng Quốc Huy,1988-09,M,001,,,alive,",
    # Twelve namesakes born in 1980, for the search's limit and ordering.
    *(
        f"0{prov}080{serial:06d},Nguyễn Văn Nam,1980-{month:02d}-10,M,0{prov},,,alive,"
        for serial, (prov, month) in enumerate(
            [("01", m) for m in range(1, 7)] + [("79", m) for m in range(1, 7)], start=100
        )
    ),
]
AN = {
    "personal_id": "001090000001",
    "full_name": "Nguyễn Văn An",
    "date_of_birth": "1990-05-17",
    "gender": "M",
}


@pytest.fixture
def registry_csv(tmp_path: Path) -> Path:
    path = tmp_path / "registry.csv"
    path.write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def client(registry_csv: Path) -> Iterator[TestClient]:
    with TestClient(create_app(registry_csv, admin=True)) as test_client:
        yield test_client


def verify(client: TestClient, **changes: Any) -> dict[str, Any]:
    response = client.post("/v1/verify", json={**AN, **changes})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def add_change(client: TestClient, kind: str, personal_id: str, **data: str) -> httpx.Response:
    return client.post(
        "/v1/admin/changes", json={"kind": kind, "personal_id": personal_id, "data": data}
    )


# --- loading --------------------------------------------------------------------------------


def test_csv_and_parquet_registries_load_the_same_people(registry_csv: Path, tmp_path: Path):
    table = pa_csv.read_csv(
        registry_csv,
        convert_options=pa_csv.ConvertOptions(
            column_types=dict.fromkeys(HEADER.split(","), pa.string())
        ),
    )
    parquet = tmp_path / "registry.parquet"
    pq.write_table(table, parquet)
    seen: list[int] = []
    from_csv, from_parquet = load_registry(registry_csv, seen.append), load_registry(parquet)
    assert len(from_csv) == len(from_parquet) == len(ROWS) == seen[-1]
    for pid in ("001090000001", "079055000004", "079150000005", "031185000006"):
        assert from_csv.get(pid) == from_parquet.get(pid)


def test_registry_names_are_kept_as_nfc(registry_csv: Path):
    person = load_registry(registry_csv).get("031185000006")
    assert person is not None and person.full_name == "Phạm Thị Hòa"
    assert unicodedata.is_normalized("NFC", person.full_name)


def test_parquet_ids_stored_as_integers_keep_their_leading_zero(tmp_path: Path):
    path = tmp_path / "registry.parquet"
    pq.write_table(
        pa.table(
            {
                "personal_id": pa.array([1090000001], pa.int64()),
                "full_name": ["Nguyễn Văn An"],
                "date_of_birth": ["1990-05-17"],
                "gender": ["Nam"],
            }
        ),
        path,
    )
    person = load_registry(path).get("001090000001")
    assert person is not None and person.gender == "M" and person.status == "alive"


@pytest.mark.parametrize(
    ("row", "column"),
    [
        ("00109000001,Nguyễn Văn An,1990-05-17,M,001,,,alive,", "personal_id"),
        ("001090000009,,1990-05-17,M,001,,,alive,", "full_name"),
        ("001090000009,Nguyễn Văn An,17/05/1990,M,001,,,alive,", "date_of_birth"),
        ("001090000009,Nguyễn Văn An,1990-02-30,M,001,,,alive,", "date_of_birth"),
        ("001090000009,Nguyễn Văn An,1990-05-17,X,001,,,alive,", "gender"),
        ("001090000009,Nguyễn Văn An,1990-05-17,M,003,,,alive,", "birth_province"),
        ("001090000009,Nguyễn Văn An,1990-05-17,M,001,,,sleeping,", "status"),
        ("001090000009,Nguyễn Văn An,1990-05-17,M,001,,,alive,2020-01-01", "death_date"),
        ("001090000001,Nguyễn Văn An,1990-05-17,M,001,,,alive,", "personal_id"),  # duplicate
    ],
)
def test_a_bad_row_stops_the_load_naming_row_and_column(tmp_path: Path, row: str, column: str):
    path = tmp_path / "registry.csv"
    path.write_text("\n".join([HEADER, ROWS[0], row]) + "\n", encoding="utf-8")
    with pytest.raises(RegistryFileError) as caught:
        load_registry(path)
    assert (caught.value.row, caught.value.column) == (2, column)


def test_a_missing_required_column_is_named(tmp_path: Path):
    path = tmp_path / "registry.csv"
    path.write_text("personal_id,full_name,gender\n001090000001,Nguyễn Văn An,M\n")
    with pytest.raises(RegistryFileError) as caught:
        load_registry(path)
    assert caught.value.column == "date_of_birth"


# --- verification ---------------------------------------------------------------------------


def test_identical_fields_all_match(client: TestClient):
    assert verify(client) == {
        "personal_id": "001090000001",
        "found": True,
        "fields": {"full_name": "match", "date_of_birth": "match", "gender": "match"},
        "status": "alive",
        "death_date": None,
        "superseded_by": None,
    }


def test_name_match_ignores_unicode_form_case_and_spacing(client: TestClient):
    assert verify(client, full_name="  NGUYỄN   văn AN ")["fields"]["full_name"] == "match"
    nfd = unicodedata.normalize("NFD", "Nguyễn Văn An")
    assert verify(client, full_name=nfd)["fields"]["full_name"] == "match"
    # The registry row was written in NFD; an NFC question matches it.
    hoa = {
        "personal_id": "031185000006",
        "full_name": "Phạm Thị Hòa",
        "date_of_birth": "1985-12-30",
        "gender": "F",
    }
    assert verify(client, **hoa)["fields"]["full_name"] == "match"


@pytest.mark.parametrize("name", ["Nguyen Van An", "Nguyễn An", "Nguyễn Văn Ân", "Nguyễn Văn Anh"])
def test_the_registry_compares_names_strictly(client: TestClient, name: str):
    assert verify(client, full_name=name)["fields"]["full_name"] == "mismatch"


def test_tone_placement_is_a_mismatch_for_the_registry(client: TestClient):
    hoa = {"personal_id": "031185000006", "date_of_birth": "1985-12-30", "gender": "F"}
    assert verify(client, full_name="Phạm Thị Hoà", **hoa)["fields"]["full_name"] == "mismatch"


@pytest.mark.parametrize(
    ("personal_id", "asked", "expected"),
    [
        ("079055000004", "1955-06-01", "partial"),  # registry holds the year only
        ("079055000004", "1955", "match"),
        ("079055000004", "1956-06-01", "mismatch"),
        ("001090000001", "1990", "partial"),  # asked with the year only
        ("001090000001", "1990-05", "partial"),
        ("001090000001", "1990-06", "mismatch"),
        ("001090000001", "1990-17-05", None),  # not a date: refused, see below
        ("001090000001", "1990-05-18", "mismatch"),
        ("001090000001", "1991", "mismatch"),
        ("001088000008", "1988-09-03", "partial"),  # registry holds year and month
        ("001088000008", "1988-10-03", "mismatch"),
    ],
)
def test_dates_compare_exactly_or_partially(
    client: TestClient, personal_id: str, asked: str, expected: str | None
):
    response = client.post(
        "/v1/verify", json={**AN, "personal_id": personal_id, "date_of_birth": asked}
    )
    if expected is None:
        assert response.status_code == 422
    else:
        assert response.json()["fields"]["date_of_birth"] == expected


def test_gender_is_checked_only_when_asked(client: TestClient):
    assert verify(client, gender="F")["fields"]["gender"] == "mismatch"
    assert verify(client, gender=None)["fields"]["gender"] is None
    body = {key: value for key, value in AN.items() if key != "gender"}
    assert client.post("/v1/verify", json=body).json()["fields"]["gender"] is None


def test_a_dead_person_is_reported_with_the_death_date(client: TestClient):
    answer = verify(
        client,
        personal_id="079150000005",
        full_name="Lê Thị Hoa",
        date_of_birth="1950-01-01",
        gender="F",
    )
    assert (answer["status"], answer["death_date"]) == ("dead", "2023-11-20")


def test_an_unknown_personal_id_is_not_found(client: TestClient):
    answer = verify(client, personal_id="001090999999")
    assert answer["found"] is False
    assert answer["fields"] is None and answer["status"] is None


def test_mismatching_values_are_never_disclosed(client: TestClient):
    response = client.post(
        "/v1/verify",
        json={**AN, "full_name": "Trần Thị Bích", "date_of_birth": "1970-01-01", "gender": "F"},
    )
    assert response.json()["fields"] == {
        "full_name": "mismatch",
        "date_of_birth": "mismatch",
        "gender": "mismatch",
    }
    for secret in ("Nguyễn", "Văn", 'An"', "1990", "05-17", '"M"'):
        assert secret not in response.text


def test_asking_for_disclosure_is_refused(client: TestClient):
    response = client.post("/v1/verify", json={**AN, "disclose": True})
    assert response.status_code == 422
    assert response.json()["details"][0]["field"] == "disclose"


@pytest.mark.parametrize(
    ("change", "field", "rule"),
    [
        ({"personal_id": "12345"}, "personal_id", "PERSONAL_ID_FORMAT"),
        ({"personal_id": "003090000001"}, "personal_id", "PERSONAL_ID_PROVINCE"),
        ({"personal_id": 1090000001}, "personal_id", "string_type"),
        ({"date_of_birth": "17/05/1990"}, "date_of_birth", "DATE_FORMAT"),
        ({"date_of_birth": "1990-02-30"}, "date_of_birth", "DATE_IMPOSSIBLE"),
        ({"full_name": "   "}, "full_name", "NAME_EMPTY"),
        ({"gender": "Nam"}, "gender", "literal_error"),
        ({"full_name": None}, "full_name", "string_type"),
    ],
)
def test_bad_bodies_are_refused_with_422_naming_field_and_rule(
    client: TestClient, change: dict[str, Any], field: str, rule: str
):
    response = client.post("/v1/verify", json={**AN, **change})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "INVALID_REQUEST"
    assert "(" in body["message"]  # Vietnamese, then English in brackets
    assert [(d["field"], d["rule"]) for d in body["details"]] == [(field, rule)]


def test_a_body_that_is_not_json_is_refused_in_the_same_format(client: TestClient):
    response = client.post(
        "/v1/verify", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["code"] == "INVALID_REQUEST"


def test_unknown_paths_answer_in_the_error_format(client: TestClient):
    response = client.get("/v2/nothing")
    assert response.status_code == 404
    assert response.json()["code"] == "NOT_FOUND"


# --- batches --------------------------------------------------------------------------------


def test_a_batch_is_answered_in_the_order_asked(client: TestClient):
    asked = [
        {**AN, "personal_id": pid}
        for pid in ("079055000004", "001090000001", "001090999999", "001090000001")
    ]
    results = client.post("/v1/verify/batch", json={"requests": asked}).json()["results"]
    assert [r["personal_id"] for r in results] == [a["personal_id"] for a in asked]
    assert [r["found"] for r in results] == [True, True, False, True]
    assert results[1] == verify(client)


def test_an_empty_batch_gets_an_empty_answer(client: TestClient):
    assert client.post("/v1/verify/batch", json={"requests": []}).json() == {"results": []}


def test_more_than_1000_requests_in_a_batch_is_413(client: TestClient):
    response = client.post("/v1/verify/batch", json={"requests": [AN] * 1001})
    assert response.status_code == 413
    assert response.json()["code"] == "BATCH_TOO_LARGE"
    assert client.post("/v1/verify/batch", json={"requests": [AN] * 1000}).status_code == 200


def test_a_malformed_item_refuses_the_batch_naming_its_index(client: TestClient):
    bad = {**AN, "gender": "X"}
    response = client.post("/v1/verify/batch", json={"requests": [AN, AN, bad]})
    assert response.status_code == 422
    assert response.json()["details"][0]["field"] == "requests.2.gender"


def test_the_fast_batch_encoder_writes_what_the_model_would():
    results = [
        {
            "personal_id": "001090000001",
            "found": True,
            "fields": {"full_name": "match", "date_of_birth": "partial", "gender": None},
            "status": "alive",
            "death_date": None,
            "superseded_by": None,
        },
        {
            "personal_id": "079150000005",
            "found": True,
            "fields": {"full_name": "mismatch", "date_of_birth": "match", "gender": "mismatch"},
            "status": "dead",
            "death_date": "2023-11-20",
            "superseded_by": None,
        },
        {
            "personal_id": "001090999999",
            "found": False,
            "fields": None,
            "status": None,
            "death_date": None,
            "superseded_by": "001090000001",
        },
    ]
    expected = BatchVerifyResponse.model_validate({"results": results}).model_dump(mode="json")
    assert json.loads(_results_json(results)) == expected


# --- search ---------------------------------------------------------------------------------


def search(client: TestClient, **query: Any) -> dict[str, Any]:
    response = client.post("/v1/search", json=query)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_search_ignores_diacritics_case_and_finds_every_same_year_namesake(client: TestClient):
    found = search(client, full_name="NGUYEN THI HA", date_of_birth="1990")
    assert [c["personal_id"] for c in found["candidates"]] == ["001190000002", "001190000003"]
    assert found["candidates"][0] == {
        "personal_id": "001190000002",
        "full_name": "Nguyễn Thị Hà",
        "date_of_birth": "1990-03-02",
        "gender": "F",
        "birth_province": "001",
        "old_id": None,  # the file has no old_id column
    }


def test_search_puts_the_closest_birth_date_first(client: TestClient):
    found = search(client, full_name="Nguyễn Thị Hà", date_of_birth="1990-07-15")
    assert [c["personal_id"] for c in found["candidates"]] == ["001190000003", "001190000002"]


def test_search_needs_the_same_birth_year(client: TestClient):
    assert search(client, full_name="Nguyen Van An", date_of_birth="1991")["candidates"] == []


def test_search_narrows_by_gender_and_birth_province(client: TestClient):
    assert search(client, full_name="Nguyen Thi Ha", date_of_birth="1990", gender="M") == {
        "candidates": [],
        "truncated": False,
    }
    hcm = search(client, full_name="Nguyen Van Nam", date_of_birth="1980", birth_province="79")
    assert len(hcm["candidates"]) == 6
    assert {c["birth_province"] for c in hcm["candidates"]} == {"079"}


def test_search_returns_at_most_ten_and_says_so(client: TestClient):
    found = search(client, full_name="Nguyen Van Nam", date_of_birth="1980-03-10")
    assert len(found["candidates"]) == 10 and found["truncated"] is True
    assert [c["date_of_birth"] for c in found["candidates"][:2]] == ["1980-03-10"] * 2


def test_a_year_only_birth_date_is_found_by_a_full_date(client: TestClient):
    found = search(client, full_name="tran van binh", date_of_birth="1955-08-08")
    assert [c["personal_id"] for c in found["candidates"]] == ["079055000004"]


# --- the change feed ------------------------------------------------------------------------


def read_feed(client: TestClient, after: str | None = None, limit: int = 100) -> dict[str, Any]:
    params: dict[str, Any] = {"limit": limit}
    if after is not None:
        params["after"] = after
    response = client.get("/v1/changes", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_an_empty_feed_has_a_cursor_to_poll_with(client: TestClient):
    assert read_feed(client) == {"changes": [], "next_cursor": "0"}
    assert read_feed(client, after="0") == {"changes": [], "next_cursor": "0"}


def test_a_death_is_applied_and_appears_in_the_feed(client: TestClient):
    response = add_change(client, "death", "001090000001", death_date="2025-01-02")
    assert response.status_code == 201
    answer = verify(client)
    assert (answer["status"], answer["death_date"]) == ("dead", "2025-01-02")
    [change] = read_feed(client)["changes"]
    assert change["seq"] == 1 and change["kind"] == "death"
    assert change["personal_id"] == "001090000001"
    assert change["data"] == {"death_date": "2025-01-02"}


def test_the_cursor_never_skips_nor_repeats_a_change(client: TestClient):
    for month in range(1, 6):
        assert (
            add_change(
                client, "name_change", "001090000001", full_name=f"Nguyễn Văn An {'I' * month}"
            ).status_code
            == 201
        )
    first = read_feed(client, limit=2)
    assert [c["seq"] for c in first["changes"]] == [1, 2]
    second = read_feed(client, after=first["next_cursor"], limit=2)
    assert [c["seq"] for c in second["changes"]] == [3, 4]
    third = read_feed(client, after=second["next_cursor"], limit=2)
    assert [c["seq"] for c in third["changes"]] == [5]
    idle = read_feed(client, after=third["next_cursor"])
    assert idle == {"changes": [], "next_cursor": "5"}
    add_change(client, "death", "079055000004", death_date="2024-04-04")
    assert [c["seq"] for c in read_feed(client, after="5")["changes"]] == [6]


@pytest.mark.parametrize("cursor", ["abc", "-1", "7", "١"])
def test_a_cursor_the_feed_never_gave_is_refused(client: TestClient, cursor: str):
    response = client.get("/v1/changes", params={"after": cursor})
    assert response.status_code == 422
    assert response.json()["code"] == "INVALID_CURSOR"


def test_a_name_change_is_applied_to_verification_and_search(client: TestClient):
    add_change(client, "name_change", "001190000002", full_name="Nguyễn Thị Thu Hà")
    asked = {"personal_id": "001190000002", "date_of_birth": "1990-03-02", "gender": "F"}
    assert verify(client, full_name="Nguyễn Thị Thu Hà", **asked)["fields"]["full_name"] == "match"
    assert verify(client, full_name="Nguyễn Thị Hà", **asked)["fields"]["full_name"] == "mismatch"
    old = search(client, full_name="Nguyen Thi Ha", date_of_birth="1990")["candidates"]
    assert [c["personal_id"] for c in old] == ["001190000003"]
    new = search(client, full_name="Nguyen Thi Thu Ha", date_of_birth="1990")["candidates"]
    assert [c["personal_id"] for c in new] == ["001190000002"]


def test_an_id_correction_moves_the_person_and_points_from_the_old_id(client: TestClient):
    response = add_change(client, "id_correction", "001090000001", new_personal_id="001090000011")
    assert response.status_code == 201
    assert response.json()["data"] == {"new_personal_id": "001090000011"}
    old = verify(client)
    assert old["found"] is False and old["superseded_by"] == "001090000011"
    assert verify(client, personal_id="001090000011")["fields"] == {
        "full_name": "match",
        "date_of_birth": "match",
        "gender": "match",
    }
    found = search(client, full_name="Nguyen Van An", date_of_birth="1990")["candidates"]
    assert [c["personal_id"] for c in found] == ["001090000011"]


@pytest.mark.parametrize(
    ("kind", "personal_id", "data", "status", "code"),
    [
        ("death", "001090999999", {"death_date": "2024-01-01"}, 404, "PERSON_NOT_FOUND"),
        ("death", "079150000005", {"death_date": "2024-01-01"}, 409, "CHANGE_CONFLICT"),
        ("death", "001090000001", {"death_date": "1980-01-01"}, 409, "CHANGE_CONFLICT"),
        ("death", "001090000001", {"death_date": "2024"}, 422, "INVALID_REQUEST"),
        (
            "id_correction",
            "001090000001",
            {"new_personal_id": "001190000002"},
            409,
            "CHANGE_CONFLICT",
        ),
        ("divorce", "001090000001", {}, 422, "INVALID_REQUEST"),
    ],
)
def test_changes_that_cannot_apply_are_refused(
    client: TestClient, kind: str, personal_id: str, data: dict[str, str], status: int, code: str
):
    response = add_change(client, kind, personal_id, **data)
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert read_feed(client)["changes"] == []


def test_admin_endpoints_exist_only_when_asked_for(registry_csv: Path):
    with TestClient(create_app(registry_csv)) as plain:
        assert (
            add_change(plain, "death", "001090000001", death_date="2024-01-01").status_code == 404
        )
        assert plain.get("/v1/admin/faults").status_code == 404
        assert plain.get("/healthz").json() == {"status": "ok", "people": len(ROWS)}


# --- fault injection ------------------------------------------------------------------------


def set_faults(client: TestClient, **settings: Any) -> None:
    assert client.post("/v1/admin/faults", json=settings).status_code == 200


def statuses(client: TestClient, count: int) -> list[int]:
    return [client.post("/v1/verify", json=AN).status_code for _ in range(count)]


def test_error_rate_is_roughly_honoured_and_repeatable(client: TestClient):
    set_faults(client, error_rate=0.3, seed=7)
    first = statuses(client, 400)
    assert set(first) == {200, 503}
    assert 90 <= first.count(503) <= 150
    set_faults(client, error_rate=0.3, seed=7)
    assert statuses(client, 400) == first
    injected = client.get("/v1/admin/faults").json()["injected"]
    assert injected == {"requests": 400, "errors": first.count(503), "timeouts": 0}


def test_an_injected_error_answers_503_in_the_error_format(client: TestClient):
    set_faults(client, error_rate=1.0)
    response = client.post("/v1/verify", json=AN)
    assert response.status_code == 503
    assert response.json()["code"] == "SERVICE_UNAVAILABLE"


def test_faults_spare_health_checks_and_admin(client: TestClient):
    set_faults(client, error_rate=1.0)
    assert client.get("/healthz").status_code == 200
    assert client.get("/v1/admin/faults").status_code == 200


def test_latency_and_timeouts_delay_answers(client: TestClient):
    set_faults(client, latency_ms=30)
    started = time.perf_counter()
    assert statuses(client, 3) == [200] * 3
    assert time.perf_counter() - started >= 0.09
    set_faults(client, timeout_rate=0.5, timeout_seconds=0.05, seed=3)
    started = time.perf_counter()
    assert statuses(client, 20) == [200] * 20
    stalls = client.get("/v1/admin/faults").json()["injected"]["timeouts"]
    assert 3 <= stalls <= 17
    assert time.perf_counter() - started >= stalls * 0.05


def test_faults_given_at_start_are_in_force(registry_csv: Path):
    app = create_app(registry_csv, FaultConfig(error_rate=1.0))
    with TestClient(app) as faulty:
        assert statuses(faulty, 3) == [503] * 3


def test_fault_settings_are_validated(client: TestClient):
    assert client.post("/v1/admin/faults", json={"error_rate": 1.5}).status_code == 422
    with pytest.raises(ValueError, match="error_rate"):
        FaultConfig(error_rate=-0.1)


# --- the real HTTP service ------------------------------------------------------------------


def test_it_serves_over_real_http_with_an_openapi_contract(registry_csv: Path):
    with (
        BackgroundServer(create_app(registry_csv)) as server,
        httpx.Client(base_url=server.url) as http,
    ):
        assert http.post("/v1/verify", json=AN).json()["fields"]["full_name"] == "match"
        paths = http.get("/openapi.json").json()["paths"]
    assert {"/v1/verify", "/v1/verify/batch", "/v1/search", "/v1/changes", "/healthz"} <= set(paths)
    assert "413" in paths["/v1/verify/batch"]["post"]["responses"]
