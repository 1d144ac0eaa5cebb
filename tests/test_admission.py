"""Requests at work at once are bounded per process (`http.concurrent_requests`): the others
wait their turn in the order they came, a slot is a lease that a long request gives up, a wait
too long is answered 503, and the probes never wait. Through the API, with routes that hold
their slot until the test lets them go."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from chainfluence.config import Settings
from tests.conftest import app_client


def _limited(settings: Settings, *, lease: float = 30.0, wait: float = 30.0) -> Settings:
    http = settings.http.model_copy(
        update={"concurrent_requests": 1, "slot_lease_seconds": lease, "queue_wait_seconds": wait}
    )
    return settings.model_copy(update={"http": http})


class Gates:
    """A route `/v1/test-gate/{name}` that records its start and waits for its gate."""

    def __init__(self, app: FastAPI) -> None:
        self.started: list[str] = []
        self._gates: dict[str, asyncio.Event] = {}

        async def gate(name: str) -> dict[str, str]:
            self.started.append(name)
            await self._gate(name).wait()
            return {"name": name}

        app.add_api_route("/v1/test-gate/{name}", gate, methods=["GET"])

    def _gate(self, name: str) -> asyncio.Event:
        return self._gates.setdefault(name, asyncio.Event())

    def open(self, name: str) -> None:
        self._gate(name).set()


async def _until(condition: object, what: str) -> None:
    for _ in range(500):
        if callable(condition) and condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never: {what}")


@pytest.fixture
async def limited(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, Gates]]:
    async with app_client(_limited(settings)) as client:
        yield client, Gates(client.app)  # type: ignore[attr-defined]


async def test_requests_beyond_the_slots_run_in_the_order_they_came(
    limited: tuple[httpx.AsyncClient, Gates],
) -> None:
    client, gates = limited
    calls = {}
    for name in ("a", "b", "c", "d"):
        calls[name] = asyncio.create_task(client.get(f"/v1/test-gate/{name}"))
        await asyncio.sleep(0.05)  # each arrives after the one before
    await _until(lambda: gates.started == ["a"], "a started")
    assert gates.started == ["a"]  # b, c and d wait for the one slot

    for name in ("a", "b", "c", "d"):
        gates.open(name)
        response = await asyncio.wait_for(calls[name], timeout=10)
        assert response.json() == {"name": name}
    assert gates.started == ["a", "b", "c", "d"]


async def test_a_request_at_work_past_its_lease_lets_the_next_one_in(settings: Settings) -> None:
    async with app_client(_limited(settings, lease=0.2)) as client:
        gates = Gates(client.app)  # type: ignore[attr-defined]
        slow = asyncio.create_task(client.get("/v1/test-gate/slow"))
        await _until(lambda: gates.started == ["slow"], "slow started")

        # The slow request keeps going; after its lease the next one runs beside it.
        gates.open("quick")
        quick = await asyncio.wait_for(client.get("/v1/test-gate/quick"), timeout=10)
        assert quick.status_code == 200
        assert not slow.done()

        gates.open("slow")
        assert (await asyncio.wait_for(slow, timeout=10)).json() == {"name": "slow"}


async def test_a_request_that_waits_too_long_is_answered_503_and_changes_nothing(
    settings: Settings,
) -> None:
    async with app_client(_limited(settings, wait=0.2)) as client:
        gates = Gates(client.app)  # type: ignore[attr-defined]
        holder = asyncio.create_task(client.get("/v1/test-gate/holder"))
        await _until(lambda: gates.started == ["holder"], "holder started")

        refused = await asyncio.wait_for(client.get("/v1/test-gate/late"), timeout=10)

        assert refused.status_code == 503
        assert refused.headers["Retry-After"] == "1"
        assert refused.json()["code"] == "busy"
        assert gates.started == ["holder"]  # the refused request never ran
        gates.open("holder")
        assert (await asyncio.wait_for(holder, timeout=10)).status_code == 200
        # The slot is free again: the next request runs at once.
        gates.open("next")
        assert (await client.get("/v1/test-gate/next")).status_code == 200


async def test_probes_never_wait_for_a_slot(limited: tuple[httpx.AsyncClient, Gates]) -> None:
    client, gates = limited
    holder = asyncio.create_task(client.get("/v1/test-gate/holder"))
    await _until(lambda: gates.started == ["holder"], "holder started")

    assert (await asyncio.wait_for(client.get("/healthz"), timeout=5)).status_code == 200
    metrics = await asyncio.wait_for(client.get("/metrics"), timeout=5)
    assert metrics.status_code == 200

    gates.open("holder")
    await asyncio.wait_for(holder, timeout=10)


async def test_a_waiting_request_given_up_by_its_client_takes_no_slot(
    limited: tuple[httpx.AsyncClient, Gates],
) -> None:
    client, gates = limited
    holder = asyncio.create_task(client.get("/v1/test-gate/holder"))
    await _until(lambda: gates.started == ["holder"], "holder started")
    abandoned = asyncio.create_task(client.get("/v1/test-gate/abandoned"))
    await asyncio.sleep(0.05)
    abandoned.cancel()  # the client went away while the request waited
    with pytest.raises(asyncio.CancelledError):
        await abandoned

    gates.open("holder")
    await asyncio.wait_for(holder, timeout=10)
    gates.open("after")
    after = await asyncio.wait_for(client.get("/v1/test-gate/after"), timeout=10)
    assert after.status_code == 200
    assert gates.started == ["holder", "after"]
