"""Migrations: upgrade from empty on each database, and the models agree with them."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, inspect, select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from chainfluence.kit.db import Base, create_engine
from chainfluence.kit.time import utcnow
from chainfluence.migrations import migrate
from chainfluence.models import Channel, User
from tests.conftest import BACKENDS, _postgres_database


async def test_upgrade_from_empty_reaches_head_with_every_table(db_engine: AsyncEngine) -> None:
    # The session fixture built this database from empty with `migrate.upgrade`.
    async with db_engine.connect() as conn:
        tables = set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))

    assert await migrate.current_revision(db_engine) is not None
    assert set(Base.metadata.tables) <= tables


async def test_models_match_migrations(db_engine: AsyncEngine) -> None:
    assert await migrate.pending_model_changes(db_engine) == []


@pytest.mark.parametrize("backend", BACKENDS)
async def test_ratios_stored_before_0004_become_percent_and_back(
    backend: str, tmp_path: Path
) -> None:
    async with contextlib.AsyncExitStack() as stack:
        if backend == "sqlite":
            url = f"sqlite+aiosqlite:///{tmp_path / 'old.sqlite3'}"
        else:
            url = await stack.enter_async_context(_postgres_database())
        engine = create_engine(url)
        stack.push_async_callback(engine.dispose)
        await migrate.upgrade(engine, "0003")
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        async with sessions.begin() as session:
            session.add(User(id=1, first_name="Olga", member_since=utcnow()))
            await session.flush()
            # Core inserts of the columns 0003 has (the model has gained columns since).
            table = Channel.__table__
            await session.execute(
                insert(table).values(  # type: ignore[arg-type]
                    id=-1,
                    owner_id=1,
                    title="Measured",
                    engagement_rate=0.2863,
                    language_distribution={"en": 0.8, "ru": 0.2},
                )
            )
            await session.execute(
                insert(table).values(id=-2, owner_id=1, title="Unknown")  # type: ignore[arg-type]
            )

        await migrate.upgrade(engine)
        after = await _ratios(engine)
        await migrate.downgrade(engine, "0003")
        back = await _ratios(engine)

    assert after == {-1: (28.63, {"en": 80.0, "ru": 20.0}), -2: (None, None)}
    assert back == {-1: (0.2863, {"en": 0.8, "ru": 0.2}), -2: (None, None)}


async def _ratios(engine: AsyncEngine) -> dict[int, tuple[Any, Any]]:
    statement = select(Channel.id, Channel.engagement_rate, Channel.language_distribution)
    async with engine.connect() as conn:
        return {row[0]: (row[1], row[2]) for row in await conn.execute(statement)}
