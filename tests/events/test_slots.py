"""The per-user bound on event streams across replicas, on a real Redis: two `ConnectionSlots`
with their own connections stand for two `api` replicas taking slots at the same time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from chainfluence.events.broker import ConnectionSlots

LIMIT = 5
USER = 424_242
OTHER = 424_243
KEY = f"chainfluence:events:streams:{USER}"


@pytest.fixture
async def replicas(redis_url: str) -> AsyncIterator[tuple[ConnectionSlots, ConnectionSlots, Redis]]:
    clients = [Redis.from_url(redis_url) for _ in range(3)]
    admin = clients[2]
    await admin.delete(KEY, f"chainfluence:events:streams:{OTHER}")
    one, two = (ConnectionSlots(c, limit=LIMIT, stale_seconds=60) for c in clients[:2])
    try:
        yield one, two, admin
    finally:
        await admin.delete(KEY, f"chainfluence:events:streams:{OTHER}")
        for client in clients:
            await client.aclose()


async def _race(one: ConnectionSlots, two: ConnectionSlots, user: int, count: int) -> list[str]:
    """`count` streams asking at once, half on each replica; the tokens given."""
    asked = [(one if i % 2 else two).acquire(user) for i in range(count)]
    return [token for token in await asyncio.gather(*asked) if token is not None]


async def test_replicas_asking_at_once_get_exactly_the_free_places(
    replicas: tuple[ConnectionSlots, ConnectionSlots, Redis],
) -> None:
    one, two, admin = replicas

    given = await _race(one, two, USER, 40)
    assert len(given) == LIMIT
    # Refused streams hold nothing: the set is exactly the streams given a place.
    assert sorted(m.decode() for m in await admin.zrange(KEY, 0, -1)) == sorted(given)
    assert 0 < await admin.ttl(KEY) <= 61
    # Another user's streams are counted apart.
    assert len(await _race(one, two, OTHER, 8)) == LIMIT

    # Two streams close (one on each replica): exactly two of many new ones get in.
    await one.release(USER, given[0])
    await two.release(USER, given[1])
    again = await _race(one, two, USER, 20)
    assert len(again) == 2
    assert await admin.zcard(KEY) == LIMIT


async def test_a_stream_left_by_a_killed_replica_stops_counting_once_stale(
    replicas: tuple[ConnectionSlots, ConnectionSlots, Redis],
) -> None:
    one, two, admin = replicas
    given = await _race(one, two, USER, LIMIT)
    assert len(given) == LIMIT
    assert await one.acquire(USER) is None
    # The replica holding given[0] died: its member was last refreshed 2 minutes ago.
    await admin.zadd(KEY, {given[0]: time.time() - 120})
    # A live stream's heartbeat keeps its place fresh.
    await two.refresh(USER, given[1])

    taken = await two.acquire(USER)
    assert taken is not None
    members = {m.decode() for m in await admin.zrange(KEY, 0, -1)}
    assert members == {taken, *given[1:]}
    assert await one.acquire(USER) is None


class _SlowRemovals(Redis):
    """A replica whose removals from Redis are held up (a slow link) until `gate` opens."""

    gate: asyncio.Event
    entered: asyncio.Event

    async def zrem(self, name: str, *values: str) -> int:  # type: ignore[override]
        self.entered.set()
        await self.gate.wait()
        return int(await super().zrem(name, *values))


async def test_a_refused_stream_never_holds_a_place_even_on_a_slow_replica(
    replicas: tuple[ConnectionSlots, ConnectionSlots, Redis], redis_url: str
) -> None:
    _, two, admin = replicas
    slow_client = _SlowRemovals.from_url(redis_url)
    slow_client.gate, slow_client.entered = asyncio.Event(), asyncio.Event()
    slow = ConnectionSlots(slow_client, limit=LIMIT, stale_seconds=60)
    removing = asyncio.create_task(slow_client.entered.wait())
    try:
        given = await _race(two, two, USER, LIMIT)
        refused = asyncio.create_task(slow.acquire(USER))
        # The slow replica's stream is refused, or is stuck taking back a place it was given.
        await asyncio.wait({refused, removing}, return_when=asyncio.FIRST_COMPLETED)
        await two.release(USER, given[0])

        taken = await two.acquire(USER)

        slow_client.gate.set()
        assert await refused is None
        assert taken is not None, "a free place was refused while a refused stream held it"
        assert await admin.zcard(KEY) == LIMIT
    finally:
        removing.cancel()
        slow_client.gate.set()
        await slow_client.aclose()
