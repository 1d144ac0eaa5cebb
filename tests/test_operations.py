"""Operating the production shape, through the command line and HTTP as an operator would:
a refused configuration, the start-up line, a taken port, the worker's health port with
readiness and metrics, one log line per failing cycle and a recovery line, graceful SIGTERM,
and JWT secret rotation."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from chainfluence.app import create_app
from chainfluence.kit.db import create_engine
from chainfluence.migrations import migrate
from tests.conftest import make_settings
from tests.factories import TEST_BOT_TOKEN, login
from tests.processes import CHAINFLUENCE, Process, clean_env, free_port

COMPLETE_PRODUCTION = {
    "CHAINFLUENCE_MODE": "production",
    "CHAINFLUENCE_DATABASE__URL": "postgresql+asyncpg://app:hunter2-db@127.0.0.1:5432/chainfluence",
    "CHAINFLUENCE_REDIS__URL": "redis://:hunter2-redis@127.0.0.1:6379/1",
    "CHAINFLUENCE_AUTH__JWT_SECRET": "a-real-secret-that-is-long-enough-0123456789",
    "CHAINFLUENCE_AUTH__OPERATORS": "[900001]",
    "CHAINFLUENCE_TELEGRAM__BOT_TOKEN": "123:real-token-hunter2",
    "CHAINFLUENCE_TELEGRAM__SERVICE_CHAT_ID": "-1002000000001",
    "CHAINFLUENCE_TON__NETWORK": "testnet",
    "CHAINFLUENCE_TON__API_URL": "https://testnet.toncenter.example/api/v2?api_key=hunter2-ton",
    "CHAINFLUENCE_TON__WALLET_MNEMONIC": " ".join(["word"] * 24),
    "CHAINFLUENCE_TON__FEE_RECIPIENT": "0:" + "ab" * 32,
    "CHAINFLUENCE_EVIDENCE__SIGNING_KEY": "5e" * 32,
}


def _env(tmp_path: Path, **values: str) -> dict[str, str]:
    """The process environment without any CHAINFLUENCE_ setting, plus `values`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHAINFLUENCE_")}
    env.update(values)
    return env


def _cli(
    tmp_path: Path, *args: str, env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "chainfluence.cli", *args],
        cwd=tmp_path,  # no .env from the checkout
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


def test_production_refuses_an_incomplete_config_listing_every_problem(tmp_path: Path) -> None:
    env = _env(
        tmp_path,
        CHAINFLUENCE_MODE="production",
        CHAINFLUENCE_TON__NETWORK="testnet",
        CHAINFLUENCE_TON__FEE_RECIPIENT="-1:" + "ab" * 32,
    )

    result = _cli(tmp_path, "api", env=env)

    assert result.returncode == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    problems = [line for line in result.stderr.splitlines() if line.startswith("  - ")]
    named = " ".join(problems)
    for setting in [
        "DATABASE__URL",
        "REDIS__URL",
        "AUTH__JWT_SECRET",
        "AUTH__OPERATORS",
        "TELEGRAM__BOT_TOKEN",
        "TELEGRAM__SERVICE_CHAT_ID",
        "TON__WALLET_MNEMONIC",
        "TON__API_URL",
        "EVIDENCE__SIGNING_KEY",
    ]:
        assert f"CHAINFLUENCE_{setting}" in named, result.stderr
    assert "FEE_RECIPIENT must be a basechain (workchain 0) address" in named
    assert len(problems) == 10
    assert result.stderr.splitlines()[0].startswith("Chainfluence cannot start")


def test_an_unfilled_env_example_is_refused_with_every_problem_in_one_message(
    tmp_path: Path,
) -> None:
    root = Path(__file__).resolve().parents[1]
    (tmp_path / ".env").write_text((root / ".env.example").read_text())

    result = _cli(tmp_path, "worker", env=_env(tmp_path))

    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    problems = [line for line in result.stderr.splitlines() if line.startswith("  - ")]
    # Values left empty are invalid, and what production refuses besides is listed with them.
    assert "  - CHAINFLUENCE_AUTH__JWT_SECRET: the JWT secret must be at least 32 bytes" in problems
    assert "  - CHAINFLUENCE_TELEGRAM__BOT_TOKEN is not set" in problems
    assert "  - CHAINFLUENCE_TON__FEE_RECIPIENT is not set" in problems
    assert any(p.startswith("  - CHAINFLUENCE_REDIS__URL is not set") for p in problems)
    assert len({p.split(":")[0].split(" ")[3] for p in problems}) == len(problems)  # no repeats


def test_an_invalid_value_is_named_by_its_variable_without_a_traceback(tmp_path: Path) -> None:
    env = _env(tmp_path, CHAINFLUENCE_AUTH__JWT_SECRET="short", CHAINFLUENCE_WORKER__PORT="x")

    result = _cli(tmp_path, "worker", env=env)

    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "  - CHAINFLUENCE_AUTH__JWT_SECRET: the JWT secret must be at least 32 bytes" in (
        result.stderr
    )
    assert "  - CHAINFLUENCE_WORKER__PORT:" in result.stderr


def test_api_prints_its_banner_without_secrets_and_one_sentence_for_a_taken_port(
    tmp_path: Path, taken_port: int
) -> None:
    env = _env(tmp_path, **COMPLETE_PRODUCTION, CHAINFLUENCE_HTTP__PORT=str(taken_port))

    result = _cli(tmp_path, "api", env=env)

    assert result.returncode == 1
    assert "hunter2" not in result.stdout + result.stderr
    (line,) = result.stdout.splitlines()
    assert line.startswith("chainfluence api · mode production · ")
    assert "database postgresql+asyncpg://app:***@127.0.0.1:5432/chainfluence" in line
    assert "jobs BullMQ on redis://:***@127.0.0.1:6379/1" in line
    assert "TON testnet https://testnet.toncenter.example/api/v2?***" in line
    assert [line for line in result.stderr.splitlines() if line] == [
        f"Cannot listen on 127.0.0.1:{taken_port}: another process is already listening there. "
        "Stop it, or choose another port with --port or CHAINFLUENCE_HTTP__PORT."
    ]


# --- the worker as an operator runs it -------------------------------------------------------


class Worker:
    def __init__(self, process: subprocess.Popen[str], log: Path, url: str) -> None:
        self.process = process
        self.log_path = log
        self.url = url

    @property
    def log(self) -> str:
        return self.log_path.read_text()

    async def wait_for_log(self, text: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.log:
            assert self.process.poll() is None, self.log
            assert time.monotonic() < deadline, f"{text!r} not logged:\n{self.log}"
            await asyncio.sleep(0.1)


@pytest.fixture
async def worker(tmp_path: Path, redis_url: str) -> AsyncIterator[Worker]:
    database = f"sqlite+aiosqlite:///{tmp_path / 'worker.sqlite3'}"
    engine = create_engine(database)
    try:
        await migrate.upgrade(engine)
    finally:
        await engine.dispose()
    port, ton_port = free_port(), free_port()
    env = _env(
        tmp_path,
        CHAINFLUENCE_DATABASE__URL=database,
        CHAINFLUENCE_REDIS__URL=redis_url,
        CHAINFLUENCE_JOBS__QUEUE_NAME=f"ops-{uuid.uuid4().hex[:10]}",
        CHAINFLUENCE_TELEGRAM__BOT_TOKEN=TEST_BOT_TOKEN,
        CHAINFLUENCE_WORKER__PORT=str(port),
        CHAINFLUENCE_WORKER__GRACE_SECONDS="10",
        # Nothing listens there until a test starts the chain emulator on it.
        CHAINFLUENCE_TON__API_URL=f"http://127.0.0.1:{ton_port}/api/v2",
        CHAINFLUENCE_TON__WATCH_INTERVAL_SECONDS="0.5",
        CHAINFLUENCE_TON__WALLET_INTERVAL_SECONDS="0.5",
    )
    log = tmp_path / "worker.log"
    with log.open("w") as out:
        process = subprocess.Popen(  # noqa: ASYNC220 - a child process for the test's whole life
            [sys.executable, "-m", "chainfluence.cli", "worker"],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    running = Worker(process, log, f"http://127.0.0.1:{port}")
    running.env = env  # type: ignore[attr-defined]
    running.ton_port = ton_port  # type: ignore[attr-defined]
    try:
        await running.wait_for_log("listening on", timeout=120)  # imports are slow on a busy CI
        yield running
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)


async def test_worker_serves_health_readiness_and_metrics_and_stops_on_sigterm(
    worker: Worker, tmp_path: Path
) -> None:
    async with httpx.AsyncClient(base_url=worker.url, timeout=10) as client:
        health = await client.get("/healthz")
        ready_without_chain = await client.get("/readyz")
        await worker.wait_for_log("chain watcher cycle failed (3 in a row)", timeout=120)
        metrics = (await client.get("/metrics")).text

        # The chain endpoint comes up: the watcher says it recovered, readiness follows.
        ton = subprocess.Popen(  # noqa: ASYNC220
            [sys.executable, "-m", "chainfluence.cli", "sandbox", "ton",
             "--port", str(worker.ton_port)],  # type: ignore[attr-defined]
            cwd=tmp_path,
            env=worker.env,  # type: ignore[attr-defined]
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            await worker.wait_for_log("chain watcher cycle recovered after", timeout=180)
            await asyncio.sleep(5.5)  # the cached TON check expires
            ready_with_chain = await client.get("/readyz")
            metrics_with_chain = (await client.get("/metrics")).text
        finally:
            ton.terminate()
            ton.wait(10)

    worker.process.send_signal(signal.SIGTERM)
    code = worker.process.wait(20)

    assert health.json() == {"status": "ok"}
    assert ready_without_chain.status_code == 503
    assert ready_without_chain.json()["checks"] == {
        "database": "ok",
        "redis": "ok",
        "ton": "unreachable",
    }
    assert ready_with_chain.status_code == 200, ready_with_chain.text
    assert ready_with_chain.json()["checks"]["ton"] == "ok"
    for series in [
        'chainfluence_queue_jobs{state="waiting"}',
        'chainfluence_queue_jobs{state="delayed"}',
        'chainfluence_queue_jobs{state="failed"}',
        'chainfluence_deals{status="pending"} 0.0',
        'chainfluence_deals{status="released"} 0.0',
        'chainfluence_chain_watcher_cycles_total{outcome="failed"}',
        "chainfluence_job_duration_seconds_bucket",
    ]:
        assert series in metrics
    for series in [
        "chainfluence_chain_watcher_leader 1.0",
        "chainfluence_chain_watcher_lag_blocks ",
        "chainfluence_chain_watcher_lag_seconds ",
        'chainfluence_chain_watcher_cycles_total{outcome="ok"}',
    ]:
        assert series in metrics_with_chain
    log = worker.log
    (banner,) = [line for line in log.splitlines() if line.startswith("chainfluence worker")]
    assert banner.startswith("chainfluence worker · mode sandbox · ")
    assert f"listening on {worker.url}" in banner
    failures = [line for line in log.splitlines() if "chain watcher cycle failed" in line]
    assert len(failures) >= 3
    assert "Traceback" not in log  # an unreachable endpoint is one line per cycle
    assert code == 0
    assert "worker stopped" in log


async def test_worker_on_a_taken_health_port_says_so_in_one_sentence(
    tmp_path: Path, redis_url: str, taken_port: int
) -> None:
    env = _env(
        tmp_path,
        CHAINFLUENCE_DATABASE__URL=f"sqlite+aiosqlite:///{tmp_path / 'w.sqlite3'}",
        CHAINFLUENCE_REDIS__URL=redis_url,
        CHAINFLUENCE_WORKER__PORT=str(taken_port),
    )

    result = _cli(tmp_path, "worker", env=env)

    assert result.returncode == 1
    assert [line for line in result.stderr.splitlines() if line] == [
        f"Cannot listen on 127.0.0.1:{taken_port}: another process is already listening there. "
        "Stop it, or choose another port with CHAINFLUENCE_WORKER__PORT."
    ]


def test_the_api_with_redis_leaves_the_chain_watcher_to_the_workers(
    tmp_path: Path, redis_url: str
) -> None:
    port = free_port()
    api = Process(
        "api",
        [CHAINFLUENCE, "api", "--port", str(port)],
        clean_env(
            {
                "CHAINFLUENCE_DATABASE__URL": f"sqlite+aiosqlite:///{tmp_path / 'api.sqlite3'}",
                "CHAINFLUENCE_REDIS__URL": redis_url,
                "CHAINFLUENCE_JOBS__QUEUE_NAME": f"ops-{uuid.uuid4().hex[:10]}",
                "CHAINFLUENCE_TELEGRAM__BOT_TOKEN": TEST_BOT_TOKEN,
                # Unreachable, and watched every 0.2 s if anything in this process watched it.
                "CHAINFLUENCE_TON__API_URL": f"http://127.0.0.1:{free_port()}/api/v2",
                "CHAINFLUENCE_TON__WATCH_INTERVAL_SECONDS": "0.2",
                "CHAINFLUENCE_TON__WALLET_INTERVAL_SECONDS": "0.2",
            }
        ),
        tmp_path,
        tmp_path,
    )
    api.start()
    try:
        api.wait_http(f"http://127.0.0.1:{port}/healthz")
        time.sleep(3)
        ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=10)
    finally:
        api.stop()
    log = api.log_path.read_text()

    assert ready.json()["checks"]["ton"] == "unreachable"  # configured, and down
    assert "chain watcher" not in log
    assert "platform wallet" not in log
    assert "Traceback" not in log


def _unmatched_count(metrics: str) -> int:
    """This process's count of GET answers to routes that do not exist (404), from /metrics."""
    prefix = 'chainfluence_http_requests_total{method="GET",route="unmatched",status="404"} '
    for line in metrics.splitlines():
        if line.startswith(prefix):
            return int(float(line.removeprefix(prefix)))
    return 0


async def test_api_with_two_workers_serves_from_both_and_neither_runs_the_chain_loops(
    tmp_path: Path, redis_url: str
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    api = Process(
        "api",
        [CHAINFLUENCE, "api", "--port", str(port), "--workers", "2"],
        clean_env(
            {
                "CHAINFLUENCE_DATABASE__URL": f"sqlite+aiosqlite:///{tmp_path / 'api.sqlite3'}",
                "CHAINFLUENCE_REDIS__URL": redis_url,
                "CHAINFLUENCE_JOBS__QUEUE_NAME": f"ops-{uuid.uuid4().hex[:10]}",
                "CHAINFLUENCE_TELEGRAM__BOT_TOKEN": TEST_BOT_TOKEN,
                "CHAINFLUENCE_TON__API_URL": f"http://127.0.0.1:{free_port()}/api/v2",
                "CHAINFLUENCE_TON__WATCH_INTERVAL_SECONDS": "0.2",
                "CHAINFLUENCE_TON__WALLET_INTERVAL_SECONDS": "0.2",
            }
        ),
        tmp_path,
        tmp_path,
    )
    api.start()
    sent = 60
    seen: set[int] = set()
    try:
        api.wait_http(f"{base}/healthz")
        # Each worker process keeps its own metrics: after `sent` requests to a missing route,
        # /metrics reports the share the answering process served. Two different shares adding
        # up to `sent` are two processes serving one port.
        fresh = httpx.Limits(max_keepalive_connections=0)
        async with httpx.AsyncClient(base_url=base, limits=fresh, timeout=30) as client:
            for _ in range(sent):
                assert (await client.get("/no-such-route")).status_code == 404
            for _ in range(20):
                answers = await asyncio.gather(*(client.get("/metrics") for _ in range(8)))
                seen |= {_unmatched_count(answer.text) for answer in answers}
                if len(seen) > 1:
                    break
                await asyncio.sleep(0.5)  # let the busy one fall behind the idle one
        await asyncio.sleep(2)  # chain loops, if any ran here, would have logged by now
    finally:
        api.stop()
    log = api.log_path.read_text()

    assert len(seen) == 2, (seen, api.log_tail())
    assert sum(seen) == sent, seen
    assert log.count("Started server process") == 2, log
    assert "chain watcher" not in log
    assert "platform wallet" not in log
    assert "Traceback" not in log


# --- the API's readiness and JWT rotation ------------------------------------------------------


async def test_api_readiness_covers_the_ton_endpoint_and_caches_its_answer(
    db: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    settings = make_settings(
        database_url, tmp_path, ton={"api_url": f"http://127.0.0.1:{free_port()}/api/v2"}
    )
    app = create_app(settings, consume_jobs=False)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        first = await client.get("/readyz")
        calls = app.state.runtime.chain.client.calls
        second = await client.get("/readyz")

        assert first.status_code == second.status_code == 503
        assert first.json()["checks"] == {"database": "ok", "ton": "unreachable"}
        assert app.state.runtime.chain.client.calls == calls  # answered from the cache


async def test_tokens_signed_with_a_previous_jwt_secret_are_accepted_after_rotation(
    db: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    old, new = "old-secret-" + "o" * 40, "new-secret-" + "n" * 40

    async def me(secret: str, previous: list[str], token: dict[str, str] | None) -> httpx.Response:
        settings = make_settings(
            database_url,
            tmp_path,
            auth={"jwt_secret": secret, "jwt_previous_secrets": previous},
        )
        app = create_app(settings, consume_jobs=False)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://t"
            ) as client,
        ):
            headers = token if token is not None else await login(client, 1001)
            response = await client.get("/v1/users/me", headers=headers)
            response.headers["x-test-token"] = headers["Authorization"]
            return response

    issued_before = await me(old, [], None)
    token = {"Authorization": issued_before.headers["x-test-token"]}
    during_rotation = await me(new, [old], token)
    after_rotation = await me(new, [], token)

    assert issued_before.status_code == 200
    assert during_rotation.status_code == 200
    assert during_rotation.json()["id"] == issued_before.json()["id"]
    assert after_rotation.status_code == 401
