"""Run an ASGI application on a loopback port inside the current event loop.

Used for the sandbox emulators under `chainfluence serve` and by tests that must speak real HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Iterator
from typing import Any

import uvicorn

H11_MAX_HEADER_BYTES = 4 * 1024 * 1024


class _EmbeddedServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling to the process embedding it."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def serve_in_background(
    app: Any, *, host: str = "127.0.0.1", port: int = 0, log_level: str = "warning"
) -> AsyncIterator[str]:
    """Serve `app` until the block exits; yields its base URL (`http://127.0.0.1:<port>`).

    With `port=0` a free port is chosen by binding the socket ourselves, so the URL is known
    before the server accepts connections and two servers never race for a port.
    """
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets whose protocol says TCP,
    # and without it every keep-alive request waits ~40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    bound_port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        log_level=log_level,
        lifespan="on",
        access_log=False,
        loop="none",
        http="h11",
        # Oversized headers reach the app, whose answer (431 with the error body) says what is
        # wrong; h11 would otherwise drop such a connection without an answer.
        h11_max_incomplete_event_size=H11_MAX_HEADER_BYTES,
        # Longer than the HTTP clients' own idle keep-alive (aiohttp's 15 s, httpx's 5 s), so a
        # client never reuses a connection at the moment the server closes it (a request lost as
        # "server disconnected", seen by the bot as Telegram not answering).
        timeout_keep_alive=75,
    )
    server = _EmbeddedServer(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()  # re-raise start-up failure
                raise RuntimeError("server stopped during start-up")
            await asyncio.sleep(0.01)
        yield f"http://{host}:{bound_port}"
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=10)
        sock.close()
