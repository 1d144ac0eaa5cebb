"""The payout order's status table, exhaustively: each allowed move lands on its target, every
other (status, event, actor) raises and leaves the order as it was. The expectations are written
out here, not read from the product's table."""

from __future__ import annotations

import itertools

import pytest

from chainfluence.models import EscrowAction, EscrowActionKind, EscrowActionStatus
from chainfluence.ton import orders
from chainfluence.ton.orders import InvalidOrderMove, OrderActor, OrderEvent

P, SENT, DONE, FAILED = (
    EscrowActionStatus.pending,
    EscrowActionStatus.sent,
    EscrowActionStatus.confirmed,
    EscrowActionStatus.failed,
)
WALLET, CHAIN = OrderActor.wallet, OrderActor.chain
ALLOWED = {
    (P, OrderEvent.sent, WALLET): SENT,
    (SENT, OrderEvent.reopened, WALLET): P,
    (SENT, OrderEvent.reopened, CHAIN): P,
    (P, OrderEvent.confirmed, CHAIN): DONE,
    (SENT, OrderEvent.confirmed, CHAIN): DONE,
    (P, OrderEvent.failed, WALLET): FAILED,
    (P, OrderEvent.failed, CHAIN): FAILED,
    (SENT, OrderEvent.failed, WALLET): FAILED,
    (SENT, OrderEvent.failed, CHAIN): FAILED,
}


def _order(status: EscrowActionStatus) -> EscrowAction:
    return EscrowAction(id=7, deal_id=1, kind=EscrowActionKind.refund, status=status, history=[])


@pytest.mark.parametrize(
    ("status", "event", "actor"),
    list(itertools.product(EscrowActionStatus, OrderEvent, OrderActor)),
)
def test_every_move_follows_the_table(
    status: EscrowActionStatus, event: OrderEvent, actor: OrderActor
) -> None:
    order = _order(status)
    target = ALLOWED.get((status, event, actor))
    if target is None:
        with pytest.raises(InvalidOrderMove, match=f"payout order 7: the {actor.value} cannot"):
            orders.move(order, event, actor)
        assert order.status is status
    else:
        orders.move(order, event, actor)
        assert order.status is target


def test_final_orders_never_move() -> None:
    for status, event in itertools.product((DONE, FAILED), OrderEvent):
        assert not orders.can(_order(status), event)
