"""The population-database connector against the real stand-in service, over real HTTP.

No part of the server is mocked: each test talks to `nidb.sim.population` served by uvicorn on
a free loopback port, with its fault injection making it fail, stall, or go away.
"""

from __future__ import annotations

import asyncio
import csv
import random
import time
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from nidb.connectors.population import (
    AsyncPopulationClient,
    ChangeKind,
    CircuitBreaker,
    CircuitOpen,
    CircuitState,
    FieldResult,
    LifeStatus,
    PopulationClient,
    PopulationRequestRejected,
    PopulationUnavailable,
    RetryPolicy,
    VerifiedFields,
    VerifyRequest,
    VerifyResult,
)
from nidb.domain.gender import Gender
from nidb.domain.identifiers import PersonalId
from nidb.domain.names import strip_diacritics
from nidb.sim.population import BackgroundServer, create_app

T = TypeVar("T")

FAMILIES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Đặng", "Võ", "Bùi", "Đỗ", "Hồ"]
MIDDLES = ["Văn", "Thị", "Hữu", "Đức", "Ngọc", "Minh", "Thu", "Quốc"]
GIVENS = ["An", "Bình", "Hà", "Hạnh", "Hòa", "Thủy", "Dũng", "Hùng", "Lan", "Mai", "Tuấn", "Nam"]
PROVINCES = ["01", "79", "31", "48", "92"]
PEOPLE = 6000
VERIFIED = 5000  # people 0..4999 are only verified; the rest may be changed by tests
DEAD_EVERY = 37


@dataclass(frozen=True)
class Person:
    personal_id: str
    full_name: str
    date_of_birth: str
    gender: Gender
    birth_province: str
    dead: bool


def make_people() -> list[Person]:
    rng = random.Random(2024)
    people: list[Person] = []
    ids: set[str] = set()
    while len(people) < PEOPLE:
        gender = rng.choice([Gender.MALE, Gender.FEMALE])
        year = rng.randint(1940, 2005)
        province = rng.choice(PROVINCES)
        personal_id = PersonalId.build(province, gender, year, rng.randint(0, 899_999)).value
        if personal_id in ids:
            continue
        ids.add(personal_id)
        name = f"{rng.choice(FAMILIES)} {rng.choice(MIDDLES)} {rng.choice(GIVENS)}"
        dob = (
            str(year)
            if year < 1950 and rng.random() < 0.3
            else (f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}")
        )
        dead = len(people) % DEAD_EVERY == 0
        people.append(Person(personal_id, name, dob, gender, "0" + province, dead))
    return people


def write_registry(path: Path, people: list[Person]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "personal_id",
                "full_name",
                "date_of_birth",
                "gender",
                "birth_province",
                "status",
                "death_date",
            ]
        )
        for p in people:
            writer.writerow(
                [
                    p.personal_id,
                    p.full_name,
                    p.date_of_birth,
                    p.gender.value,
                    p.birth_province,
                    "dead" if p.dead else "alive",
                    "2022-02-02" if p.dead else "",
                ]
            )


def case(person: Person, variant: int) -> tuple[VerifyRequest, VerifyResult]:
    """A request about a person and the answer the registry must give, by variant."""
    match, mismatch, partial = FieldResult.MATCH, FieldResult.MISMATCH, FieldResult.PARTIAL
    request = VerifyRequest(
        person.personal_id, person.full_name, person.date_of_birth, person.gender
    )
    fields = VerifiedFields(match, match, match)
    if variant == 1:
        request = VerifyRequest(
            request.personal_id, person.full_name.upper(), request.date_of_birth, None
        )
        fields = VerifiedFields(match, match, None)
    elif variant == 2:
        request = VerifyRequest(
            request.personal_id,
            strip_diacritics(person.full_name),
            request.date_of_birth,
            request.gender,
        )
        fields = VerifiedFields(mismatch, match, match)
    elif variant == 3:
        request = VerifyRequest(
            request.personal_id, request.full_name, person.date_of_birth[:4], request.gender
        )
        year_only = len(person.date_of_birth) == 4
        fields = VerifiedFields(match, match if year_only else partial, match)
    elif variant == 4:
        other = Gender.FEMALE if person.gender is Gender.MALE else Gender.MALE
        request = VerifyRequest(
            request.personal_id, request.full_name, request.date_of_birth, other
        )
        fields = VerifiedFields(match, match, mismatch)
    elif variant == 5:
        unknown = person.personal_id[:6] + "9" + person.personal_id[7:]  # serials < 900000
        return VerifyRequest(unknown, request.full_name, request.date_of_birth), VerifyResult(
            unknown, False, None, None, None
        )
    status = LifeStatus.DEAD if person.dead else LifeStatus.ALIVE
    death = date(2022, 2, 2) if person.dead else None
    return request, VerifyResult(person.personal_id, True, fields, status, death)


def cases(
    people: list[Person], count: int, seed: int
) -> tuple[list[VerifyRequest], list[VerifyResult]]:
    rng = random.Random(seed)
    pairs = [case(rng.choice(people[:VERIFIED]), rng.randrange(6)) for _ in range(count)]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def run(call: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(call)


async def no_sleep(seconds: float) -> None:
    await asyncio.sleep(0)


@pytest.fixture(scope="module")
def people() -> list[Person]:
    return make_people()


@pytest.fixture(scope="module")
def registry_path(tmp_path_factory: pytest.TempPathFactory, people: list[Person]) -> Path:
    path = tmp_path_factory.mktemp("population") / "registry.csv"
    write_registry(path, people)
    return path


@pytest.fixture(scope="module")
def server(registry_path: Path) -> Iterator[BackgroundServer]:
    with BackgroundServer(create_app(registry_path, admin=True)) as running:
        yield running


@pytest.fixture
def admin(server: BackgroundServer) -> Iterator[httpx.Client]:
    """Direct HTTP access to the stand-in's admin endpoints; faults are reset afterwards."""
    with httpx.Client(base_url=server.url) as http:
        yield http
        http.post("/v1/admin/faults", json={})


def set_faults(admin: httpx.Client, **settings: Any) -> None:
    assert admin.post("/v1/admin/faults", json=settings).status_code == 200


def injected(admin: httpx.Client) -> dict[str, int]:
    counts: dict[str, int] = admin.get("/v1/admin/faults").json()["injected"]
    return counts


# --- verification ---------------------------------------------------------------------------


def test_verify_answers_about_one_person(server: BackgroundServer, people: list[Person]):
    async def scenario() -> None:
        async with AsyncPopulationClient(server.url) as client:
            for variant in range(6):
                request, expected = case(people[1], variant)
                assert await client.verify(request) == expected
            dead_request, dead_expected = case(people[0], 0)
            answer = await client.verify(dead_request)
            assert answer == dead_expected and answer.status is LifeStatus.DEAD
            assert answer.all_match

    run(scenario())


def test_verify_many_returns_every_answer_in_input_order(
    server: BackgroundServer, people: list[Person]
):
    requests, expected = cases(people, 3000, seed=1)

    async def scenario() -> list[VerifyResult]:
        async with AsyncPopulationClient(server.url) as client:
            return await client.verify_many(requests, batch_size=500, concurrency=4)

    assert run(scenario()) == expected


def test_with_one_call_in_ten_failing_5000_requests_get_5000_right_answers(
    server: BackgroundServer, admin: httpx.Client, people: list[Person]
):
    requests, expected = cases(people, 5000, seed=2)
    set_faults(admin, error_rate=0.1, seed=11)

    async def scenario() -> list[VerifyResult]:
        retry = RetryPolicy(retries=8, backoff=0.005, max_backoff=0.05)
        async with AsyncPopulationClient(server.url, retry=retry) as client:
            return await client.verify_many(requests, batch_size=100, concurrency=4)

    assert run(scenario()) == expected
    counts = injected(admin)
    assert counts["errors"] >= 1
    assert counts["requests"] == 50 + counts["errors"]  # each failure retried exactly once


def test_stalled_calls_time_out_and_are_retried_until_they_succeed(
    server: BackgroundServer, admin: httpx.Client, people: list[Person]
):
    requests, expected = cases(people, 1000, seed=3)
    set_faults(admin, timeout_rate=0.3, timeout_seconds=2.0, seed=5)

    async def scenario() -> list[VerifyResult]:
        retry = RetryPolicy(retries=8, backoff=0.005, max_backoff=0.05)
        async with AsyncPopulationClient(server.url, timeout=0.3, retry=retry) as client:
            return await client.verify_many(requests, batch_size=100, concurrency=4)

    started = time.perf_counter()
    assert run(scenario()) == expected
    assert injected(admin)["timeouts"] >= 1
    assert time.perf_counter() - started < 10


def test_exhausted_retries_raise_unavailable_with_the_cause_after_growing_waits(
    server: BackgroundServer, admin: httpx.Client, people: list[Person]
):
    set_faults(admin, error_rate=1.0)
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    async def scenario() -> None:
        retry = RetryPolicy(retries=4, backoff=0.1, max_backoff=0.5)
        async with AsyncPopulationClient(
            server.url, retry=retry, sleep=record, rng=random.Random(1)
        ) as client:
            await client.verify(case(people[1], 0)[0])

    with pytest.raises(PopulationUnavailable) as caught:
        run(scenario())
    error = caught.value
    assert error.attempts == 5 and injected(admin)["requests"] == 5
    assert isinstance(error.cause, httpx.HTTPStatusError)
    assert error.cause.response.status_code == 503
    steps = [0.1, 0.2, 0.4, 0.5]  # doubling, capped at max_backoff
    assert len(waits) == 4
    assert all(step / 2 <= wait <= step for wait, step in zip(waits, steps, strict=True))


def test_a_refused_request_is_not_retried_and_does_not_trip_the_breaker(
    server: BackgroundServer, admin: httpx.Client
):
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    breaker = CircuitBreaker(failure_threshold=1)

    async def scenario() -> None:
        async with AsyncPopulationClient(server.url, breaker=breaker, sleep=record) as client:
            await client.verify(VerifyRequest("12345", "Nguyễn Văn An", "1990"))

    with pytest.raises(PopulationRequestRejected) as caught:
        run(scenario())
    assert caught.value.status_code == 422 and caught.value.code == "INVALID_REQUEST"
    assert caught.value.details[0]["rule"] == "PERSONAL_ID_FORMAT"
    assert waits == [] and breaker.state is CircuitState.CLOSED


def test_batch_sizes_are_checked_before_calling(server: BackgroundServer):
    async def scenario() -> None:
        async with AsyncPopulationClient(server.url) as client:
            request = VerifyRequest("001090000001", "Nguyễn Văn An", "1990")
            with pytest.raises(ValueError, match="1000"):
                await client.verify_batch([request] * 1001)
            with pytest.raises(ValueError, match="batch_size"):
                await client.verify_many([request], batch_size=0)
            assert await client.verify_many([]) == []

    run(scenario())


# --- the circuit breaker --------------------------------------------------------------------


def test_the_breaker_opens_when_the_service_is_down_and_closes_when_it_is_back(
    registry_path: Path, people: list[Person]
):
    service = BackgroundServer(create_app(registry_path)).start()
    request, expected = case(people[1], 0)
    breaker = CircuitBreaker(failure_threshold=3, reset_timeout=0.5)
    retry = RetryPolicy(retries=2, backoff=0.01, max_backoff=0.02)

    async def calls_while_down(client: AsyncPopulationClient) -> None:
        for _ in range(3):
            with pytest.raises(PopulationUnavailable) as caught:
                await client.verify(request)
            assert not isinstance(caught.value, CircuitOpen)
            assert isinstance(caught.value.cause, httpx.TransportError)
        assert breaker.state is CircuitState.OPEN
        started = time.perf_counter()
        with pytest.raises(CircuitOpen) as refused:
            await client.verify(request)
        assert time.perf_counter() - started < 0.05  # no network call at all
        assert 0 < refused.value.retry_after <= 0.5

    async def scenario() -> None:
        async with AsyncPopulationClient(
            service.url, retry=retry, breaker=breaker, connect_timeout=0.5, timeout=2
        ) as client:
            assert await client.verify(request) == expected
            service.stop()
            await calls_while_down(client)
            service.start()
            await asyncio.sleep(0.55)
            assert breaker.state is CircuitState.HALF_OPEN
            assert await client.verify(request) == expected  # the probe
            assert breaker.state is CircuitState.CLOSED

    try:
        run(scenario())
    finally:
        service.stop()


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_breaker_opens_only_on_consecutive_failures():
    breaker = CircuitBreaker(failure_threshold=3, reset_timeout=10, clock=FakeClock())
    for _ in range(2):
        breaker.record_failure()
    breaker.record_success()
    for _ in range(2):
        breaker.record_failure()
    assert breaker.state is CircuitState.CLOSED and breaker.before_call() is False
    breaker.record_failure()
    assert breaker.state is CircuitState.OPEN
    with pytest.raises(CircuitOpen):
        breaker.before_call()


def test_the_half_open_breaker_lets_one_probe_through_and_reopens_if_it_fails():
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=1, reset_timeout=10, clock=clock)
    breaker.record_failure()
    clock.now = 9.0
    with pytest.raises(CircuitOpen) as early:
        breaker.before_call()
    assert early.value.retry_after == pytest.approx(1.0)
    clock.now = 10.0
    assert breaker.state is CircuitState.HALF_OPEN
    assert breaker.before_call() is True  # the probe
    with pytest.raises(CircuitOpen):
        breaker.before_call()  # only one probe at a time
    breaker.record_failure()
    assert breaker.state is CircuitState.OPEN
    clock.now = 19.0
    with pytest.raises(CircuitOpen):
        breaker.before_call()
    clock.now = 20.0
    assert breaker.before_call() is True
    breaker.record_abandoned(probe=True)  # cancelled: the next call may probe
    assert breaker.before_call() is True
    breaker.record_success()
    assert breaker.state is CircuitState.CLOSED and breaker.consecutive_failures == 0


def test_backoff_doubles_with_jitter_up_to_the_cap():
    policy = RetryPolicy(retries=6, backoff=0.2, max_backoff=1.0)
    rng = random.Random(3)
    for retry, step in enumerate([0.2, 0.4, 0.8, 1.0, 1.0]):
        waits = [policy.delay(retry, rng) for _ in range(200)]
        assert all(step / 2 <= wait <= step for wait in waits)
        assert max(waits) - min(waits) > step / 4  # spread out, not in step


# --- search, changes and the blocking client ------------------------------------------------


def test_search_finds_a_person_typed_without_diacritics(
    server: BackgroundServer, people: list[Person]
):
    person = people[10]

    async def scenario() -> None:
        async with AsyncPopulationClient(server.url) as client:
            found = await client.search(
                strip_diacritics(person.full_name).upper(),
                person.date_of_birth[:4],
                gender=person.gender,
            )
            assert person.personal_id in {c.personal_id for c in found.candidates}
            candidate = next(c for c in found.candidates if c.personal_id == person.personal_id)
            assert (candidate.full_name, candidate.gender) == (person.full_name, person.gender)
            assert candidate.birth_province == person.birth_province

    run(scenario())


def test_the_change_feed_is_read_page_by_page(
    server: BackgroundServer, admin: httpx.Client, people: list[Person]
):
    async def read_all(after: str, limit: int) -> tuple[list[str], str]:
        seen: list[str] = []
        async with AsyncPopulationClient(server.url) as client:
            while True:
                page = await client.changes(after, limit)
                seen += [f"{c.kind}:{c.personal_id}" for c in page.changes]
                if not page.changes:
                    return seen, page.next_cursor
                after = page.next_cursor

    _, start = run(read_all("0", 1000))
    living = [p for p in people[VERIFIED:] if not p.dead][:5]
    for person in living[:3]:
        body = {
            "kind": "death",
            "personal_id": person.personal_id,
            "data": {"death_date": "2025-06-01"},
        }
        assert admin.post("/v1/admin/changes", json=body).status_code == 201
    body = {
        "kind": "name_change",
        "personal_id": living[3].personal_id,
        "data": {"full_name": "Trần Thị Mới"},
    }
    assert admin.post("/v1/admin/changes", json=body).status_code == 201
    seen, end = run(read_all(start, 2))
    assert seen == [f"death:{p.personal_id}" for p in living[:3]] + [
        f"name_change:{living[3].personal_id}"
    ]
    assert int(end) == int(start) + 4

    async def first_change() -> None:
        async with AsyncPopulationClient(server.url) as client:
            page = await client.changes(start, 1)
            [change] = page.changes
            assert change.kind is ChangeKind.DEATH and change.data["death_date"] == "2025-06-01"
            answer = await client.verify(case(living[0], 0)[0])
            assert answer.status is LifeStatus.DEAD

    run(first_change())


def test_the_blocking_client_does_the_same_work(server: BackgroundServer, people: list[Person]):
    requests, expected = cases(people, 1200, seed=4)
    with PopulationClient(server.url) as client:
        assert client.healthy()
        assert client.verify(requests[0]) == expected[0]
        assert client.verify_many(requests, batch_size=250, concurrency=3) == expected
        person = people[20]
        found = client.search(person.full_name, person.date_of_birth)
        assert person.personal_id in {c.personal_id for c in found.candidates}
        assert client.breaker.state is CircuitState.CLOSED


def test_an_unreachable_service_is_not_healthy():
    async def scenario() -> bool:
        async with AsyncPopulationClient("http://127.0.0.1:9", connect_timeout=0.5) as client:
            return await client.healthy()

    assert run(scenario()) is False
