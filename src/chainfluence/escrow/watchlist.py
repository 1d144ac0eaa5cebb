"""Which escrows the chain watcher follows, and what it needs to know about each.

The escrow domain answers for the chain layer (`ton.events.EscrowWatchList`): deals with an escrow
address whose money is not settled, each with the parties' wallets and whether a payment arriving
now would be late. The watcher itself knows no deal and no deal status.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from chainfluence.models import ChainTransaction, Deal, DealStatus
from chainfluence.ton.events import WatchedEscrow

__all__ = ["LATE_STATUSES", "SETTLED_STATUSES", "DealWatchList", "escrow_state_init"]

S = DealStatus
# The escrow has paid out and its deal is over: nothing more to watch.
SETTLED_STATUSES = frozenset({S.released, S.refunded, S.split_paid})
# Money arriving in these is late: the deal ended without it, or the escrow is paying out or has
# paid out (the contract then returns the payment itself).
LATE_STATUSES = frozenset(
    {S.cancelled, S.refunding, S.refunded, S.released, S.split_paid, S.splitting}
)


class DealWatchList:
    """The `EscrowWatchList` of the deals' escrows."""

    async def escrows(
        self,
        session: AsyncSession,
        *,
        addresses: Collection[str] | None = None,
        ended_since: dt.datetime | None = None,
    ) -> list[WatchedEscrow]:
        """Open escrows: deals with an escrow address whose money is not settled.

        Cancelled deals stay watched (a payment can still arrive late); ``ended_since`` limits
        them to those cancelled after that time, for per-address polling, whose cost grows with
        every escrow it watches. ``addresses`` restricts the answer to those escrows (block
        scanning).
        """
        last_lt = (
            select(func.max(ChainTransaction.lt))
            .where(ChainTransaction.account == Deal.escrow_address)
            .scalar_subquery()
        )
        statement = select(
            Deal.id,
            Deal.escrow_address,
            Deal.status,
            Deal.price_nano,
            Deal.advertiser_wallet,
            Deal.publisher_wallet,
            Deal.fee_recipient,
            func.coalesce(last_lt, 0),
        ).where(Deal.escrow_address.is_not(None), Deal.status.not_in(list(SETTLED_STATUSES)))
        if ended_since is not None:
            statement = statement.where(
                or_(
                    Deal.status != S.cancelled,
                    Deal.cancelled_at.is_(None),
                    Deal.cancelled_at >= ended_since,
                )
            )
        if addresses is not None:
            if not addresses:
                return []
            statement = statement.where(Deal.escrow_address.in_(list(addresses)))
        rows = (await session.execute(statement.order_by(Deal.id))).all()
        return [
            WatchedEscrow(
                deal_id=row[0],
                address=row[1],
                late=S(row[2]) in LATE_STATUSES,
                price_nano=row[3],
                advertiser_wallet=row[4],
                publisher_wallet=row[5],
                fee_recipient=row[6],
                last_lt=int(row[7]),
            )
            for row in rows
        ]


async def escrow_state_init(session: AsyncSession, deal_id: int) -> str | None:
    """The StateInit (base64 BoC) the deal's escrow was fixed with, for the platform wallet to
    deploy an escrow that was paid but never deployed."""
    deal = await session.get(Deal, deal_id)
    return None if deal is None else deal.escrow_state_init
