"""Migrations: upgrade from empty on each database, and the models agree with them."""

from __future__ import annotations

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from chainfluence.kit import migrate
from chainfluence.kit.db import Base


async def test_upgrade_from_empty_reaches_head_with_every_table(db_engine: AsyncEngine) -> None:
    # The session fixture built this database from empty with `migrate.upgrade`.
    async with db_engine.connect() as conn:
        tables = set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))

    assert await migrate.current_revision(db_engine) is not None
    assert set(Base.metadata.tables) <= tables


async def test_models_match_migrations(db_engine: AsyncEngine) -> None:
    assert await migrate.pending_model_changes(db_engine) == []
