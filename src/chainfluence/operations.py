"""What operators see of a running process: its start-up line, readiness, metrics, port errors.

Shared by `chainfluence api` (on its HTTP port) and `chainfluence worker` (on its own health
port, `CHAINFLUENCE_WORKER__PORT`): /healthz says the process is alive, /readyz whether the
database, Redis and the TON endpoint answer, /metrics the Prometheus figures, refreshed from the
queue and the database when scraped.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import socket
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, Gauge, generate_latest
from sqlalchemy import func, select, text
from starlette.responses import Response

from chainfluence.config import Settings
from chainfluence.models import Deal, DealStatus

if TYPE_CHECKING:
    from chainfluence.runtime import Runtime

log = logging.getLogger(__name__)

# How long a TON endpoint check is reused: readiness probes every few seconds from every load
# balancer must not spend the endpoint's rate limit.
TON_CHECK_TTL_SECONDS = 5.0
CHECK_TIMEOUT_SECONDS = 3.0

QUEUE_JOBS = Gauge(
    "chainfluence_queue_jobs", "Jobs in the queue by state (when scraped)", ["state"]
)
DEALS_BY_STATUS = Gauge("chainfluence_deals", "Deals by status (when scraped)", ["status"])


def redact_url(url: str | None) -> str:
    """`url` without its password and query string (either may carry a secret)."""
    if not url:
        return "unset"
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        user, _, host = netloc.rpartition("@")
        netloc = f"{user.split(':', 1)[0]}:***@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, "***" if parts.query else "", ""))


def banner(role: str, settings: Settings, *, listening: str | None = None) -> str:
    """One line: the role, the mode and everything the process talks to, secrets left out."""
    ton = settings.ton
    telegram = settings.telegram
    if telegram.webhook_url:
        bot = f"webhook {redact_url(telegram.webhook_url)}"
    elif settings.telegram.bot_token is not None or settings.is_sandbox:
        bot = f"Bot API {redact_url(telegram.api_base_url or 'https://api.telegram.org')}"
    else:
        bot = "no bot token"
    jobs = f"BullMQ on {redact_url(settings.redis.url)}" if settings.redis.url else "in-process"
    parts = [
        f"chainfluence {role}",
        f"mode {settings.mode.value}",
        f"database {redact_url(settings.database.url)}",
        f"jobs {jobs}",
        f"TON {ton.network.value} {redact_url(ton.api_url) if ton.api_url else '(no endpoint)'}",
        f"Telegram {bot}",
    ]
    if listening:
        parts.append(f"listening on {listening}")
    return " · ".join(parts)


def ensure_port_free(host: str, port: int, *, setting: str) -> None:
    """Exit with one sentence (no traceback) if `host:port` cannot be listened on."""
    if port == 0:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                reason = "another process is already listening there"
            else:
                reason = exc.strerror or str(exc)
            raise SystemExit(
                f"Cannot listen on {host}:{port}: {reason}. Stop it, or choose another port "
                f"with {setting}."
            ) from None


@dataclass
class Readiness:
    """The checks behind /readyz; the TON endpoint's answer is cached a few seconds."""

    runtime: Runtime
    _ton: tuple[float, str] | None = None
    _ton_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def checks(self) -> dict[str, str]:
        runtime = self.runtime
        checks = {"database": await self._check("database", self._database)}
        if runtime.redis is not None:
            checks["redis"] = await self._check("redis", runtime.redis.ping)
        if runtime.chain is not None:
            checks["ton"] = await self._ton_check()
        return checks

    async def _database(self) -> None:
        async with self.runtime.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def _ton_check(self) -> str:
        async with self._ton_lock:
            now = time.monotonic()
            if self._ton is not None and now - self._ton[0] < TON_CHECK_TTL_SECONDS:
                return self._ton[1]
            assert self.runtime.chain is not None
            result = await self._check("ton", self.runtime.chain.client.masterchain_info)
            self._ton = (time.monotonic(), result)
            return result

    @staticmethod
    async def _check(name: str, probe: object) -> str:
        try:
            await asyncio.wait_for(probe(), CHECK_TIMEOUT_SECONDS)  # type: ignore[operator]
        except Exception as exc:  # one line: a probe every few seconds must not flood the log
            log.warning("readiness: %s unreachable: %s", name, _one_line(exc))
            return "unreachable"
        return "ok"


def _one_line(exc: BaseException) -> str:
    text_ = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text_[0]}" if text_ else type(exc).__name__


async def refresh_gauges(runtime: Runtime) -> None:
    """Figures read from the queue and the database when /metrics is scraped."""
    counts = getattr(runtime.queue, "counts", None)
    if counts is not None:
        with contextlib.suppress(Exception):
            for state, number in (await counts()).items():
                QUEUE_JOBS.labels(state).set(number)
    try:
        async with runtime.session(write=False) as session:
            rows = (
                await session.execute(select(Deal.status, func.count()).group_by(Deal.status))
            ).all()
    except Exception as exc:
        log.warning("metrics: deals by status unavailable: %s", _one_line(exc))
        return
    found = {status: number for status, number in rows}
    for status in DealStatus:
        DEALS_BY_STATUS.labels(status.value).set(found.get(status, 0))


_HEALTHY = b'{"status":"ok"}'
# The probes' paths: answered even when every request slot is taken (kit.http.AdmissionMiddleware).
OPERATIONAL_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


def add_operational_routes(app: FastAPI) -> None:
    """/healthz, /readyz and /metrics on `app`, whose `state.runtime` is the process's runtime."""

    @app.get("/healthz", tags=["operations"], response_model=dict[str, str])
    async def healthz() -> Response:
        # The answer is always the same bytes: no validation or serialisation per probe.
        return Response(_HEALTHY, media_type="application/json")

    @app.get(
        "/readyz",
        tags=["operations"],
        responses={
            503: {
                "description": "The database, Redis or the TON endpoint is unreachable.",
                "content": {"application/json": {"schema": {"type": "object"}}},
            }
        },
    )
    async def readyz() -> JSONResponse:
        readiness: Readiness | None = getattr(app.state, "readiness", None)
        if readiness is None or readiness.runtime is not app.state.runtime:
            readiness = app.state.readiness = Readiness(app.state.runtime)
        checks = await readiness.checks()
        ready = all(value == "ok" for value in checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "not_ready", "checks": checks},
            status_code=200 if ready else 503,
        )

    @app.get("/metrics", tags=["operations"], include_in_schema=False)
    async def metrics() -> Response:
        await refresh_gauges(app.state.runtime)
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


def worker_app(runtime: Runtime) -> FastAPI:
    """The worker's small HTTP side: health, readiness and metrics only."""
    app = FastAPI(title="Chainfluence worker", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.runtime = runtime
    add_operational_routes(app)
    return app
