"""Jobs on Redis through BullMQ: shared by every api and worker process."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import Any

from bullmq import Job, Queue, Worker
from bullmq.custom_errors import UnrecoverableError
from redis.asyncio.connection import SSLConnection, UnixDomainSocketConnection, parse_url

from chainfluence.jobs.queue import JOB_LATENCY, Executor, observe_sweep
from chainfluence.jobs.registry import PermanentJobError, periodic_specs
from chainfluence.kit.loops import is_outage, one_line

log = logging.getLogger(__name__)

SWEEP_JOB = "jobs.run_sweep"

# A BullMQ worker waits for work with BZPOPMIN for up to 10 s (bullmq's maximum block timeout).
# redis-py 8 gives every client a 5 s socket read timeout by default (it used to be none): the
# read then times out before Redis answers, redis-py retries the same command, and an idle worker
# never wakes for a delayed job or a scheduler's next run. Its connections therefore get a read
# timeout above the longest block; a dead connection is still noticed within it.
BLOCKING_READ_TIMEOUT_SECONDS = 30.0


def bullmq_connection(redis_url: str) -> dict[str, Any]:
    """BullMQ's redis-py options for `redis_url`, with a read timeout its blocking waits fit in."""
    options: dict[str, Any] = dict(parse_url(redis_url))
    connection_class = options.pop("connection_class", None)
    if connection_class is SSLConnection:
        options["ssl"] = True
    elif connection_class is UnixDomainSocketConnection:
        options["unix_socket_path"] = options.pop("path")
    options["socket_timeout"] = max(
        float(options.get("socket_timeout") or 0), BLOCKING_READ_TIMEOUT_SECONDS
    )
    options.setdefault("socket_connect_timeout", 5.0)
    options["socket_keepalive"] = True
    return options


class BullMQQueue:
    """Producer everywhere; consumer (a BullMQ Worker) in processes that call `start()`.

    Periodic sweeps become BullMQ job schedulers, so each fires once per interval across all
    workers rather than once per worker.
    """

    def __init__(
        self,
        executor: Executor,
        *,
        redis_url: str,
        queue_name: str,
        concurrency: int,
        sweep_interval: float,
        prefix: str = "chainfluence",
    ) -> None:
        self._executor = executor
        self._name = queue_name
        self._prefix = prefix
        self._concurrency = concurrency
        self._sweep_interval = sweep_interval
        self._connection = bullmq_connection(redis_url)
        self._queue = Queue(queue_name, {"connection": self._connection, "prefix": prefix})
        self._worker: Worker | None = None
        self._running = 0  # jobs (and sweeps) executing in this process

    def _options(self, name: str, *, delay: float, dedup_key: str | None) -> dict[str, Any]:
        options: dict[str, Any] = {
            "jobId": uuid.uuid4().hex,
            "attempts": self._executor.attempts_for(name) if name != SWEEP_JOB else 1,
            "backoff": {
                "type": "exponential",
                "delay": int(self._executor.backoff_seconds * 1000),
            },
            "removeOnComplete": True,
            "removeOnFail": {"age": 7 * 24 * 3600},
        }
        if delay > 0:
            options["delay"] = int(delay * 1000)
        if dedup_key is not None:
            options["deduplication"] = {"id": dedup_key}
        return options

    async def enqueue(
        self,
        name: str,
        payload: dict[str, Any],
        *,
        delay: float = 0.0,
        dedup_key: str | None = None,
    ) -> bool:
        options = self._options(name, delay=delay, dedup_key=dedup_key)
        job = await self._queue.add(name, payload, options)
        # A deduplicated add returns the id of the job already waiting.
        return bool(job.id == options["jobId"])

    async def _process(self, job: Job, _token: str) -> None:
        self._running += 1
        try:
            await self._run(job)
        finally:
            self._running -= 1

    async def _run(self, job: Job) -> None:
        attempt = int(job.attemptsMade) + 1
        name = str(job.data["name"]) if job.name == SWEEP_JOB else job.name
        # A first attempt is due at its timestamp plus its delay (retries wait out a backoff).
        # (BullMQ clears the job's `delay` field once it is promoted; its options keep it.)
        delay_ms = max(float(job.delay or 0), float((job.opts or {}).get("delay") or 0))
        due_ms = float(job.timestamp or 0) + delay_ms
        if due_ms and attempt == 1:
            JOB_LATENCY.labels(name).observe(max(0.0, time.time() - due_ms / 1000))
        try:
            if job.name == SWEEP_JOB:
                await observe_sweep(name, _run_sweep(self._executor, name))
                return
            await self._executor.run(job.name, dict(job.data), attempt=attempt)
        except PermanentJobError as exc:
            log.warning("job %s failed permanently: %s", name, one_line(exc))
            raise UnrecoverableError(str(exc)) from exc
        except Exception as exc:
            # One line per failed attempt; BullMQ retries it with backoff.
            log.warning(
                "job %s failed (attempt %d): %s",
                name,
                attempt,
                one_line(exc),
                exc_info=None if is_outage(exc) else exc,
            )
            raise

    async def start(self) -> None:
        if self._worker is not None:
            return
        for spec in periodic_specs():
            every = spec.every_seconds or self._sweep_interval
            await self._queue.upsertJobScheduler(
                f"sweep:{spec.name}",
                {"every": int(every * 1000)},
                SWEEP_JOB,
                {"name": spec.name},
                {"removeOnComplete": True, "removeOnFail": True},
            )
        self._worker = Worker(
            self._name,
            self._process,
            {
                "connection": self._connection,
                "prefix": self._prefix,
                "concurrency": self._concurrency,
            },
        )

    async def counts(self) -> dict[str, int]:
        result: dict[str, int] = await self._queue.getJobCounts(
            "waiting", "active", "delayed", "failed", "completed"
        )
        return result

    async def obliterate(self) -> None:
        """Remove the queue and all its jobs (tests)."""
        await self._queue.obliterate(force=True)

    async def close(self, grace: float = 5.0) -> None:
        """Stop taking jobs; those running get `grace` seconds to finish, then are cut off (their
        lock lapses and BullMQ hands them to another worker as stalled: handlers are idempotent)."""
        if self._worker is not None:
            worker, self._worker = self._worker, None
            try:
                await asyncio.wait_for(asyncio.shield(worker.close()), grace)
            except TimeoutError:
                log.warning(
                    "stopping with %d job(s) still running after %.1f s: they will be retried",
                    self._running,
                    grace,
                )
                await worker.close(force=True)
        await self._queue.close()


async def _run_sweep(executor: Executor, name: str) -> None:
    for spec in periodic_specs():
        if spec.name == name:
            await spec.handler(executor.runtime)
            return
    log.warning("sweep %s is scheduled but no longer registered", name)
