"""Queries of the `user_events` outbox."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
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
