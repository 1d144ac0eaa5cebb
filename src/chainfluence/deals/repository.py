"""Deal queries."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chainfluence.models import Deal


async def get(session: AsyncSession, deal_id: int) -> Deal | None:
    return await session.get(Deal, deal_id)


async def get_for_update(session: AsyncSession, deal_id: int) -> Deal | None:
    """The deal, row-locked until the transaction ends (PostgreSQL; SQLite writers are serial)."""
    statement = (
        select(Deal)
        .where(Deal.id == deal_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.execute(statement)).scalar_one_or_none()
