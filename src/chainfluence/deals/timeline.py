"""The deal timeline: append-only events written in the same transaction as the change."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chainfluence.models import ActorType, Deal, DealEvent, DealStatus


async def record(
    session: AsyncSession,
    deal: Deal,
    event: str,
    *,
    actor_type: ActorType,
    actor_id: int | None = None,
    from_status: DealStatus | None = None,
    to_status: DealStatus | None = None,
    details: dict[str, Any] | None = None,
    tx_hash: str | None = None,
) -> DealEvent:
    entry = DealEvent(
        deal_id=deal.id,
        event=event,
        actor_type=actor_type,
        actor_id=actor_id,
        from_status=from_status,
        to_status=to_status,
        details=details or {},
        tx_hash=tx_hash,
    )
    session.add(entry)
    await session.flush()
    return entry


async def events(session: AsyncSession, deal_id: int) -> list[DealEvent]:
    statement = select(DealEvent).where(DealEvent.deal_id == deal_id).order_by(DealEvent.id)
    return list((await session.execute(statement)).scalars())


async def events_of(session: AsyncSession, deal_ids: Collection[int]) -> Sequence[DealEvent]:
    """The timelines of several deals at once, each in order."""
    if not deal_ids:
        return []
    statement = (
        select(DealEvent)
        .where(DealEvent.deal_id.in_(list(deal_ids)))
        .order_by(DealEvent.deal_id, DealEvent.id)
    )
    return (await session.execute(statement)).scalars().all()


async def last(session: AsyncSession, deal_id: int, event: str) -> DealEvent | None:
    """The newest entry named `event` of the deal, if any."""
    statement = (
        select(DealEvent)
        .where(DealEvent.deal_id == deal_id, DealEvent.event == event)
        .order_by(DealEvent.id.desc())
        .limit(1)
    )
    return (await session.execute(statement)).scalar_one_or_none()
