"""One active holder of a named role across processes: the chain watcher, the platform wallet.

PostgreSQL: a session-level advisory lock on a connection of its own, held for one cycle. If the
holder dies, its connection closes and the lock is freed; there is no expiry to tune and no clock
involved. SQLite (the single-process sandbox): an asyncio lock per database and name.

The lock saves work; it is not what keeps chain records exact. Those are unique by transaction
hash and written together with their cursor, so even two watchers running at once would record
every transaction once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncEngine

from chainfluence.kit import dialect

__all__ = ["exclusive"]

_local_locks: dict[tuple[str, str], asyncio.Lock] = {}


@contextlib.asynccontextmanager
async def exclusive(engine: AsyncEngine, name: str) -> AsyncIterator[bool]:
    """Yields True if this caller holds ``name`` for the block, False if someone else does."""
    if engine.dialect.name != "postgresql":
        lock = _local_locks.setdefault((str(engine.url), name), asyncio.Lock())
        if lock.locked():
            yield False
            return
        async with lock:
            yield True
        return
    async with engine.connect() as connection:
        acquired = await dialect.try_advisory_lock(connection, name)
        # End the implicit transaction: a session-level lock outlives it, and an idle
        # transaction would pin old row versions for the whole cycle.
        await connection.commit()
        try:
            yield acquired
        finally:
            if acquired:
                try:
                    await dialect.advisory_unlock(connection, name)
                    await connection.commit()
                except BaseException:
                    # Never hand a connection still holding the lock back to the pool: closing
                    # it ends the database session, which frees the lock.
                    await connection.invalidate()
                    raise
