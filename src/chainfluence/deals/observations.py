"""What the chain did, written onto the deal and its timeline.

It moves no deal status; the deal lifecycle's sink (``lifecycle.DealEscrowSink``) calls these
functions first and then makes the transitions, in the same transaction. ``ChainObservations`` is
a sink that only records (for measuring the watcher, and tests that look at records alone).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from chainfluence.deals import repository as deals
from chainfluence.deals import timeline
from chainfluence.models import ActorType
from chainfluence.ton.events import BounceEvent, DepositEvent, PayoutEvent

__all__ = ["ChainObservations", "observe_bounce", "observe_deposit", "observe_payout"]


async def observe_deposit(session: AsyncSession, event: DepositEvent) -> None:
    deal = await deals.get_for_update(session, event.deal_id)
    if deal is None:
        return
    deal.deposited_nano = event.deposited_total_nano
    if deal.deposit_tx_hash is None and event.completes_funding:
        deal.deposit_tx_hash = event.tx_hash
    details: dict[str, Any] = {
        "amount_nano": str(event.amount_nano),
        "deposited_total_nano": str(event.deposited_total_nano),
        "price_nano": str(event.price_nano),
        "sender": event.sender,
        "comment": event.comment,
        "categories": [c.value for c in event.categories],
        "lt": str(event.lt),
    }
    await timeline.record(
        session,
        deal,
        "chain.deposit",
        actor_type=ActorType.chain,
        details=details,
        tx_hash=event.tx_hash,
    )


async def observe_payout(session: AsyncSession, event: PayoutEvent) -> None:
    deal = await deals.get_for_update(session, event.deal_id)
    if deal is None:
        return
    deal.payout_tx_hash = event.tx_hash
    details: dict[str, Any] = {
        "kind": event.kind.value,
        "initiator": event.initiator,
        "publisher_nano": str(event.publisher_nano),
        "fee_nano": str(event.fee_nano),
        "advertiser_nano": str(event.advertiser_nano),
        "lt": str(event.lt),
    }
    await timeline.record(
        session,
        deal,
        "chain.payout",
        actor_type=ActorType.chain,
        details=details,
        tx_hash=event.tx_hash,
    )


async def observe_bounce(session: AsyncSession, event: BounceEvent) -> None:
    deal = await deals.get(session, event.deal_id)
    if deal is None:
        return
    details: dict[str, Any] = {
        "sender": event.sender,
        "op": event.op,
        "exit_code": event.exit_code,
        "amount_nano": str(event.amount_nano),
        "returned_nano": str(event.returned_nano),
        "lt": str(event.lt),
    }
    await timeline.record(
        session,
        deal,
        "chain.bounce",
        actor_type=ActorType.chain,
        details=details,
        tx_hash=event.tx_hash,
    )


class ChainObservations:
    """``EscrowEventSink`` that records observations only."""

    async def deposit(self, session: AsyncSession, event: DepositEvent) -> None:
        await observe_deposit(session, event)

    async def payout(self, session: AsyncSession, event: PayoutEvent) -> None:
        await observe_payout(session, event)

    async def bounce(self, session: AsyncSession, event: BounceEvent) -> None:
        await observe_bounce(session, event)
