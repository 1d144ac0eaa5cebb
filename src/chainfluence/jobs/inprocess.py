"""The in-process job runner: asyncio tasks, used when no Redis is configured."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine, Iterator
from typing import Any

from chainfluence.jobs.queue import Executor, observe_sweep
from chainfluence.jobs.registry import PermanentJobError, periodic_specs
from chainfluence.kit.loops import CycleLog

log = logging.getLogger(__name__)


class InProcessQueue:
    """Delayed jobs, dedup keys, retries with backoff and periodic sweeps on the event loop.

    Jobs live only in memory: a crash loses what is queued, which is why every waiting state is
    also found again by a periodic sweep (DESIGN §6).
    """

    def __init__(self, executor: Executor, *, sweep_interval: float) -> None:
        self._executor = executor
        self._sweep_interval = sweep_interval
        self._jobs: set[asyncio.Task[None]] = set()
        self._sweeps: set[asyncio.Task[None]] = set()
        # Jobs executing right now (not waiting for a delay or a retry): shutdown lets them end.
        self._executing: set[asyncio.Task[Any]] = set()
        self._idle = asyncio.Event()
        self._idle.set()
        self._active_keys: set[str] = set()
        self._started = False
        self._closed = False

    async def enqueue(
        self,
        name: str,
        payload: dict[str, Any],
        *,
        delay: float = 0.0,
        dedup_key: str | None = None,
    ) -> bool:
        if self._closed:
            log.warning("job %s dropped: the runner is shutting down", name)
            return False
        if dedup_key is not None:
            if dedup_key in self._active_keys:
                return False
            self._active_keys.add(dedup_key)
        _spawn(self._jobs, self._run(name, payload, delay, dedup_key))
        return True

    async def _run(
        self, name: str, payload: dict[str, Any], delay: float, dedup_key: str | None
    ) -> None:
        try:
            if delay > 0:
                await asyncio.sleep(delay)
            attempts = self._executor.attempts_for(name)
            for attempt in range(1, attempts + 1):
                try:
                    await self._execute(name, payload, attempt)
                    return
                except PermanentJobError:
                    log.exception("job %s failed permanently", name)
                    return
                except Exception:
                    if attempt == attempts:
                        log.exception("job %s failed after %d attempts", name, attempts)
                        return
                    pause = self._executor.backoff(attempt)
                    log.warning("job %s attempt %d failed; retrying in %.1fs", name, attempt, pause)
                    await asyncio.sleep(pause)
        finally:
            if dedup_key is not None:
                self._active_keys.discard(dedup_key)

    async def _execute(self, name: str, payload: dict[str, Any], attempt: int) -> None:
        with self._unit_of_work():
            await self._executor.run(name, payload, attempt=attempt)

    @contextlib.contextmanager
    def _unit_of_work(self) -> Iterator[None]:
        """Mark the current task as doing work that `close` lets finish."""
        task = asyncio.current_task()
        assert task is not None
        self._executing.add(task)
        self._idle.clear()
        try:
            yield
        finally:
            self._executing.discard(task)
            if not self._executing:
                self._idle.set()

    async def start(self) -> None:
        if self._started:
            return
        self._started = True
        for spec in periodic_specs():
            _spawn(self._sweeps, self._every(spec.name, spec.handler, spec.every_seconds))

    async def _every(self, name: str, handler: Any, every: float | None) -> None:
        interval = every or self._sweep_interval
        cycles = CycleLog(log, f"sweep {name}")
        while True:
            # First run one interval after start: a process starting up (or a test's app) is not
            # swept at once by every sweep together.
            await asyncio.sleep(interval)
            with self._unit_of_work():
                try:
                    await observe_sweep(name, handler(self._executor.runtime))
                except Exception as exc:
                    cycles.failed(exc)
                else:
                    cycles.succeeded()

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait until no job is queued or running (tests; sweeps are not waited for)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self._jobs:
            if loop.time() > deadline:
                raise TimeoutError("jobs still running after drain timeout")
            await asyncio.sleep(0.01)

    async def close(self, grace: float = 5.0) -> None:
        """Stop: jobs and sweeps under way get `grace` seconds to finish their unit of work (cut
        off mid-transaction it would only be redone, but on SQLite a connection cancelled while
        waiting for the write lock may keep that lock); queued, delayed and retrying jobs are
        dropped — sweeps find their work again."""
        self._closed = True
        for task in [*self._sweeps, *self._jobs]:
            if task not in self._executing:
                task.cancel()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), timeout=grace)
        tasks = [*self._jobs, *self._sweeps]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


def _spawn(tasks: set[asyncio.Task[None]], coro: Coroutine[Any, Any, None]) -> None:
    task = asyncio.create_task(coro)
    tasks.add(task)
    task.add_done_callback(tasks.discard)
