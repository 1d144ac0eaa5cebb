"""Run `chainfluence` commands as OS processes, as an operator would (tests of the process shape).

Each process's output goes to a log file under the test's directory (printed when a start fails);
its environment is this one's with the CHAINFLUENCE_ settings removed, then the given ones, so
nothing from the machine or another test leaks in.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

CHAINFLUENCE = str(Path(sys.executable).with_name("chainfluence"))


# Every port handed out by free_port(), held for the life of this process.
_RESERVED: list[socket.socket] = []


def free_port() -> int:
    """A loopback port no other process can take while this one lives, for a server to come.

    The port stays bound here with SO_REUSEADDR and never listens: a connection to it is refused
    (an endpoint that is down) until the server it is meant for listens on it, which it may, as
    every server the tests start binds with SO_REUSEADDR too (uvicorn, asyncio's start_server,
    kit.serving, redis-server). A port merely found free and released could be taken before the
    server binds it (slow start-ups, a kill and a restart, a port kept for an endpoint started
    later), by another process's bind to port 0 or as the local port of an outgoing connection:
    with the suite's workers and the cluster test starting servers side by side, nothing else
    keeps it from happening.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    _RESERVED.append(sock)
    port: int = sock.getsockname()[1]
    return port


def clean_env(settings: dict[str, str]) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("CHAINFLUENCE_")}
    env.update(settings)
    return env


def read_env_file(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {key: value for key, value in pairs}


class Process:
    """One long-running command; `start()` again after `kill()` restarts it the same way."""

    def __init__(
        self, name: str, args: list[str], env: dict[str, str], log_dir: Path, cwd: Path
    ) -> None:
        self.name, self.args, self.env = name, args, env
        self.log_path = log_dir / f"{name}.log"
        self.cwd = cwd
        self.popen: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        with self.log_path.open("ab") as log:
            log.write(f"\n--- start #{self.starts}: {' '.join(self.args)}\n".encode())
            self.popen = subprocess.Popen(
                self.args, env=self.env, cwd=self.cwd, stdout=log, stderr=subprocess.STDOUT
            )

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs (a crash, an OOM kill)."""
        if self.popen is not None and self.running:
            self.popen.send_signal(signal.SIGKILL)
            self.popen.wait(timeout=30)

    def stop(self, timeout: float = 20) -> None:
        if self.popen is None or not self.running:
            return
        self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def wait_until(self, ready: Callable[[], bool], what: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running:
                raise AssertionError(f"{self.name} exited while {what}:\n{self.log_tail()}")
            if ready():
                return
            time.sleep(0.2)
        raise AssertionError(f"{self.name} not {what} in {timeout} s:\n{self.log_tail()}")

    def wait_http(self, url: str, timeout: float = 120) -> None:
        def answers() -> bool:
            try:
                return httpx.get(url, timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        self.wait_until(answers, f"answering {url}", timeout)
