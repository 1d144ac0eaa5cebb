"""Turning one escrow transaction into a record and an event, exactly once.

``record`` runs inside the caller's database transaction: it inserts the transaction into
``chain_transactions`` (unique by hash), and only if this call inserted it does it update the
payout orders and hand the event to the sink. A transaction seen twice (two watchers, a restart
after a crash between reading and committing) is therefore recorded and reported once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from chainfluence.kit import faults
from chainfluence.kit.faults import FaultPoint
from chainfluence.kit.time import from_unix
from chainfluence.models import ChainTxKind
from chainfluence.ton import actions, repository
from chainfluence.ton.escrow import EscrowOp
from chainfluence.ton.events import (
    BounceEvent,
    DepositEvent,
    EscrowEventSink,
    Payout,
    PayoutEvent,
    PayoutKind,
    WatchedEscrow,
)
from chainfluence.ton.transactions import ChainTx

__all__ = ["Classified", "classify", "record"]

log = logging.getLogger(__name__)

_PAYOUT_OPS = {
    EscrowOp.RELEASE: PayoutKind.release,
    EscrowOp.REFUND: PayoutKind.refund,
    EscrowOp.SPLIT: PayoutKind.dispute_split,
}
_KIND_OF_PAYOUT = {
    PayoutKind.release: ChainTxKind.release,
    PayoutKind.refund: ChainTxKind.refund,
    PayoutKind.dispute_split: ChainTxKind.dispute_split,
}


@dataclass(frozen=True, slots=True)
class Classified:
    kind: ChainTxKind
    amount_nano: int
    payout_kind: PayoutKind | None = None
    returned_nano: int = 0


def classify(tx: ChainTx) -> Classified:
    """What an escrow transaction was, from its inbound message and outcome."""
    message = tx.in_msg
    if message is None or message.is_external or message.bounced:
        # The contract never sends bounceable messages, so nothing bounces back to it; and it
        # accepts no external messages. Recorded for completeness.
        return Classified(ChainTxKind.other, message.value_nano if message else 0)
    returned = sum(m.value_nano for m in tx.out_msgs if m.destination == message.source)
    op = message.op
    if tx.aborted:
        return Classified(ChainTxKind.bounce, message.value_nano, returned_nano=returned)
    if op is None or op == EscrowOp.COMMENT:
        return Classified(ChainTxKind.deposit, message.value_nano, returned_nano=returned)
    payout = _PAYOUT_OPS.get(op)  # type: ignore[call-overload]
    if payout is not None:
        return Classified(_KIND_OF_PAYOUT[payout], tx.out_value_nano, payout_kind=payout)
    return Classified(ChainTxKind.other, message.value_nano)


def _details(tx: ChainTx, classified: Classified) -> dict[str, Any]:
    message = tx.in_msg
    details: dict[str, Any] = {
        "fees_nano": tx.total_fees_nano,
        "exit_code": tx.exit_code,
        "out": [
            {"to": m.destination, "amount_nano": m.value_nano}
            for m in tx.out_msgs
            if m.destination is not None
        ],
    }
    if message is not None:
        details.update(op=message.op, query_id=message.query_id, bounce=message.bounce)
    if classified.returned_nano:
        details["returned_nano"] = classified.returned_nano
    return details


async def record(
    session: AsyncSession, escrow: WatchedEscrow, tx: ChainTx, sink: EscrowEventSink
) -> bool:
    """Record ``tx`` of ``escrow`` and report it; False if it was recorded before (no event)."""
    classified = classify(tx)
    message = tx.in_msg
    details = _details(tx, classified)
    deposit: DepositEvent | None = None
    if classified.kind is ChainTxKind.deposit:
        before = await repository.deposited_before(session, account=escrow.address, lt=tx.lt)
        returned = classified.returned_nano > 0
        deposit = DepositEvent(
            deal_id=escrow.deal_id,
            escrow_address=escrow.address,
            tx_hash=tx.hash,
            lt=tx.lt,
            utime=from_unix(tx.utime),
            amount_nano=classified.amount_nano,
            sender=message.source if message else None,
            comment=message.comment if message else None,
            price_nano=escrow.price_nano,
            deposited_before_nano=before,
            expected_sender=escrow.advertiser_wallet,
            late=escrow.late,
            returned=returned,
        )
        details.update(
            returned=returned,
            categories=[c.value for c in deposit.categories],
            deposited_total_nano=deposit.deposited_total_nano,
        )
    inserted = await repository.insert_transaction(
        session,
        {
            "hash": tx.hash,
            "lt": tx.lt,
            "account": escrow.address,
            "deal_id": escrow.deal_id,
            "kind": classified.kind,
            "amount_nano": classified.amount_nano,
            "source": message.source if message else None,
            "comment": message.comment if message else None,
            "aborted": tx.aborted,
            "utime": from_unix(tx.utime),
            "details": details,
        },
    )
    if not inserted:
        return False
    if deposit is not None:
        faults.reached(FaultPoint.deposit_recorded)
        await sink.deposit(session, deposit)
    elif classified.payout_kind is not None:
        event = _payout_event(escrow, tx, classified.payout_kind)
        await actions.on_payout(session, event)
        await sink.payout(session, event)
    elif classified.kind is ChainTxKind.bounce:
        bounce = BounceEvent(
            deal_id=escrow.deal_id,
            escrow_address=escrow.address,
            tx_hash=tx.hash,
            lt=tx.lt,
            utime=from_unix(tx.utime),
            sender=message.source if message else None,
            op=message.op if message else None,
            query_id=message.query_id if message else None,
            amount_nano=classified.amount_nano,
            returned_nano=classified.returned_nano,
            exit_code=tx.exit_code,
        )
        await actions.on_bounce(session, bounce)
        await sink.bounce(session, bounce)
    return True


def _payout_event(escrow: WatchedEscrow, tx: ChainTx, kind: PayoutKind) -> PayoutEvent:
    payouts = tuple(
        Payout(destination=m.destination, amount_nano=m.value_nano)
        for m in tx.out_msgs
        if m.destination is not None
    )

    def to(address: str | None) -> int:
        return sum(p.amount_nano for p in payouts if address and p.destination == address)

    message = tx.in_msg
    return PayoutEvent(
        deal_id=escrow.deal_id,
        escrow_address=escrow.address,
        kind=kind,
        tx_hash=tx.hash,
        lt=tx.lt,
        utime=from_unix(tx.utime),
        initiator=message.source if message else None,
        query_id=message.query_id if message else None,
        payouts=payouts,
        publisher_nano=to(escrow.publisher_wallet),
        fee_nano=to(escrow.fee_recipient),
        advertiser_nano=to(escrow.advertiser_wallet),
    )
