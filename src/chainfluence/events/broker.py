"""Who is waiting for whose events, and how a change reaches them on any replica.

Each stream waits on an `asyncio.Event` of this process. Without Redis (the sandbox, one
process) announcing a user sets their events directly. With Redis every process subscribes to
one pub/sub channel and announcing publishes there, so a change committed by a worker or another
`api` replica wakes the streams of this one. A message carries only user ids: the stream then
reads what is new from the database, the one source of truth, the same way a replay does.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import Iterator

from redis.asyncio import Redis

log = logging.getLogger(__name__)

CHANNEL = "chainfluence:events"
_RECONNECT_SECONDS = 1.0


class EventBroker:
    def __init__(self, redis: Redis | None, *, channel: str = CHANNEL) -> None:
        self._redis = redis
        self._channel = channel
        self._waiting: dict[int, set[asyncio.Event]] = {}
        self._listener: asyncio.Task[None] | None = None
        self._listening = asyncio.Event() if redis is None else None

    async def announce(self, user_ids: set[int]) -> None:
        """Tell every process's streams of these users that they have something new."""
        if self._redis is None:
            self._wake(user_ids)
            return
        await self._redis.publish(self._channel, json.dumps(sorted(user_ids)))

    @contextlib.contextmanager
    def waiting(self, user_id: int) -> Iterator[asyncio.Event]:
        """An event set whenever `user_id` has something new (clear it before reading)."""
        self._ensure_listener()
        woken = asyncio.Event()
        self._waiting.setdefault(user_id, set()).add(woken)
        try:
            yield woken
        finally:
            waiters = self._waiting.get(user_id)
            if waiters is not None:
                waiters.discard(woken)
                if not waiters:
                    del self._waiting[user_id]

    async def ready(self, timeout: float = 10.0) -> None:
        """Wait until this process receives announcements (its Redis subscription is up)."""
        self._ensure_listener()
        if self._listening is not None:
            await asyncio.wait_for(self._listening.wait(), timeout)

    def _wake(self, user_ids: set[int]) -> None:
        for user_id in user_ids:
            for woken in self._waiting.get(user_id, ()):
                woken.set()

    def _wake_all(self) -> None:
        for waiters in self._waiting.values():
            for woken in waiters:
                woken.set()

    def _ensure_listener(self) -> None:
        if self._redis is None or self._listener is not None:
            return
        self._listening = asyncio.Event()
        self._listener = asyncio.create_task(self._listen(self._redis), name="events-listener")

    async def _listen(self, redis: Redis) -> None:
        while True:
            try:
                async with redis.pubsub() as pubsub:
                    await pubsub.subscribe(self._channel)
                    assert self._listening is not None
                    self._listening.set()
                    # Whatever was announced while we were not subscribed is in the database.
                    self._wake_all()
                    async for message in pubsub.listen():
                        if message.get("type") == "message":
                            self._wake({int(u) for u in json.loads(message["data"])})
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("events: Redis subscription lost; resubscribing", exc_info=True)
                if self._listening is not None:
                    self._listening.clear()
                await asyncio.sleep(_RECONNECT_SECONDS)

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None
        self._wake_all()


# Takes a slot in one step on the Redis server: drop members not refreshed for `stale` seconds
# (a replica killed mid-stream), then add this stream only if fewer than `limit` remain.
# KEYS[1] the user's set; ARGV: now, stale before, limit, token, key TTL (seconds).
_ACQUIRE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
    return 0
end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
"""


class ConnectionSlots:
    """At most `limit` open streams per user, across every replica when there is Redis.

    With Redis each stream holds a member of a sorted set scored by when it last proved alive
    (each heartbeat); members older than `stale_seconds` (a replica killed mid-stream) no longer
    count. Taking a slot is one Lua script, atomic on the server: however many replicas ask at
    once, exactly the free places are given and a refused stream never holds one, even briefly.
    Without Redis, a count in this process.
    """

    def __init__(self, redis: Redis | None, *, limit: int, stale_seconds: float) -> None:
        self._redis = redis
        self.limit = limit
        self._stale = stale_seconds
        self._local: dict[int, set[str]] = {}
        self._acquire = redis.register_script(_ACQUIRE) if redis is not None else None

    def _key(self, user_id: int) -> str:
        return f"{CHANNEL}:streams:{user_id}"

    async def acquire(self, user_id: int) -> str | None:
        """A slot's token, or None when the user already has `limit` streams open."""
        token = uuid.uuid4().hex
        if self._acquire is None:
            held = self._local.setdefault(user_id, set())
            if len(held) >= self.limit:
                return None
            held.add(token)
            return token
        now = time.time()
        taken = await self._acquire(
            keys=[self._key(user_id)],
            args=[repr(now), repr(now - self._stale), self.limit, token, int(self._stale) + 1],
        )
        return token if int(taken) == 1 else None

    async def refresh(self, user_id: int, token: str) -> None:
        if self._redis is not None:
            key = self._key(user_id)
            await self._redis.zadd(key, {token: time.time()}, xx=True)
            await self._redis.expire(key, int(self._stale) + 1)

    async def release(self, user_id: int, token: str) -> None:
        if self._redis is None:
            held = self._local.get(user_id, set())
            held.discard(token)
            if not held:
                self._local.pop(user_id, None)
            return
        await self._redis.zrem(self._key(user_id), token)
