"""Queries of the `user_events` outbox."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from chainfluence.models import UserEvent


async def newest_id(session: AsyncSession, user_id: int) -> int:
    statement = select(func.max(UserEvent.id)).where(UserEvent.user_id == user_id)
    return (await session.execute(statement)).scalar_one_or_none() or 0


async def after(
    session: AsyncSession, user_id: int, after_id: int, *, limit: int
) -> Sequence[UserEvent]:
    statement = (
        select(UserEvent)
        .where(UserEvent.user_id == user_id, UserEvent.id > after_id)
        .order_by(UserEvent.id)
        .limit(limit)
    )
    return (await session.execute(statement)).scalars().all()


async def prune(session: AsyncSession, *, older_than: dt.datetime, limit: int) -> tuple[int, bool]:
    """Delete rows written before `older_than` among the `limit` oldest ids; the count, and
    whether the next batch may hold more (every row of this one was old)."""
    statement = select(UserEvent.id, UserEvent.created_at).order_by(UserEvent.id).limit(limit)
    rows = (await session.execute(statement)).all()
    old = [row.id for row in rows if row.created_at < older_than]
    if old:
        await session.execute(delete(UserEvent).where(UserEvent.id.in_(old)))
    return len(old), bool(rows) and len(old) == len(rows)
