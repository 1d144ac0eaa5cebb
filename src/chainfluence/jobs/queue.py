"""The queue interface shared by the in-process runner and BullMQ, and the job executor."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, Protocol

from prometheus_client import Counter, Histogram
from sqlalchemy.ext.asyncio import AsyncSession

from chainfluence.jobs.registry import JobContext, PermanentJobError, get_job
from chainfluence.kit.db import after_commit
from chainfluence.ports import JobSender, Services

log = logging.getLogger(__name__)

JOB_RUNS = Counter("chainfluence_job_runs_total", "Job executions", ["job", "outcome"])
JOB_DURATION = Histogram(
    "chainfluence_job_duration_seconds", "How long one job attempt or sweep ran", ["job"]
)
JOB_LATENCY = Histogram(
    "chainfluence_job_latency_seconds",
    "From when a job was due (queued, or its delay over) to when a worker started it",
    ["job"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900),
)


async def observe_sweep(name: str, run: Awaitable[None]) -> None:
    """Run one sweep, timed and counted like a job."""
    started = time.perf_counter()
    try:
        await run
    except Exception:
        JOB_RUNS.labels(name, "error").inc()
        raise
    finally:
        JOB_DURATION.labels(name).observe(time.perf_counter() - started)
    JOB_RUNS.labels(name, "ok").inc()


QUEUE_INFO_KEY = "chainfluence.job_queue"


class JobQueue(JobSender, Protocol):
    """A queue backend: `enqueue` (a `JobSender`), and consuming in consumer processes."""

    async def start(self) -> None:
        """Start consuming jobs and running periodic sweeps (consumers only)."""
        ...

    async def close(self, grace: float = 5.0) -> None:
        """Stop consuming; work under way gets `grace` seconds to finish."""
        ...


@dataclass
class Executor:
    """Runs one attempt of a job by name with its payload, for any queue backend."""

    runtime: Services
    max_attempts: int
    backoff_seconds: float

    def attempts_for(self, name: str) -> int:
        return get_job(name).max_attempts or self.max_attempts

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with jitter before attempt `attempt + 1`."""
        base: float = self.backoff_seconds * 2 ** (attempt - 1)
        return base * random.uniform(0.8, 1.2)

    async def run(self, name: str, payload: dict[str, Any], *, attempt: int) -> None:
        spec = get_job(name)
        context = JobContext(
            runtime=self.runtime,
            job_name=name,
            attempt=attempt,
            max_attempts=self.attempts_for(name),
        )
        started = time.perf_counter()
        try:
            await spec.handler(context, **payload)
        except PermanentJobError:
            JOB_RUNS.labels(name, "failed").inc()
            raise
        except Exception:
            JOB_RUNS.labels(name, "error").inc()
            raise
        finally:
            JOB_DURATION.labels(name).observe(time.perf_counter() - started)
        JOB_RUNS.labels(name, "ok").inc()


async def enqueue(
    session: AsyncSession,
    name: str,
    payload: dict[str, Any],
    *,
    delay: float = 0.0,
    dedup_key: str | None = None,
) -> None:
    """Queue a job to be sent once `session` commits; nothing is sent if it rolls back."""
    get_job(name)  # fail fast on a typo, inside the transaction
    queue: JobQueue | None = session.info.get(QUEUE_INFO_KEY)
    if queue is None:
        raise RuntimeError("this session was not opened by the runtime; it cannot queue jobs")

    async def send() -> None:
        await queue.enqueue(name, payload, delay=delay, dedup_key=dedup_key)

    after_commit(session, send)
