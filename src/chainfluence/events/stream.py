"""One Server-Sent Events stream: replay from the outbox, then wait for announcements.

Frames: `id: <user_events.id>`, `event: notification | deal | offer`, `data: <JSON>`; a comment
line (`: heartbeat`) every `heartbeat_seconds`. What is sent is always read from the database,
after an announcement, a heartbeat's periodic look (`poll_seconds`) or a replay, so all three
send the same thing.

Ids are given out when rows are inserted but become visible when their transaction commits,
which may be out of order: each read therefore looks again at the last `SETTLE_SECONDS` worth
of ids and sends any it has not sent yet.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Protocol

from chainfluence.events import repository
from chainfluence.events.broker import ConnectionSlots, EventBroker
from chainfluence.models import UserEvent
from chainfluence.ports import Configured, Sessions


class StreamPorts(Sessions, Configured, Protocol):
    """What a stream needs of the process: who waits for what, and the open streams per user."""

    @property
    def events(self) -> EventBroker: ...

    @property
    def event_streams(self) -> ConnectionSlots: ...


PAGE = 100
SETTLE_SECONDS = 10.0
RETRY_MILLISECONDS = 3000


def frame(event: UserEvent) -> bytes:
    data = json.dumps(event.data, separators=(",", ":"), ensure_ascii=False)
    return f"id: {event.id}\nevent: {event.type}\ndata: {data}\n\n".encode()


class _Cursor:
    """What this stream has sent: everything up to `floor`, and the recent ids above it."""

    def __init__(self, floor: int) -> None:
        self.floor = floor
        self._recent: dict[int, float] = {}

    def is_new(self, event_id: int) -> bool:
        return event_id > self.floor and event_id not in self._recent

    def sent(self, event_id: int) -> None:
        self._recent[event_id] = time.monotonic()

    def settle(self) -> None:
        """Raise the floor past ids sent long enough ago that no earlier one can still appear."""
        cutoff = time.monotonic() - SETTLE_SECONDS
        settled = [i for i, at in self._recent.items() if at <= cutoff]
        if settled:
            self.floor = max(self.floor, max(settled))
            self._recent = {i: at for i, at in self._recent.items() if i > self.floor}


async def events(
    runtime: StreamPorts, user_id: int, *, last_event_id: int | None, slot: str
) -> AsyncIterator[bytes]:
    settings = runtime.settings.events
    try:
        with runtime.events.waiting(user_id) as woken:
            if last_event_id is None:
                async with runtime.session(write=False, autocommit=True) as session:
                    last_event_id = await repository.newest_id(session, user_id)
            cursor = _Cursor(last_event_id)
            yield f"retry: {RETRY_MILLISECONDS}\n\n".encode()
            polled = time.monotonic()
            while True:
                woken.clear()
                start = cursor.floor
                while True:
                    async with runtime.session(write=False, autocommit=True) as session:
                        rows = await repository.after(session, user_id, start, limit=PAGE)
                    for row in rows:
                        if cursor.is_new(row.id):
                            cursor.sent(row.id)
                            yield frame(row)
                    if len(rows) < PAGE:
                        break
                    start = rows[-1].id
                polled = time.monotonic()
                cursor.settle()
                while True:
                    wait = min(settings.heartbeat_seconds, settings.poll_seconds)
                    try:
                        await asyncio.wait_for(woken.wait(), wait)
                        break
                    except TimeoutError:
                        yield b": heartbeat\n\n"
                        await runtime.event_streams.refresh(user_id, slot)
                        if time.monotonic() - polled >= settings.poll_seconds:
                            break
    finally:
        await runtime.event_streams.release(user_id, slot)
