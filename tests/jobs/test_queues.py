"""Jobs on the in-process runner and on BullMQ with the real Redis: after-commit delivery,
retries with backoff, deduplication and delays."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncEngine

from chainfluence import jobs
from chainfluence.app import create_app
from chainfluence.dependencies import DBSession
from chainfluence.jobs.redis import BullMQQueue
from chainfluence.kit.errors import Conflict
from chainfluence.models import NotificationType
from chainfluence.notifications.service import notify
from tests.conftest import make_settings
from tests.factories import login

RUNS: dict[str, list[float]] = defaultdict(list)
FAILURES_LEFT: dict[str, int] = {}


@jobs.job("testing.record", max_attempts=4)
async def record(ctx: jobs.JobContext, *, key: str) -> None:
    RUNS[key].append(time.monotonic())
    if FAILURES_LEFT.get(key, 0) > 0:
        FAILURES_LEFT[key] -= 1
        raise RuntimeError("flaky on purpose")


@jobs.job("testing.doomed", max_attempts=5)
async def doomed(ctx: jobs.JobContext, *, key: str) -> None:
    RUNS[key].append(time.monotonic())
    raise jobs.PermanentJobError("cannot ever work")


router = APIRouter()


@router.post("/testing/enqueue")
async def enqueue_in_request(session: DBSession, key: str, fail: bool = False) -> dict[str, str]:
    # A real write in the same transaction, so "rolled back" means something.
    await notify(session, user_id=1001, type=NotificationType.system, title=f"job {key}")
    await jobs.enqueue(session, "testing.record", {"key": key})
    if fail:
        raise Conflict("the request fails after queuing a job")
    return {"status": "queued"}


@pytest.fixture(params=["inprocess", "bullmq"])
async def jobs_client(
    request: pytest.FixtureRequest, db: AsyncEngine, database_url: str, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    # Backoffs long enough that a loaded machine's scheduling delays (tenths of a second) cannot
    # reorder the retry gaps the backoff test compares: with the in-process runner's jitter
    # (x0.8-1.2) the gaps are 0.8-1.2 s then 1.6-2.4 s, at least 0.4 s apart (0.2 s at 0.5 s).
    overrides: dict[str, object] = {"jobs": {"backoff_seconds": 1.0}}
    if request.param == "bullmq":
        redis_url = request.getfixturevalue("redis_url")
        overrides = {
            "redis": {"url": redis_url},
            # BullMQ's worker wakes for delayed jobs on whole seconds here; keep backoff above that.
            "jobs": {"queue_name": f"test-{uuid.uuid4().hex[:10]}", "backoff_seconds": 1.0},
        }
    settings = make_settings(database_url, tmp_path, **overrides)
    app = create_app(settings, consume_jobs=True)
    app.include_router(router)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as client,
    ):
        client.app = app  # type: ignore[attr-defined]
        try:
            yield client
        finally:
            queue = app.state.runtime.queue
            if isinstance(queue, BullMQQueue):
                await queue.obliterate()


async def _wait_for_runs(key: str, count: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while len(RUNS[key]) < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"{key}: {len(RUNS[key])} runs, expected {count}")
        await asyncio.sleep(0.02)
    # Give a duplicate the chance to show up.
    await asyncio.sleep(0.3)


async def test_job_queued_in_a_successful_request_runs_once(
    jobs_client: httpx.AsyncClient,
) -> None:
    await login(jobs_client, 1001)
    key = uuid.uuid4().hex

    response = await jobs_client.post("/testing/enqueue", params={"key": key})

    assert response.status_code == 200
    await _wait_for_runs(key, 1)
    assert len(RUNS[key]) == 1


async def test_job_queued_in_a_failed_request_never_runs(jobs_client: httpx.AsyncClient) -> None:
    headers = await login(jobs_client, 1001)
    key = uuid.uuid4().hex
    control = uuid.uuid4().hex

    failed = await jobs_client.post("/testing/enqueue", params={"key": key, "fail": "true"})
    # A later successful job proves the queue is alive while the failed one stays silent.
    await jobs_client.post("/testing/enqueue", params={"key": control})
    await _wait_for_runs(control, 1)

    assert failed.status_code == 409
    assert RUNS[key] == []
    inbox = (await jobs_client.get("/v1/notifications", headers=headers)).json()
    assert [n["title"] for n in inbox] == [f"job {control}"]


async def test_failing_job_is_retried_with_growing_backoff(jobs_client: httpx.AsyncClient) -> None:
    key = uuid.uuid4().hex
    FAILURES_LEFT[key] = 2

    await jobs_client.app.state.runtime.queue.enqueue("testing.record", {"key": key})  # type: ignore[attr-defined]

    await _wait_for_runs(key, 3)
    base = jobs_client.app.state.runtime.settings.jobs.backoff_seconds  # type: ignore[attr-defined]
    first_gap = RUNS[key][1] - RUNS[key][0]
    second_gap = RUNS[key][2] - RUNS[key][1]
    assert len(RUNS[key]) == 3
    assert first_gap >= 0.75 * base
    assert second_gap >= 1.5 * base
    assert second_gap > first_gap


async def test_permanent_failure_is_not_retried(jobs_client: httpx.AsyncClient) -> None:
    key = uuid.uuid4().hex

    await jobs_client.app.state.runtime.queue.enqueue("testing.doomed", {"key": key})  # type: ignore[attr-defined]

    await _wait_for_runs(key, 1)
    assert len(RUNS[key]) == 1


async def test_dedup_key_collapses_duplicates(jobs_client: httpx.AsyncClient) -> None:
    key = uuid.uuid4().hex
    queue = jobs_client.app.state.runtime.queue  # type: ignore[attr-defined]

    accepted = [
        await queue.enqueue("testing.record", {"key": key}, delay=0.3, dedup_key=f"dedup:{key}")
        for _ in range(5)
    ]

    await _wait_for_runs(key, 1)
    assert accepted == [True, False, False, False, False]
    assert len(RUNS[key]) == 1


async def test_delayed_job_waits_for_its_delay(jobs_client: httpx.AsyncClient) -> None:
    key = uuid.uuid4().hex
    queued_at = time.monotonic()

    await jobs_client.app.state.runtime.queue.enqueue("testing.record", {"key": key}, delay=0.5)  # type: ignore[attr-defined]

    await _wait_for_runs(key, 1)
    assert RUNS[key][0] - queued_at >= 0.45
