"""Reading a Server-Sent Events stream in tests, as a browser's EventSource parses it."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class Event:
    id: int
    type: str
    data: dict[str, Any]


@dataclass
class Stream:
    response: httpx.Response
    lines: AsyncIterator[str]
    comments: list[str] = field(default_factory=list)

    async def ready(self, timeout: float = 10) -> None:
        """Wait for the stream's preamble (`retry:`): from then on it is subscribed."""
        async with asyncio.timeout(timeout):
            async for line in self.lines:
                if line.startswith("retry:"):
                    return
        raise AssertionError("the stream ended before its preamble")

    async def next(self, timeout: float = 20) -> Event:
        fields: dict[str, str] = {}
        async with asyncio.timeout(timeout):
            async for line in self.lines:
                if line.startswith(":"):
                    self.comments.append(line)
                elif not line:
                    if "data" in fields:
                        return Event(int(fields["id"]), fields["event"], json.loads(fields["data"]))
                    fields = {}
                else:
                    name, _, value = line.partition(":")
                    fields[name] = value.removeprefix(" ")
        raise AssertionError("the stream ended")

    async def heartbeat(self, timeout: float) -> None:
        """Until a comment line (a heartbeat) has come since the last event; an event is an
        error. (Awaiting it, rather than looking after a fixed pause, cannot fail because a busy
        machine ran the pause's end before the heartbeat already written was read.)"""
        seen = len(self.comments)
        async with asyncio.timeout(timeout):
            async for line in self.lines:
                if line.startswith(":"):
                    self.comments.append(line)
                    if len(self.comments) > seen:
                        return
                elif line:
                    raise AssertionError(f"an event came instead of a heartbeat: {line}")
        raise AssertionError("the stream ended")

    async def take(self, count: int, timeout: float = 20) -> list[Event]:
        return [await self.next(timeout) for _ in range(count)]

    async def nothing_for(self, seconds: float) -> None:
        """No event arrives within `seconds` (heartbeats may)."""
        with contextlib.suppress(TimeoutError):
            event = await self.next(seconds)
            raise AssertionError(f"unexpected event {event}")


@contextlib.asynccontextmanager
async def open_stream(
    client: httpx.AsyncClient, *, params: dict[str, Any] | None = None, headers: Any = None
) -> AsyncIterator[Stream]:
    async with client.stream("GET", "/v1/events", params=params, headers=headers) as response:
        assert response.status_code == 200, (await response.aread()).decode()
        assert response.headers["content-type"].startswith("text/event-stream")
        stream = Stream(response, response.aiter_lines())
        await stream.ready()
        yield stream
