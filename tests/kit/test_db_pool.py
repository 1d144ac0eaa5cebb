"""The PostgreSQL pool checks only idle connections before handing them out (kit.db)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from chainfluence.kit import db as kit_db
from chainfluence.kit.db import create_engine
from tests.conftest import POSTGRES_ADMIN_URL


@pytest.fixture
async def engine() -> AsyncIterator[AsyncEngine]:
    # The admin database is enough: these tests only run SELECTs.
    engine = create_engine(POSTGRES_ADMIN_URL, pool_size=1, max_overflow=0)
    yield engine
    await engine.dispose()


async def _backend_pid(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def _terminate(pid: int) -> None:
    admin = create_async_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        await admin.dispose()


async def test_an_idle_connection_the_server_closed_is_replaced_before_use(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await _backend_pid(engine)
    await _terminate(first)
    monkeypatch.setattr(kit_db, "IDLE_PING_SECONDS", 0.0)  # the connection now counts as idle

    second = await _backend_pid(engine)  # no error reaches the caller

    assert second != first


async def test_a_connection_back_moments_ago_is_not_pinged(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await _backend_pid(engine)
    monkeypatch.setattr(kit_db, "IDLE_PING_SECONDS", 3600.0)
    pings: list[object] = []
    pool = engine.sync_engine.pool
    monkeypatch.setattr(
        pool._dialect, "do_ping", lambda connection: pings.append(connection) or True
    )

    assert await _backend_pid(engine) == first
    assert pings == []

    # The same connection, killed while it sat in the pool "moments ago", fails the statement:
    # that is the trade made for not pinging every checkout.
    await _terminate(first)
    with pytest.raises(DBAPIError):
        await _backend_pid(engine)
    assert await _backend_pid(engine) != first  # the pool recovered with a new connection
