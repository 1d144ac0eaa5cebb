"""Payout orders (release / refund / split of a deal's escrow), from intent to confirmation.

The deal lifecycle calls ``order_payout`` inside the transaction that moves the deal (e.g. to
``verified``); the order commits with that move and the platform wallet (``ton/wallet.py``) sends
it afterwards. The chain watcher closes orders: ``on_payout`` when the escrow's payout transaction
is recorded, ``on_bounce`` when the escrow refused the op. Nothing here touches the network.

An escrow pays out once, so a deal has at most one order in flight, and asking again for the same
outcome returns the existing order instead of a second one.
"""

from __future__ import annotations

import logging
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from chainfluence import jobs
from chainfluence.kit.time import utcnow
from chainfluence.models import Deal, EscrowAction, EscrowActionKind, EscrowActionStatus
from chainfluence.ton import orders, repository
from chainfluence.ton.escrow import BPS_WHOLE, EscrowExitCode
from chainfluence.ton.events import BounceEvent, PayoutEvent
from chainfluence.ton.exceptions import EscrowNotCreated, PayoutAlreadyOrdered, SplitShareMismatch
from chainfluence.ton.orders import OrderActor, OrderEvent

__all__ = ["SEND_JOB", "on_bounce", "on_payout", "order_payout"]

log = logging.getLogger(__name__)

SEND_JOB: Final = "escrow.send_payouts"
MAX_ATTEMPTS: Final = 5
# Refusals a new attempt can fix: not enough value attached (the next attempt recomputes it from
# the balance) or out of gas.
_RETRYABLE_EXIT_CODES: Final = frozenset({EscrowExitCode.UNDERFUNDED, -14, 13})


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


def note(action: EscrowAction, event: str, **fields: object) -> None:
    """Append to the order's history (a new list, so the JSON column is seen as changed)."""
    action.history = [
        *action.history,
        {"at": utcnow().isoformat(), "event": event, "attempt": action.attempts, **fields},
    ]


async def on_payout(session: AsyncSession, event: PayoutEvent) -> None:
    """The escrow paid out: the deal's order is done, or moot if the escrow paid otherwise."""
    action = await repository.active_action(session, event.deal_id, lock=True)
    if action is None:
        return
    if action.kind.value == event.kind.value:
        orders.move(action, OrderEvent.confirmed, OrderActor.chain)
        action.confirmed_at = utcnow()
        action.tx_hash = event.tx_hash
        action.error = None
        note(action, "confirmed", tx_hash=event.tx_hash, query_id=event.query_id)
    else:
        orders.move(action, OrderEvent.failed, OrderActor.chain)
        action.error = f"the escrow was closed by a {event.kind.value} first"
        note(action, "superseded", tx_hash=event.tx_hash, by=event.kind.value)
        log.warning(
            "payout order %s for deal %s superseded by a %s",
            action.id,
            event.deal_id,
            event.kind.value,
        )
    await session.flush()


async def on_bounce(session: AsyncSession, event: BounceEvent) -> None:
    """The escrow refused one of our ops: retry what a new attempt can fix, give up otherwise."""
    if event.query_id is None:
        return
    action = await repository.action_by_query_id(session, event.query_id)
    if action is None or action.status is not EscrowActionStatus.sent:
        return  # only an attempt on its way can be refused
    action.exit_code = event.exit_code
    note(action, "refused", tx_hash=event.tx_hash, exit_code=event.exit_code)
    if event.exit_code == EscrowExitCode.CLOSED:
        # Closed by an earlier transaction, which on_payout has already handled.
        return
    if event.exit_code in _RETRYABLE_EXIT_CODES and action.attempts < MAX_ATTEMPTS:
        orders.move(action, OrderEvent.reopened, OrderActor.chain)
        action.error = f"refused by the escrow (exit code {event.exit_code}); sending again"
    else:
        orders.move(action, OrderEvent.failed, OrderActor.chain)
        action.error = f"refused by the escrow (exit code {event.exit_code})"
        log.error(
            "payout order %s for deal %s refused: exit code %s",
            action.id,
            event.deal_id,
            event.exit_code,
        )
    await session.flush()
