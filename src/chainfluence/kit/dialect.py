"""The dialect-specific SQL of the project, kept in one place.

Everything else is portable SQLAlchemy; what PostgreSQL and SQLite spell differently lives here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import Insert


def dialect_name(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def upsert(
    session: AsyncSession,
    table: Table,
    values: Mapping[str, Any],
    *,
    index_elements: Sequence[str],
    update: Sequence[str],
) -> Insert:
    """INSERT ... ON CONFLICT (index_elements) DO UPDATE SET the `update` columns.

    Race-free under concurrency on both databases: the loser of a race updates instead of failing.
    With no columns to update it becomes ON CONFLICT DO NOTHING.
    """
    if dialect_name(session) == "postgresql":
        pg_stmt = postgresql.insert(table).values(**values)
        if not update:
            return pg_stmt.on_conflict_do_nothing(index_elements=list(index_elements))
        return pg_stmt.on_conflict_do_update(
            index_elements=list(index_elements),
            set_={name: pg_stmt.excluded[name] for name in update},
        )
    lite_stmt = sqlite.insert(table).values(**values)
    if not update:
        return lite_stmt.on_conflict_do_nothing(index_elements=list(index_elements))
    return lite_stmt.on_conflict_do_update(
        index_elements=list(index_elements),
        set_={name: lite_stmt.excluded[name] for name in update},
    )
