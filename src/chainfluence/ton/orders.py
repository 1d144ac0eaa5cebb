"""The payout order's status table: from status, event → to status, and who reports the event.

An order (`EscrowAction`) is created `pending`; the platform wallet signs and records an attempt
(`sent`), reopens an attempt that can no longer land, or gives up; the chain watcher confirms the
payout it recorded, or reopens or fails an order the escrow refused. Every status write goes
through `move()`; a move outside the table is a bug and raises without changing the order.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from chainfluence.models import EscrowAction, EscrowActionStatus

St = EscrowActionStatus


class OrderEvent(StrEnum):
    sent = "sent"  # an attempt is signed and recorded
    reopened = "reopened"  # that attempt cannot land, or was refused in a way a new one fixes
    confirmed = "confirmed"  # the escrow's payout transaction is recorded
    failed = "failed"  # it will not happen


class OrderActor(StrEnum):
    wallet = "wallet"  # the platform wallet sending orders
    chain = "chain"  # the chain watcher recording the escrow's transactions


@dataclass(frozen=True, slots=True)
class OrderRule:
    source: EscrowActionStatus
    event: OrderEvent
    target: EscrowActionStatus
    actors: frozenset[OrderActor]


_W, _C = frozenset({OrderActor.wallet}), frozenset({OrderActor.chain})
_BOTH = _W | _C

RULES: dict[tuple[EscrowActionStatus, OrderEvent], OrderRule] = {
    (rule.source, rule.event): rule
    for rule in (
        OrderRule(St.pending, OrderEvent.sent, St.sent, _W),
        OrderRule(St.sent, OrderEvent.reopened, St.pending, _BOTH),
        OrderRule(St.pending, OrderEvent.confirmed, St.confirmed, _C),
        OrderRule(St.sent, OrderEvent.confirmed, St.confirmed, _C),
        OrderRule(St.pending, OrderEvent.failed, St.failed, _BOTH),
        OrderRule(St.sent, OrderEvent.failed, St.failed, _BOTH),
    )
}


class InvalidOrderMove(RuntimeError):
    """A payout order was asked to move outside its table (a bug, never a user's request)."""


def can(order: EscrowAction, event: OrderEvent) -> bool:
    """Whether `event` may happen to `order` in its current status."""
    return (order.status, event) in RULES


def move(order: EscrowAction, event: OrderEvent, actor: OrderActor) -> None:
    rule = RULES.get((order.status, event))
    if rule is None or actor not in rule.actors:
        raise InvalidOrderMove(
            f"payout order {order.id}: the {actor.value} cannot report {event.value} "
            f"on a {order.status.value} order"
        )
    order.status = rule.target
