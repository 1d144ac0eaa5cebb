"""Payout orders (release / refund / split of an escrow), from sending to confirmation.

The deal lifecycle makes orders (``deals.payouts.order_payout``, inside the transaction that moves
the deal); the platform wallet (``ton/wallet.py``) sends them afterwards. The chain watcher closes
them here: ``on_payout`` when the escrow's payout transaction is recorded, ``on_bounce`` when the
escrow refused the op. Nothing here touches the network.
"""

from __future__ import annotations

import logging
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from chainfluence.kit.time import utcnow
from chainfluence.models import EscrowAction, EscrowActionStatus
from chainfluence.ton import orders, repository
from chainfluence.ton.escrow import EscrowExitCode
from chainfluence.ton.events import BounceEvent, PayoutEvent
from chainfluence.ton.orders import OrderActor, OrderEvent

__all__ = ["MAX_ATTEMPTS", "SEND_JOB", "note", "on_bounce", "on_payout"]

log = logging.getLogger(__name__)

SEND_JOB: Final = "escrow.send_payouts"
MAX_ATTEMPTS: Final = 5
# Refusals a new attempt can fix: not enough value attached (the next attempt recomputes it from
# the balance) or out of gas.
_RETRYABLE_EXIT_CODES: Final = frozenset({EscrowExitCode.UNDERFUNDED, -14, 13})


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
