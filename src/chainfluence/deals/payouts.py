"""Payout orders of a deal's escrow: release, refund or split, ordered once per outcome.

The deal lifecycle calls ``order_payout`` inside the transaction that moves the deal (e.g. to
``verified``); the order commits with that move and the platform wallet (``ton/wallet.py``) sends
it afterwards; the chain watcher confirms or fails it (``ton/actions.py``).

An escrow pays out once, so a deal has at most one order in flight, and asking again for the same
outcome returns the existing order instead of a second one.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from chainfluence import jobs
from chainfluence.models import Deal, EscrowAction, EscrowActionKind, EscrowActionStatus
from chainfluence.ton import repository
from chainfluence.ton.actions import SEND_JOB
from chainfluence.ton.escrow import BPS_WHOLE
from chainfluence.ton.exceptions import EscrowNotCreated, PayoutAlreadyOrdered, SplitShareMismatch

__all__ = ["order_payout"]


async def order_payout(
    session: AsyncSession,
    deal: Deal,
    kind: EscrowActionKind,
    *,
    publisher_share_bps: int | None = None,
) -> EscrowAction:
    """Order the escrow of ``deal`` to release, refund or split (idempotent per outcome).

    Returns the existing order when the same outcome was ordered before; refuses a different
    outcome while one is in flight. The send job is queued once the transaction commits.
    """
    if deal.escrow_address is None:
        raise EscrowNotCreated()
    if kind is EscrowActionKind.dispute_split:
        if publisher_share_bps is None or not 0 <= publisher_share_bps <= BPS_WHOLE:
            raise ValueError("a split needs publisher_share_bps between 0 and 10000")
    elif publisher_share_bps is not None:
        raise ValueError("only a split takes publisher_share_bps")
    existing = await repository.action_for(session, deal.id, kind)
    if existing is not None:
        if existing.publisher_share_bps != publisher_share_bps:
            raise SplitShareMismatch()
        return existing
    active = await repository.active_action(session, deal.id)
    if active is not None:
        raise PayoutAlreadyOrdered(active.kind.value)
    action = EscrowAction(
        deal_id=deal.id,
        kind=kind,
        publisher_share_bps=publisher_share_bps,
        escrow_address=deal.escrow_address,
        status=EscrowActionStatus.pending,
        history=[],
    )
    session.add(action)
    await session.flush()
    await jobs.enqueue(session, SEND_JOB, {}, dedup_key=SEND_JOB)
    return action
