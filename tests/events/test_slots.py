"""The per-user bound on event streams across replicas, on a real Redis: two `ConnectionSlots`
with their own connections stand for two `api` replicas taking slots at the same time."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from redis.asyncio import Redis

from chainfluence.events.broker import ConnectionSlots

LIMIT = 5


def _key(user: int) -> str:
    return f"chainfluence:events:streams:{user}"


@dataclass
class Replicas:
    one: ConnectionSlots
    two: ConnectionSlots
    admin: Redis
    # Users of this test alone: the suite's xdist workers share the Redis database, and a user
    # id fixed in the module had two of these tests, on two workers, count each other's streams.
    user: int
    other: int

    @property
    def key(self) -> str:
        return _key(self.user)


@pytest.fixture
async def replicas(redis_url: str) -> AsyncIterator[Replicas]:
    clients = [Redis.from_url(redis_url) for _ in range(3)]
    admin = clients[2]
    user = uuid.uuid4().int % 10**15
    keys = (_key(user), _key(user + 1))
    one, two = (ConnectionSlots(c, limit=LIMIT, stale_seconds=60) for c in clients[:2])
    try:
        yield Replicas(one, two, admin, user, user + 1)
    finally:
        await admin.delete(*keys)
        for client in clients:
            await client.aclose()


async def _race(one: ConnectionSlots, two: ConnectionSlots, user: int, count: int) -> list[str]:
    """`count` streams asking at once, half on each replica; the tokens given."""
    asked = [(one if i % 2 else two).acquire(user) for i in range(count)]
    return [token for token in await asyncio.gather(*asked) if token is not None]


async def test_replicas_asking_at_once_get_exactly_the_free_places(replicas: Replicas) -> None:
    one, two, admin = replicas.one, replicas.two, replicas.admin
    user, other, key = replicas.user, replicas.other, replicas.key

    given = await _race(one, two, user, 40)
    assert len(given) == LIMIT
    # Refused streams hold nothing: the set is exactly the streams given a place.
    assert sorted(m.decode() for m in await admin.zrange(key, 0, -1)) == sorted(given)
    assert 0 < await admin.ttl(key) <= 61
    # Another user's streams are counted apart.
    assert len(await _race(one, two, other, 8)) == LIMIT

    # Two streams close (one on each replica): exactly two of many new ones get in.
    await one.release(user, given[0])
    await two.release(user, given[1])
    again = await _race(one, two, user, 20)
    assert len(again) == 2
    assert await admin.zcard(key) == LIMIT


async def test_a_stream_left_by_a_killed_replica_stops_counting_once_stale(
    replicas: Replicas,
) -> None:
    one, two, admin = replicas.one, replicas.two, replicas.admin
    user, key = replicas.user, replicas.key
    given = await _race(one, two, user, LIMIT)
    assert len(given) == LIMIT
    assert await one.acquire(user) is None
    # The replica holding given[0] died: its member was last refreshed 2 minutes ago.
    await admin.zadd(key, {given[0]: time.time() - 120})
    # A live stream's heartbeat keeps its place fresh.
    await two.refresh(user, given[1])

    taken = await two.acquire(user)
    assert taken is not None
    members = {m.decode() for m in await admin.zrange(key, 0, -1)}
    assert members == {taken, *given[1:]}
    assert await one.acquire(user) is None


class _SlowRemovals(Redis):
    """A replica whose removals from Redis are held up (a slow link) until `gate` opens."""

    gate: asyncio.Event
    entered: asyncio.Event

    async def zrem(self, name: str, *values: str) -> int:  # type: ignore[override]
        self.entered.set()
        await self.gate.wait()
        return int(await super().zrem(name, *values))


async def test_a_refused_stream_never_holds_a_place_even_on_a_slow_replica(
    replicas: Replicas, redis_url: str
) -> None:
    two, admin = replicas.two, replicas.admin
    user, key = replicas.user, replicas.key
    slow_client = _SlowRemovals.from_url(redis_url)
    slow_client.gate, slow_client.entered = asyncio.Event(), asyncio.Event()
    slow = ConnectionSlots(slow_client, limit=LIMIT, stale_seconds=60)
    removing = asyncio.create_task(slow_client.entered.wait())
    try:
        given = await _race(two, two, user, LIMIT)
        refused = asyncio.create_task(slow.acquire(user))
        # The slow replica's stream is refused, or is stuck taking back a place it was given.
        await asyncio.wait({refused, removing}, return_when=asyncio.FIRST_COMPLETED)
        await two.release(user, given[0])

        taken = await two.acquire(user)

        slow_client.gate.set()
        assert await refused is None
        assert taken is not None, "a free place was refused while a refused stream held it"
        assert await admin.zcard(key) == LIMIT
    finally:
        removing.cancel()
        slow_client.gate.set()
        await slow_client.aclose()
