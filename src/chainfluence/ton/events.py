"""What the chain watcher reports about escrows: deposits, payouts and bounces.

The watcher records every transaction of an open escrow once (``chain_transactions``, unique by
hash) and, in the same database transaction, hands each one to an ``EscrowEventSink`` as one of
three events. The deal lifecycle implements the sink (its transitions run inside that transaction,
so an event is acted on exactly once, or not at all if the transaction rolls back and the watcher
reads the transaction again). Which escrows to follow is the escrow domain's answer, through an
``EscrowWatchList``: this package knows no deal and no deal status.

Each event carries the facts a decision needs; the categories the marketplace cares about
(full / partial / over payment, late payment, payment from someone other than the advertiser) are
computed here from those facts, so every consumer classifies the same way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

__all__ = [
    "BounceEvent",
    "DepositCategory",
    "DepositEvent",
    "EscrowEventSink",
    "EscrowWatchList",
    "Funding",
    "Payout",
    "PayoutEvent",
    "PayoutKind",
    "WatchedEscrow",
]


class Funding(StrEnum):
    """How the deposits so far (this one included) compare with the deal's price."""

    partial = "partial"  # below the price: the deal cannot start yet
    full = "full"  # exactly the price
    over = "over"  # above the price: the excess goes back to the advertiser on payout


class DepositCategory(StrEnum):
    partial = "partial"
    full = "full"
    over = "over"
    late = "late"
    unexpected_sender = "unexpected_sender"
    returned = "returned"  # the contract was closed and sent the payment straight back


@dataclass(frozen=True, slots=True)
class DepositEvent:
    """Value arrived at the escrow with an empty body or a text comment."""

    deal_id: int
    escrow_address: str  # raw form
    tx_hash: str  # hex
    lt: int
    utime: dt.datetime
    amount_nano: int  # value of the incoming message
    sender: str | None  # raw form
    comment: str | None
    price_nano: int
    deposited_before_nano: int  # earlier deposits to this escrow, as recorded
    expected_sender: str | None  # the advertiser's wallet (raw), if the deal has one
    late: bool  # when observed, the deal had ended without it or the escrow was paying out
    returned: bool  # the (closed) contract sent it back in the same transaction

    @property
    def deposited_total_nano(self) -> int:
        """Everything deposited and kept, this deposit included."""
        kept = 0 if self.returned else self.amount_nano
        return self.deposited_before_nano + kept

    @property
    def funding(self) -> Funding:
        total = self.deposited_total_nano
        if total < self.price_nano:
            return Funding.partial
        return Funding.full if total == self.price_nano else Funding.over

    @property
    def completes_funding(self) -> bool:
        """This deposit is the one that brought the escrow to the price."""
        return self.deposited_before_nano < self.price_nano <= self.deposited_total_nano

    @property
    def is_late(self) -> bool:
        return self.returned or self.late

    @property
    def from_unexpected_sender(self) -> bool:
        return self.expected_sender is not None and self.sender != self.expected_sender

    @property
    def categories(self) -> tuple[DepositCategory, ...]:
        found = [DepositCategory(self.funding.value)]
        if self.is_late:
            found.append(DepositCategory.late)
        if self.from_unexpected_sender:
            found.append(DepositCategory.unexpected_sender)
        if self.returned:
            found.append(DepositCategory.returned)
        return tuple(found)


class PayoutKind(StrEnum):
    release = "release"
    refund = "refund"
    dispute_split = "split"  # (not `split`: that name is str.split)


@dataclass(frozen=True, slots=True)
class Payout:
    destination: str  # raw form
    amount_nano: int


@dataclass(frozen=True, slots=True)
class PayoutEvent:
    """The escrow executed release, refund or split: it is closed now and paid these amounts."""

    deal_id: int
    escrow_address: str
    kind: PayoutKind
    tx_hash: str
    lt: int
    utime: dt.datetime
    initiator: (
        str | None
    )  # who sent the op (the platform, the publisher, anyone after refund_after)
    query_id: int | None
    payouts: tuple[Payout, ...]
    publisher_nano: int  # what reached the deal's publisher wallet
    fee_nano: int  # what reached the fee recipient
    advertiser_nano: int  # what went back to the advertiser (refund, excess, rest of a split)


@dataclass(frozen=True, slots=True)
class BounceEvent:
    """The escrow refused a message (a failed op, an unknown op); bounceable value went back."""

    deal_id: int
    escrow_address: str
    tx_hash: str
    lt: int
    utime: dt.datetime
    sender: str | None
    op: int | None  # 32-bit op code of the refused body, if it had one
    query_id: int | None
    amount_nano: int  # value of the refused message
    returned_nano: int  # value sent back to the sender (0 for a non-bounceable message)
    exit_code: int | None  # the contract's exit code, see contracts/README.md


@dataclass(frozen=True, slots=True)
class WatchedEscrow:
    """An escrow the watcher follows, with the facts its events need."""

    deal_id: int
    address: str  # raw
    late: bool  # money arriving now is late (see ``DepositEvent.late``)
    price_nano: int
    advertiser_wallet: str | None
    publisher_wallet: str | None
    fee_recipient: str | None
    last_lt: int  # newest transaction recorded for it (0: none yet)


class EscrowWatchList(Protocol):
    """Which escrows the watcher follows: the escrow domain decides, from its deals."""

    async def escrows(
        self,
        session: AsyncSession,
        *,
        addresses: Collection[str] | None = None,
        ended_since: dt.datetime | None = None,
    ) -> list[WatchedEscrow]:
        """Escrows whose money is not settled yet. Those of deals that ended before any money
        was held stay followed (a payment can still arrive late); ``ended_since`` limits them to
        those that ended after that time. ``addresses`` restricts the answer to those escrows."""
        ...


class EscrowEventSink(Protocol):
    """Consumer of escrow events; runs inside the transaction that records the chain transaction.

    Implementations only flush (never commit) and must not call the network: whatever they do
    commits together with the record, or not at all.
    """

    async def deposit(self, session: AsyncSession, event: DepositEvent) -> None: ...

    async def payout(self, session: AsyncSession, event: PayoutEvent) -> None: ...

    async def bounce(self, session: AsyncSession, event: BounceEvent) -> None: ...
