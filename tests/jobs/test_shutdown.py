"""Graceful shutdown of a BullMQ consumer on the real Redis: closing the runtime takes no new job,
lets the one running finish its unit of work within the grace, and cuts it off after it."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from chainfluence import jobs
from chainfluence.bootstrap import build_runtime
from chainfluence.jobs.redis import BullMQQueue
from chainfluence.kit.db import create_engine
from chainfluence.migrations import migrate
from chainfluence.runtime import Runtime
from tests.conftest import make_settings

STARTED: dict[str, asyncio.Event] = defaultdict(asyncio.Event)
FINISHED: dict[str, float] = {}


@jobs.job("testing.slow_unit", max_attempts=1)
async def slow_unit(ctx: jobs.JobContext, *, key: str, seconds: float) -> None:
    STARTED[key].set()
    await asyncio.sleep(seconds)
    FINISHED[key] = time.monotonic()


@pytest.fixture
async def consumer(redis_url: str, tmp_path: Path) -> AsyncIterator[Runtime]:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'jobs.sqlite3'}"
    engine = create_engine(database_url)
    try:
        await migrate.upgrade(engine)
    finally:
        await engine.dispose()
    settings = make_settings(
        database_url,
        tmp_path,
        redis={"url": redis_url},
        jobs={"queue_name": f"stop-{uuid.uuid4().hex[:10]}"},
    )
    runtime = build_runtime(settings)
    await runtime.start_consuming()
    producer = build_runtime(settings)  # to clean up after the consumer closed
    try:
        yield runtime
    finally:
        queue = producer.queue
        assert isinstance(queue, BullMQQueue)
        await queue.obliterate()
        await producer.close()


async def test_closing_lets_the_running_job_finish_within_the_grace(consumer: Runtime) -> None:
    key = uuid.uuid4().hex
    await consumer.queue.enqueue("testing.slow_unit", {"key": key, "seconds": 1.5})
    await asyncio.wait_for(STARTED[key].wait(), 15)

    started = time.monotonic()
    await consumer.close(grace=60)
    closed = time.monotonic()

    assert key in FINISHED, "the running job was cut off"
    assert FINISHED[key] <= closed
    # Closing ends with the job (~1.5 s), not with the grace: half the grace apart, however
    # slowly a loaded machine schedules it.
    assert closed - started < 30


async def test_a_job_outlasting_the_grace_is_cut_off_with_one_warning(
    consumer: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    key = uuid.uuid4().hex
    await consumer.queue.enqueue("testing.slow_unit", {"key": key, "seconds": 30})
    await asyncio.wait_for(STARTED[key].wait(), 15)

    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="chainfluence.jobs.redis"):
        await consumer.close(grace=0.5)
    took = time.monotonic() - started

    assert key not in FINISHED
    assert took < 20  # the grace (0.5 s, ~0.51 s measured), not the job's 30 s
    assert [r.getMessage() for r in caplog.records if r.name == "chainfluence.jobs.redis"] == [
        "stopping with 1 job(s) still running after 0.5 s: they will be retried"
    ]
