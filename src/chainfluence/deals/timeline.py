"""The deal timeline: append-only events written in the same transaction as the change."""

from __future__ import annotations

import functools
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import BindParameter, String, bindparam, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from chainfluence.kit.db import DirectRead
from chainfluence.models import ActorType, Deal, DealEvent, DealStatus

# What a timeline entry shows (`schemas.TimelineEvent`), after its deal's id; enums as their text.
ROW_COLUMNS: tuple[Any, ...] = (
    DealEvent.deal_id,
    DealEvent.id,
    DealEvent.event,
    type_coerce(DealEvent.actor_type, String()).label("actor_type"),
    DealEvent.actor_id,
    type_coerce(DealEvent.from_status, String()).label("from_status"),
    type_coerce(DealEvent.to_status, String()).label("to_status"),
    DealEvent.details,
    DealEvent.tx_hash,
    DealEvent.created_at,
)


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


async def rows_of(
    connection: AsyncConnection, deal_ids: Sequence[int]
) -> dict[int, list[tuple[Any, ...]]]:
    """The timelines of several deals (`ROW_COLUMNS` rows, each in order) by deal id, read on a
    `kit.db.read_connection` in one statement."""
    found: dict[int, list[tuple[Any, ...]]] = {}
    if not deal_ids:
        return found
    slots = _slots(len(deal_ids))
    # Padded with the last id: a few shapes of statement, whatever the page's size.
    params = {f"deal_{i}": deal_ids[min(i, len(deal_ids) - 1)] for i in range(slots)}
    for row in await _of_deals(slots).all(connection, **params):
        found.setdefault(row[0], []).append(row)
    return found


def _slots(count: int) -> int:
    """The power of two at or above `count`."""
    return 1 << (count - 1).bit_length()


@functools.cache
def _of_deals(slots: int) -> DirectRead:
    ids: list[BindParameter[int]] = [bindparam(f"deal_{i}") for i in range(slots)]
    statement = (
        select(*ROW_COLUMNS)
        .where(DealEvent.deal_id.in_(ids))
        .order_by(DealEvent.deal_id, DealEvent.id)
    )
    return DirectRead(statement)


async def last(session: AsyncSession, deal_id: int, event: str) -> DealEvent | None:
    """The newest entry named `event` of the deal, if any."""
    statement = (
        select(DealEvent)
        .where(DealEvent.deal_id == deal_id, DealEvent.event == event)
        .order_by(DealEvent.id.desc())
        .limit(1)
    )
    return (await session.execute(statement)).scalar_one_or_none()
