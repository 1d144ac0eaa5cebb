"""Rate limits with `limits`: in memory without Redis, shared through Redis with it."""

from __future__ import annotations

import asyncio
import math
import random
import time

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

from chainfluence.kit.errors import TooManyRequests


class RateLimiter:
    """Named limits checked per identifier (an IP address, a user id)."""

    def __init__(self, *, redis_url: str | None, key_prefix: str = "chainfluence:rl") -> None:
        self._storage: Storage
        if redis_url:
            uri = "async+" + redis_url if not redis_url.startswith("async+") else redis_url
            self._storage = RedisStorage(uri, implementation="redispy", key_prefix=key_prefix)
        else:
            self._storage = MemoryStorage()
        self._strategy = MovingWindowRateLimiter(self._storage)
        self._items: dict[str, RateLimitItem] = {}

    def _item(self, spec: str) -> RateLimitItem:
        item = self._items.get(spec)
        if item is None:
            item = self._items[spec] = parse(spec)
        return item

    async def hit(self, spec: str, *identifiers: str) -> None:
        """Count one request against `spec` (e.g. "60/minute"); `TooManyRequests` past it."""
        item = self._item(spec)
        if await self._strategy.hit(item, *identifiers):
            return
        stats = await self._strategy.get_window_stats(item, *identifiers)
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        raise TooManyRequests(
            f"Too many requests; try again in {retry_after} seconds.", retry_after=retry_after
        )

    async def wait(
        self, spec: str, *identifiers: str, max_wait: float, margin: float = 0.0
    ) -> float:
        """Take one slot of `spec`, sleeping until one frees up; returns the seconds waited.

        For outgoing calls with a provider's limits (Telegram's sends): shared through Redis,
        so every process queues behind the same windows. Past `max_wait`: `TooManyRequests`.
        `margin` is added to each wait, for a provider that counts from when calls *arrive*.
        """
        item = self._item(spec)
        waited = 0.0
        while not await self._strategy.hit(item, *identifiers):
            stats = await self._strategy.get_window_stats(item, *identifiers)
            # A little jitter so waiters that woke together do not collide again.
            pause = max(0.01, stats.reset_time - time.time()) + margin + random.uniform(0, 0.02)
            if waited + pause > max_wait:
                raise TooManyRequests(
                    f"Rate limit {spec} still saturated after {waited:.1f} seconds.",
                    retry_after=math.ceil(pause),
                )
            await asyncio.sleep(pause)
            waited += pause
        return waited

    async def check_storage(self) -> bool:
        return await self._storage.check()

    async def reset(self) -> None:
        await self._storage.reset()
