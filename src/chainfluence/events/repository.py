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


async def prune(
    session: AsyncSession, *, older_than: dt.datetime, after_id: int, limit: int
) -> tuple[int, int | None]:
    """Delete rows written before `older_than` among the `limit` ids after `after_id`; how many,
    and the last id looked at (None when there was none)."""
    statement = (
        select(UserEvent.id, UserEvent.created_at)
        .where(UserEvent.id > after_id)
        .order_by(UserEvent.id)
        .limit(limit)
    )
    rows = (await session.execute(statement)).all()
    old = [row.id for row in rows if row.created_at < older_than]
    if old:
        await session.execute(delete(UserEvent).where(UserEvent.id.in_(old)))
    return len(old), rows[-1].id if rows else None
