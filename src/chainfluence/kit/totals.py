"""List totals kept between writes: exact counts a list does not recount on every page.

A total is stored with the version of its scope (e.g. "catalogue") read before it was counted.
Every commit that changed a table the scope counts bumps the version after the commit (the
domain's flush hook registers the bump as an after-commit callback, awaited before the response
is sent), so a stored total is used only while nothing it counts has changed since:

- a writer's own next request sees its change: the bump ran before its response went out;
- a total counted while a write committed is stored under the version read before counting,
  which that write's bump makes stale;
- another process's commit becomes visible a moment before its bump; a total read in that
  window is the one from just before the commit, the same as a reader a moment earlier got.
- Writes that bypass the sessions (bulk SQL by hand) bump nothing: entries expire after `ttl`
  seconds, bounding how long such a total can be off.

With Redis (`CHAINFLUENCE_REDIS__URL`) the versions and totals are shared by every process.
Without it everything runs in one process (the API refuses `--workers` then), and they live in
its memory.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from redis.asyncio import Redis

TOTALS_INFO_KEY = "chainfluence.totals"
DEFAULT_TTL = 300.0


class Totals:
    """Versioned totals per scope. `namespace` keeps databases sharing a Redis apart."""

    def __init__(self, *, redis: Redis | None, namespace: str, ttl: float = DEFAULT_TTL) -> None:
        self._redis = redis
        self._prefix = f"chainfluence:totals:{namespace}"
        self._ttl = ttl
        self._versions: dict[str, int] = {}
        self._entries: dict[tuple[str, str], tuple[int, int, float]] = {}

    async def get(self, scope: str, key: str) -> tuple[int, int | None]:
        """The scope's version now, and the total stored for `key` if it is of that version."""
        if self._redis is None:
            version = self._versions.get(scope, 0)
            entry = self._entries.get((scope, key))
            if entry is None or entry[0] != version or entry[2] < time.monotonic():
                return version, None
            return version, entry[1]
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.get(f"{self._prefix}:{scope}:version")
            pipe.get(f"{self._prefix}:{scope}:{key}")
            raw_version, raw_entry = await pipe.execute()
        version = int(raw_version or 0)
        if raw_entry is None:
            return version, None
        stored_version, _, total = raw_entry.partition(b":")
        return version, int(total) if int(stored_version) == version else None

    async def put(self, scope: str, key: str, version: int, total: int) -> None:
        """Store `total`, counted after `version` was read."""
        if self._redis is None:
            self._entries[(scope, key)] = (version, total, time.monotonic() + self._ttl)
            if len(self._entries) > 10_000:
                self._drop_expired()
            return
        await self._redis.set(
            f"{self._prefix}:{scope}:{key}", f"{version}:{total}", ex=max(1, int(self._ttl))
        )

    async def bump(self, scope: str) -> None:
        """Something the scope counts changed (call after the commit)."""
        if self._redis is None:
            self._versions[scope] = self._versions.get(scope, 0) + 1
            return
        await self._redis.incr(f"{self._prefix}:{scope}:version")

    def _drop_expired(self) -> None:
        now = time.monotonic()
        for key in [key for key, entry in self._entries.items() if entry[2] < now]:
            del self._entries[key]
