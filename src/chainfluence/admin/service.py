"""Admin queries: disputes and the overview."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from chainfluence.admin import schemas
from chainfluence.deals.state_machine import FUNDED_STATUSES
from chainfluence.models import Deal, DealStatus, EscrowAction, EscrowActionStatus


def disputes() -> Select[Deal]:
    # The id breaks ties: pages by offset need one defined order, and disputes opened by one
    # sweep can share a timestamp.
    return select(Deal).where(Deal.status == DealStatus.disputed).order_by(Deal.updated_at, Deal.id)


def deals(
    *,
    statuses: Collection[DealStatus] = (),
    user_id: int | None = None,
    channel_id: int | None = None,
) -> Select[Deal]:
    statement = select(Deal)
    if statuses:
        statement = statement.where(Deal.status.in_(list(statuses)))
    if user_id is not None:
        statement = statement.where(
            (Deal.advertiser_id == user_id) | (Deal.publisher_id == user_id)
        )
    if channel_id is not None:
        statement = statement.where(Deal.channel_id == channel_id)
    return statement.order_by(Deal.id.desc())


async def overview(session: AsyncSession) -> schemas.Overview:
    rows = (
        await session.execute(
            select(Deal.status, func.count(), func.coalesce(func.sum(Deal.price_nano), 0))
            .group_by(Deal.status)
            .order_by(Deal.status)
        )
    ).all()
    counts = [
        schemas.StatusCount(status=status.value, count=count, amount_nano=int(amount))
        for status, count, amount in rows
    ]
    held = sum(c.amount_nano for c in counts if DealStatus(c.status) in FUNDED_STATUSES)
    orders = dict(
        (
            await session.execute(
                select(EscrowAction.status, func.count()).group_by(EscrowAction.status)
            )
        ).all()
    )
    return schemas.Overview(
        deals=counts,
        held_nano=held,
        payout_orders=schemas.PayoutOrders(
            pending=int(orders.get(EscrowActionStatus.pending, 0)),
            sent=int(orders.get(EscrowActionStatus.sent, 0)),
            failed=int(orders.get(EscrowActionStatus.failed, 0)),
        ),
    )
