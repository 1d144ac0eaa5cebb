"""Benchmark plumbing: a scratch PostgreSQL database, the API in its own process, a load loop.

The API runs as `chainfluence api` (uvicorn, uvloop, httptools) in a child process; the load
generator runs here, in another process, so the two share the machine's cores the way a
client and a server on one host do. Figures are for comparing runs on the same machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass

import aiohttp
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from chainfluence.kit.db import create_engine
from chainfluence.migrations import migrate

POSTGRES_ADMIN_URL = os.environ.get(
    "CHAINFLUENCE_BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
BENCH_BOT_TOKEN = "987654321:BENCH-token-for-chainfluence-benchmarks"  # noqa: S105
BENCH_JWT_SECRET = "bench-secret-" + "b" * 40


@contextlib.asynccontextmanager
async def postgres_database() -> AsyncIterator[str]:
    """A fresh, migrated PostgreSQL database, dropped afterwards."""
    name = f"chainfluence_bench_{uuid.uuid4().hex[:10]}"
    admin = create_async_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    engine = create_engine(url)
    try:
        await migrate.upgrade(engine)
        await engine.dispose()
        yield url
    finally:
        await engine.dispose()
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def api_server(database_url: str, **env: str) -> Iterator[str]:
    """`chainfluence api` on a loopback port in a child process; yields its base URL."""
    port = _free_port()
    environment = {
        **os.environ,
        "CHAINFLUENCE_DATABASE__URL": database_url,
        "CHAINFLUENCE_TELEGRAM__BOT_TOKEN": BENCH_BOT_TOKEN,
        "CHAINFLUENCE_AUTH__JWT_SECRET": BENCH_JWT_SECRET,
        # Limits would turn a load test into a 429 test.
        "CHAINFLUENCE_RATE_LIMIT__ENABLED": "false",
        "CHAINFLUENCE_LOG_LEVEL": "WARNING",
        "CHAINFLUENCE_DATABASE__POOL_SIZE": "20",
        **env,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "chainfluence.cli", "api", "--port", str(port)],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, process)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def _wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    import urllib.request

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            stderr = process.stderr.read().decode() if process.stderr else ""
            raise RuntimeError(f"the API exited during start-up:\n{stderr}")
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=1) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError("the API did not become ready in 30 s")


@dataclass(frozen=True)
class LoadResult:
    name: str
    requests: int
    errors: int
    seconds: float
    latencies: list[float]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))
        return ordered[index]

    def line(self) -> str:
        return (
            f"{self.name:<58} {self.rps:>8.0f} req/s   p50 {self.percentile(50) * 1000:>7.1f} ms"
            f"   p99 {self.percentile(99) * 1000:>7.1f} ms   errors {self.errors}"
        )


Request = Callable[[aiohttp.ClientSession, int], Awaitable[int]]


async def run_load(
    name: str,
    request: Request,
    *,
    duration: float = 10.0,
    concurrency: int = 32,
    warmup: float = 1.0,
) -> LoadResult:
    """Drive `request` from `concurrency` loops for `duration` seconds (after a warm-up).

    `request(session, n)` performs the n-th request and returns its HTTP status; 2xx counts.
    """
    latencies: list[float] = []
    errors = 0
    counter = 0
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    async with aiohttp.ClientSession(connector=connector) as session:
        measuring = False
        stop_at = time.monotonic() + warmup + duration

        async def worker() -> None:
            nonlocal counter, errors
            while time.monotonic() < stop_at:
                counter += 1
                started = time.perf_counter()
                status = await request(session, counter)
                elapsed = time.perf_counter() - started
                if measuring:
                    if 200 <= status < 300:
                        latencies.append(elapsed)
                    else:
                        errors += 1

        tasks = [asyncio.create_task(worker()) for _ in range(concurrency)]
        await asyncio.sleep(warmup)
        measuring = True
        started = time.monotonic()
        await asyncio.gather(*tasks)
        seconds = time.monotonic() - started
    return LoadResult(name, len(latencies), errors, seconds, latencies)


def header(title: str) -> None:
    print(f"\n== {title} ==")


def describe_latencies(values: list[float]) -> str:
    return f"median {statistics.median(values) * 1000:.1f} ms" if values else "n/a"
