"""The PostgreSQL pool (kit.db): it checks only idle connections before handing them out, keeps
its connections beyond `pool_size` until they sit idle, not closing them as they come back, and
hands connections out first come, first served."""

from __future__ import annotations

import asyncio
import collections
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from chainfluence.kit import db as kit_db
from chainfluence.kit.db import DirectRead, create_engine, read_connection
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


async def _held_together(engine: AsyncEngine, count: int) -> set[int]:
    """The backends of `count` connections checked out at once, then all handed back."""
    connections = [await engine.connect() for _ in range(count)]
    try:
        return {
            int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())
            for conn in connections
        }
    finally:
        for conn in connections:
            await conn.close()


async def _alive(pids: set[int]) -> set[int]:
    admin = create_async_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            rows = await conn.execute(text("SELECT pid FROM pg_stat_activity"))
            return pids & {int(pid) for pid in rows.scalars()}
    finally:
        await admin.dispose()


async def _alive_soon(pids: set[int], expected: set[int]) -> bool:
    """Whether `pids` alive come down to `expected` within a few seconds (a backend leaves
    pg_stat_activity as it exits, just after its client has gone)."""
    for _ in range(50):
        if await _alive(pids) == expected:
            return True
        await asyncio.sleep(0.1)
    return False


async def test_connections_beyond_pool_size_stay_open_as_they_come_back() -> None:
    engine = create_engine(POSTGRES_ADMIN_URL, pool_size=1, max_overflow=2)
    try:
        first = await _held_together(engine, 3)
        # SQLAlchemy's own pool closed two of them as they came back, and opened two new ones.
        assert await _held_together(engine, 3) == first
        assert engine.sync_engine.pool.checkedin() == 3
    finally:
        await engine.dispose()


async def test_the_pool_still_opens_no_more_than_pool_size_plus_overflow() -> None:
    engine = create_engine(POSTGRES_ADMIN_URL, pool_size=1, max_overflow=1)
    try:
        await _held_together(engine, 2)
        held = [await engine.connect() for _ in range(2)]
        try:
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(engine.connect(), timeout=0.5)
        finally:
            for conn in held:
                await conn.close()
        assert engine.sync_engine.pool.checkedin() == 2
    finally:
        await engine.dispose()


async def test_surplus_connections_idle_a_while_are_closed_at_the_next_checkout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine = create_engine(POSTGRES_ADMIN_URL, pool_size=1, max_overflow=2)
    try:
        pids = await _held_together(engine, 3)
        assert len(pids) == 3
        monkeypatch.setattr(kit_db, "SURPLUS_IDLE_SECONDS", 0.0)  # all three count as idle long

        kept = await _backend_pid(engine)

        assert kept in pids
        assert await _alive_soon(pids, {kept})  # the two beyond pool_size were closed
        assert engine.sync_engine.pool.checkedin() == 1
        monkeypatch.setattr(kit_db, "SURPLUS_IDLE_SECONDS", 3600.0)
        # Opened again when needed, up to the limit.
        assert len(await _held_together(engine, 3)) == 3
    finally:
        await engine.dispose()


_TRANSACTION_ID = DirectRead(select(func.txid_current()))


async def test_a_read_connection_runs_each_statement_on_its_own_then_hands_back_a_transactional_one(
    engine: AsyncEngine,
) -> None:
    # The pool holds one connection: the session after the reads gets the same one.
    async with read_connection(engine) as connection:
        first = await _TRANSACTION_ID.first(connection)
        second = await _TRANSACTION_ID.first(connection)
        assert first is not None
        assert second is not None
        assert first != second  # no transaction around them
        adapter = connection.sync_connection.connection.dbapi_connection  # type: ignore[union-attr]

    async with engine.connect() as connection:
        assert connection.sync_connection.connection.dbapi_connection is adapter  # type: ignore[union-attr]
        ids = [(await connection.execute(text("SELECT txid_current()"))).scalar_one() for _ in "ab"]
        assert ids[0] == ids[1]  # both in the transaction the adapter began


async def _checkout_in_turn(engine: AsyncEngine, name: str, order: list[str]) -> None:
    async with engine.connect():
        order.append(name)


async def _waiting(engine: AsyncEngine, count: int) -> None:
    """Until `count` checkouts wait for a connection."""
    for _ in range(200):
        if len(engine.sync_engine.pool._pool._waiters) == count:  # type: ignore[attr-defined]
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{count} checkouts never waited")


async def test_a_connection_coming_back_goes_to_the_longest_waiter(engine: AsyncEngine) -> None:
    order: list[str] = []
    held = await engine.connect()
    waiters = [
        asyncio.create_task(_checkout_in_turn(engine, name, order)) for name in ("first", "second")
    ]
    await _waiting(engine, 2)

    # The holder hands its connection back and at once asks for one again, without letting
    # the waiters run: SQLAlchemy's queue gave it the connection it had just returned.
    await held.close()
    await asyncio.wait_for(_checkout_in_turn(engine, "holder again", order), timeout=10)
    await asyncio.wait_for(asyncio.gather(*waiters), timeout=10)

    assert order == ["first", "second", "holder again"]


async def test_a_waiter_that_gives_up_as_it_is_handed_a_connection_passes_it_on(
    engine: AsyncEngine,
) -> None:
    order: list[str] = []
    held = await engine.connect()
    gives_up = asyncio.create_task(_checkout_in_turn(engine, "gives up", order))
    await _waiting(engine, 1)
    patient = asyncio.create_task(_checkout_in_turn(engine, "patient", order))
    await _waiting(engine, 2)

    await held.close()  # the connection is handed to the first waiter ...
    gives_up.cancel()  # ... which is cancelled before it runs

    await asyncio.wait_for(patient, timeout=10)
    with pytest.raises(asyncio.CancelledError):
        await gives_up
    assert order == ["patient"]
    assert engine.sync_engine.pool.checkedout() == 0
    assert engine.sync_engine.pool._pool._waiters == collections.deque()  # type: ignore[attr-defined]


async def test_a_checkout_past_the_pool_timeout_fails_and_leaves_no_waiter(
    engine: AsyncEngine,
) -> None:
    engine.sync_engine.pool._timeout = 0.2  # type: ignore[attr-defined]
    held = await engine.connect()
    try:
        with pytest.raises(sa_exc.TimeoutError):
            await engine.connect()
    finally:
        await held.close()

    assert engine.sync_engine.pool._pool._waiters == collections.deque()  # type: ignore[attr-defined]
    assert await _backend_pid(engine) > 0  # the connection went back to the pool, not to a waiter
