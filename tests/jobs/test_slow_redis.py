"""Slow tests on the real Redis: an idle BullMQ worker wakes for a delayed job on time, and
repeatable sweeps run at their rate for a minute.

Jobs delayed by more than a few seconds and scheduler runs are exactly what the rest of the suite
never exercises (its delays are well under a second), and what froze every deal when redis-py 8's
5 s default read timeout cut the worker's blocking waits short. Both runtimes start together in
one module fixture, so the minute is paid once (pytest -m "not slow" skips them locally).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from chainfluence import jobs
from chainfluence.bootstrap import build_runtime
from chainfluence.jobs.redis import BullMQQueue
from chainfluence.kit.db import create_engine
from chainfluence.migrations import migrate
from chainfluence.runtime import Runtime
from tests.conftest import make_settings

pytestmark = pytest.mark.slow

DELAY_SECONDS = 15.0
SWEEP_EVERY_SECONDS = 5.0
SWEEP_WINDOW_SECONDS = 60.0
# How late a delayed job or a sweep may run: BullMQ moves a due job within its event loop's
# reaction time; this allows for a busy two-core CI machine without letting a missed wake-up pass.
TOLERANCE_SECONDS = 2.0

DELAYED_RUNS: dict[str, float] = {}
DELAYED_DONE: dict[str, asyncio.Event] = defaultdict(asyncio.Event)
SWEEP_RUNS: dict[str, list[float]] = defaultdict(list)


@jobs.job("testing.delayed_probe")
async def delayed_probe(ctx: jobs.JobContext, *, key: str) -> None:
    DELAYED_RUNS[key] = time.monotonic()
    DELAYED_DONE[key].set()


@jobs.periodic("testing.sweep_probe")  # every `jobs.sweep_interval_seconds` of the runtime
async def sweep_probe(runtime: Runtime) -> None:
    SWEEP_RUNS[runtime.settings.jobs.queue_name].append(time.monotonic())


@dataclass
class Workers:
    idle: Runtime  # sweeps hourly: between jobs it only waits
    sweeping: Runtime  # sweeps every SWEEP_EVERY_SECONDS
    started_at: float


async def _runtime(database_url: str, tmp_path: Path, redis_url: str, sweep: float) -> Runtime:
    settings = make_settings(
        database_url,
        tmp_path,
        redis={"url": redis_url},
        jobs={"queue_name": f"slow-{uuid.uuid4().hex[:10]}", "sweep_interval_seconds": sweep},
    )
    runtime = build_runtime(settings)
    await runtime.start_consuming()
    return runtime


@pytest.fixture(scope="module")
async def workers(
    redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Workers]:
    tmp_path = tmp_path_factory.mktemp("slow-jobs")
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'jobs.sqlite3'}"
    engine = create_engine(database_url)
    try:
        await migrate.upgrade(engine)
    finally:
        await engine.dispose()
    started: list[Runtime] = []
    try:
        started.append(await _runtime(database_url, tmp_path, redis_url, 3600))
        started.append(await _runtime(database_url, tmp_path, redis_url, SWEEP_EVERY_SECONDS))
        yield Workers(idle=started[0], sweeping=started[1], started_at=time.monotonic())
    finally:
        for runtime in started:
            queue = runtime.queue
            assert isinstance(queue, BullMQQueue)
            await queue.obliterate()
            await runtime.close()


async def test_idle_worker_runs_a_delayed_job_on_time(workers: Workers) -> None:
    key = uuid.uuid4().hex
    await asyncio.sleep(1.0)  # the worker has gone idle: blocked waiting for work

    queued_at = time.monotonic()
    await workers.idle.queue.enqueue("testing.delayed_probe", {"key": key}, delay=DELAY_SECONDS)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(DELAYED_DONE[key].wait(), DELAY_SECONDS + 10 * TOLERANCE_SECONDS)

    assert key in DELAYED_RUNS, f"a job delayed by {DELAY_SECONDS:.0f} s never ran"
    waited = DELAYED_RUNS[key] - queued_at
    assert DELAY_SECONDS - 0.1 <= waited <= DELAY_SECONDS + TOLERANCE_SECONDS, (
        f"ran after {waited:.2f} s"
    )
    # The job latency metric saw it start within the tolerance of its due time.
    latency = {"job": "testing.delayed_probe"}
    assert REGISTRY.get_sample_value("chainfluence_job_latency_seconds_count", latency) == 1
    late = REGISTRY.get_sample_value("chainfluence_job_latency_seconds_sum", latency)
    assert late is not None
    assert late <= TOLERANCE_SECONDS


async def test_repeatable_sweeps_run_at_their_rate_for_a_minute(workers: Workers) -> None:
    queue_name = workers.sweeping.settings.jobs.queue_name
    end = workers.started_at + SWEEP_WINDOW_SECONDS + TOLERANCE_SECONDS
    await asyncio.sleep(max(0.0, end - time.monotonic()))

    runs = [t - workers.started_at for t in SWEEP_RUNS[queue_name]]
    in_window = [t for t in runs if t <= SWEEP_WINDOW_SECONDS]
    gaps = [b - a for a, b in itertools.pairwise(runs)]
    expected = SWEEP_WINDOW_SECONDS / SWEEP_EVERY_SECONDS
    summary = f"runs at {[round(t, 1) for t in runs]}"
    assert expected - 1 <= len(in_window) <= expected + 1, summary
    assert runs[0] <= SWEEP_EVERY_SECONDS + TOLERANCE_SECONDS, summary
    assert max(gaps) <= SWEEP_EVERY_SECONDS + TOLERANCE_SECONDS, summary
    sweep = {"job": "testing.sweep_probe"}
    started = REGISTRY.get_sample_value("chainfluence_job_latency_seconds_count", sweep)
    late = REGISTRY.get_sample_value("chainfluence_job_latency_seconds_sum", sweep)
    assert started is not None
    assert late is not None
    assert started >= len(runs)
    assert late / started <= TOLERANCE_SECONDS, "sweeps started late on average"
