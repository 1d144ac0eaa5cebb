"""The production shape as OS processes: the sandbox (emulators), api ×2, worker ×2, on their own
PostgreSQL database and their own redis-server, behind a small TCP balancer.

The balancer stands for a deployment's load balancer: it hands each new connection to the next
api replica that accepts it, so a killed replica only cuts the requests it was serving. It runs
on its own thread and event loop, so the load driver's work never delays it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.processes import CHAINFLUENCE, Process, clean_env, free_port, read_env_file

OPERATOR_ID = 7300000000
WEBHOOK_SECRET = "cluster-webhook-secret"

# Deal timings short enough for CI, run through the real jobs on Redis.
TIMINGS = {
    "CHAINFLUENCE_DEALS__TEST_HOLD_SECONDS": "30",
    "CHAINFLUENCE_DEALS__PROBES_PER_HOLD": "2",
    "CHAINFLUENCE_DEALS__PROBE_RETRY_SECONDS": "3",
    "CHAINFLUENCE_DEALS__SWEEP_INTERVAL_SECONDS": "2",
    "CHAINFLUENCE_DEALS__DEPOSIT_WINDOW_HOURS": "1",
    "CHAINFLUENCE_JOBS__SWEEP_INTERVAL_SECONDS": "2",
    "CHAINFLUENCE_JOBS__BACKOFF_SECONDS": "0.5",
    "CHAINFLUENCE_TON__WATCH_INTERVAL_SECONDS": "1",
    "CHAINFLUENCE_TON__WALLET_INTERVAL_SECONDS": "1",
}


class Balancer:
    def __init__(self, backends: list[int]) -> None:
        self.port = free_port()
        self.backends = backends
        self._next = itertools.cycle(range(len(backends)))
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="balancer", daemon=True)
        self._started = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._thread.start()
        self._started.wait(10)

    def close(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def _run(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        self._started.set()
        async with server:
            await self._stop.wait()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        for _ in self.backends:
            port = self.backends[next(self._next)]
            try:
                upstream = await asyncio.open_connection("127.0.0.1", port)
                break
            except OSError:
                continue
        if upstream is None:
            writer.close()
            return
        up_reader, up_writer = upstream

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                with contextlib.suppress(Exception):
                    sink.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


class RedisServer:
    """Our own redis-server on a free port, append-only so a restart keeps the queue."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.directory = directory
        self.popen: subprocess.Popen[bytes] | None = None
        directory.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        log = (self.directory / "redis.log").open("ab")
        self.popen = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--dir", str(self.directory), "--appendonly", "yes", "--save", "",
             "--maxmemory-policy", "noeviction"],
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            ping = subprocess.run(
                ["redis-cli", "-p", str(self.port), "ping"],
                capture_output=True,
            )
            if ping.stdout.strip() == b"PONG":
                return
            time.sleep(0.1)
        raise AssertionError(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        """SIGTERM: Redis finishes its append-only file and exits (a restart, not a crash)."""
        if self.popen is not None and self.popen.poll() is None:
            self.popen.terminate()
            self.popen.wait(timeout=30)


@dataclass
class Shape:
    root: Path
    database_url: str
    redis: RedisServer
    balancer: Balancer
    sandbox: Process
    apis: list[Process]
    workers: list[Process]
    sandbox_env: dict[str, str] = field(default_factory=dict)

    @property
    def api_url(self) -> str:
        return self.balancer.url

    @property
    def sandbox_url(self) -> str:
        return self.sandbox_env["CHAINFLUENCE_SANDBOX__URL"]

    @property
    def ton_api_url(self) -> str:
        return self.sandbox_env["CHAINFLUENCE_TON__API_URL"]

    @property
    def processes(self) -> list[Process]:
        return [self.sandbox, *self.apis, *self.workers]

    def wait_api(self, api: Process, timeout: float = 180) -> None:
        port = api.args[api.args.index("--port") + 1]
        api.wait_http(f"http://127.0.0.1:{port}/healthz", timeout)

    def wait_worker(self, worker: Process, timeout: float = 180) -> None:
        # The worker serves /healthz once it consumes: the jobs and the chain loops are running.
        worker.wait_http(
            f"http://127.0.0.1:{worker.env['CHAINFLUENCE_WORKER__PORT']}/healthz", timeout
        )


@contextlib.contextmanager
def production_shape(root: Path, database_url: str, *, workers: int = 2) -> Iterator[Shape]:
    root.mkdir(parents=True, exist_ok=True)
    redis = RedisServer(root / "redis")
    api_ports = [free_port(), free_port()]
    balancer = Balancer(api_ports)
    common = {
        "CHAINFLUENCE_DATABASE__URL": database_url,
        "CHAINFLUENCE_DATABASE__POOL_SIZE": "6",
        "CHAINFLUENCE_DATABASE__MAX_OVERFLOW": "6",
        "CHAINFLUENCE_RATE_LIMIT__ENABLED": "false",
        "CHAINFLUENCE_AUTH__OPERATORS": f"[{OPERATOR_ID}]",
        "CHAINFLUENCE_UPLOADS__DIR": str(root / "uploads"),
        "CHAINFLUENCE_LOG_LEVEL": "WARNING",
        **TIMINGS,
    }
    env_file = root / "sandbox.env"
    sandbox = Process(
        "sandbox",
        [CHAINFLUENCE, "sandbox", "up", "--port", "0", "--api-url", balancer.url,
         "--env-file", str(env_file)],
        clean_env(common), root, root,
    )  # fmt: skip
    shape = Shape(root, database_url, redis, balancer, sandbox, [], [])
    try:
        migrated = subprocess.run(
            [CHAINFLUENCE, "db", "upgrade"], env=clean_env(common), cwd=root, capture_output=True
        )
        assert migrated.returncode == 0, migrated.stderr.decode()[-3000:]
        redis.start()
        balancer.start()
        sandbox.start()
        sandbox.wait_until(env_file.exists, "writing its settings", timeout=180)
        shape.sandbox_env = read_env_file(env_file)
        service = clean_env(
            {
                **common,
                **shape.sandbox_env,
                "CHAINFLUENCE_REDIS__URL": redis.url,
                "CHAINFLUENCE_TELEGRAM__WEBHOOK_URL": f"{balancer.url}/telegram/webhook",
                "CHAINFLUENCE_TELEGRAM__WEBHOOK_SECRET": WEBHOOK_SECRET,
            }
        )
        for number, port in enumerate(api_ports, 1):
            command = [CHAINFLUENCE, "api", "--port", str(port)]
            shape.apis.append(Process(f"api-{number}", command, service, root, root))
        for number in range(1, workers + 1):
            # Each worker serves /healthz on its own port (the same again after a restart).
            worker_env = {**service, "CHAINFLUENCE_WORKER__PORT": str(free_port())}
            shape.workers.append(
                Process(f"worker-{number}", [CHAINFLUENCE, "worker"], worker_env, root, root)
            )
        for process in [*shape.apis, *shape.workers]:
            process.start()
        for api in shape.apis:
            shape.wait_api(api)
        for worker in shape.workers:
            shape.wait_worker(worker)
        httpx.get(f"{balancer.url}/healthz", timeout=10).raise_for_status()
        yield shape
    finally:
        for process in [*shape.workers, *shape.apis, sandbox]:
            process.stop()
        redis.stop()
        balancer.close()
