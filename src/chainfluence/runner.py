"""Process roles: `serve` (all in one), `api` (HTTP only), `worker` (jobs, sweeps, watcher)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator

import typer
import uvicorn
from fastapi import FastAPI

from chainfluence import plugins
from chainfluence.app import create_app
from chainfluence.bootstrap import build_runtime
from chainfluence.config import Settings, get_settings
from chainfluence.kit import faults
from chainfluence.kit.heap import freeze_startup_objects
from chainfluence.kit.logging import configure_logging
from chainfluence.kit.serving import H11_MAX_HEADER_BYTES, serve_in_background
from chainfluence.operations import banner, worker_app
from chainfluence.runtime import Runtime
from chainfluence.telegram.lifecycle import polling

log = logging.getLogger(__name__)


def app_factory() -> FastAPI:
    """uvicorn's factory for `chainfluence api` (one runtime per worker process)."""
    settings = get_settings()
    configure_logging(json=settings.json_logs, level=settings.log_level)
    faults.arm(settings.fault_point)
    return create_app(settings, owns_process=True)


async def _wait_for_shutdown() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()


async def _prepare_database(runtime: Runtime) -> None:
    # Imported here: Alembic is about 10 MB of an API process that never migrates.
    from chainfluence.migrations import migrate

    settings = runtime.settings
    if settings.database.is_sqlite:
        await migrate.upgrade(runtime.engine)
        return
    if (
        await migrate.pending_model_changes(runtime.engine)
        or await migrate.current_revision(runtime.engine) is None
    ):
        raise SystemExit("The database is not migrated: run `chainfluence db upgrade` first.")


def _banner(settings: Settings, url: str) -> str:
    mode = "SANDBOX" if settings.is_sandbox else "PRODUCTION"
    jobs = f"BullMQ on {settings.redis.url}" if settings.redis.url else "in-process"
    lines = [
        f"Chainfluence {mode} mode",
        f"  database : {settings.database.url}",
        f"  jobs     : {jobs}",
        f"  API      : {url}/docs",
    ]
    if settings.is_sandbox:
        lines.append("  Telegram and TON are local emulators; no real money moves.")
    return "\n".join(lines)


async def run_serve(settings: Settings, *, host: str | None, port: int | None) -> None:
    configure_logging(json=settings.json_logs, level=settings.log_level)
    async with plugins.local_services(settings) as services:
        await _serve(services, host=host, port=port)


async def _serve(services: plugins.LocalServices, *, host: str | None, port: int | None) -> None:
    async with serving(services, host=host, port=port) as url:
        typer.echo("\n".join([_banner(services.settings, url), *services.describe(url)]))
        freeze_startup_objects()
        await _wait_for_shutdown()


@contextlib.asynccontextmanager
async def serving(
    services: plugins.LocalServices, *, host: str | None, port: int | None
) -> AsyncIterator[str]:
    """What `serve` runs (API, jobs, watcher, bot polling) with the plugins' `services` until
    the block exits; yields the API's base URL. `port=0` picks a free port (`chainfluence demo`)."""
    settings = services.settings
    runtime = build_runtime(settings)
    try:
        await _prepare_database(runtime)
        await runtime.start_consuming()
        app = create_app(runtime=runtime, services=services)
        async with (
            serve_in_background(
                app,
                host=host or settings.http.host,
                port=settings.http.port if port is None else port,
                log_level=settings.log_level.lower(),
            ) as url,
            polling(runtime),
        ):
            yield url
    finally:
        await runtime.close()


def run_api(settings: Settings, *, host: str, port: int, workers: int) -> None:
    """uvicorn with `workers` processes, each its own runtime (pool of `database.pool_size`).

    Several workers need Redis: the API then only enqueues, and the jobs, sweeps and the
    leader-elected chain watcher run in `chainfluence worker`. Without Redis an API process runs
    them itself, which must happen once, so `chainfluence api` refuses more than one worker.
    """
    uvicorn.run(
        "chainfluence.runner:app_factory",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=settings.log_level.lower(),
        access_log=False,
        proxy_headers=False,
        # With h11 (no httptools), oversized headers still reach our 431 (see kit.serving).
        h11_max_incomplete_event_size=H11_MAX_HEADER_BYTES,
        # SIGTERM: stop accepting, let requests under way finish this long.
        timeout_graceful_shutdown=int(settings.worker.grace_seconds),
    )


async def run_worker(settings: Settings) -> None:
    """Jobs, sweeps and the chain loops, plus /healthz /readyz /metrics on the worker's port.

    SIGTERM or SIGINT: no new job is taken; jobs and chain cycles under way get
    `worker.grace_seconds` to finish (a job cut off is retried by another worker)."""
    configure_logging(json=settings.json_logs, level=settings.log_level)
    if not settings.redis.url:
        raise SystemExit(
            "`chainfluence worker` consumes the Redis queue: set CHAINFLUENCE_REDIS__URL."
        )
    worker = settings.worker
    runtime = build_runtime(settings)
    closed = False
    try:
        await runtime.follow_sandbox_clock()
        await runtime.start_consuming()
        async with serve_in_background(
            worker_app(runtime),
            host=worker.host,
            port=worker.port,
            log_level=settings.log_level.lower(),
        ) as url:
            typer.echo(banner("worker", settings, listening=url))
            freeze_startup_objects()
            await _wait_for_shutdown()
            log.info(
                "worker stopping: no new jobs; up to %.0f s for those running", worker.grace_seconds
            )
            closed = True
            await runtime.close(grace=worker.grace_seconds)
            log.info("worker stopped")
    finally:
        if not closed:
            await runtime.close()
