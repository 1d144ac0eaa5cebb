"""Helpers for the escrow contract tests: the deal parties, terms, and `EscrowUnderTest`.

`EscrowUnderTest` drives one escrow account through transactions like the chain would (the first
payment carries the StateInit and deploys it) and checks, for every transaction, that money is
conserved to the nanoton.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from pytoniq_core.boc.address import Address
from pytoniq_core.boc.cell import Cell
from pytoniq_core.tlb.account import StateInit

from chainfluence.ton.escrow import (
    GET_ESCROW_DATA,
    EscrowData,
    EscrowState,
    EscrowTerms,
    EscrowVersion,
    escrow_address,
    escrow_state_init,
    parse_escrow_data,
)
from chainfluence_sandbox.tvm import (
    EMPTY_CELL,
    AccountState,
    AccountStatus,
    Emulator,
    InternalMessage,
    TransactionResult,
)

TON = 1_000_000_000
NOW = 1_760_000_000  # the tests' "today"; the bundled config is from about then
DAY = 86_400
OP_VALUE = 50_000_000  # what a party attaches to an op message for gas (0.05 TON)


def party(name: str) -> Address:
    return Address((0, hashlib.sha256(name.encode()).digest()))


@dataclass(frozen=True)
class Parties:
    platform: Address
    advertiser: Address
    publisher: Address
    fee_recipient: Address
    stranger: Address

    def by_name(self, name: str) -> Address:
        address: Address = getattr(self, name)
        return address


PARTIES = Parties(
    platform=party("platform"),
    advertiser=party("advertiser"),
    publisher=party("publisher"),
    fee_recipient=party("fee recipient"),
    stranger=party("stranger"),
)
SENDERS = ("platform", "advertiser", "publisher", "fee_recipient", "stranger")


def make_terms(
    *,
    price_nano: int = 10 * TON,
    fee_nano: int = TON // 2,
    refund_after: int = NOW + 7 * DAY,
    deal_id: int = 42,
) -> EscrowTerms:
    return EscrowTerms(
        deal_id=deal_id,
        platform=PARTIES.platform,
        advertiser=PARTIES.advertiser,
        publisher=PARTIES.publisher,
        fee_recipient=PARTIES.fee_recipient,
        price_nano=price_nano,
        fee_nano=fee_nano,
        refund_after=refund_after,
    )


def assert_money_conserved(before: AccountState, result: TransactionResult) -> None:
    """What came in == what is left + what went out + every fee, to the nanoton."""
    sent = sum(m.value_nano + m.fwd_fee_nano for m in result.out_messages)
    assert before.balance_nano + result.in_value_nano == (
        result.account.balance_nano + sent + result.total_fees_nano
    )


def payouts(result: TransactionResult) -> dict[Address, int]:
    """Value sent to each destination by one transaction (bounces included)."""
    paid: dict[Address, int] = {}
    for message in result.out_messages:
        assert message.dest is not None
        paid[message.dest] = paid.get(message.dest, 0) + message.value_nano
    return paid


class EscrowUnderTest:
    def __init__(
        self,
        emulator: Emulator,
        terms: EscrowTerms,
        now: int = NOW,
        version: EscrowVersion | None = None,
    ) -> None:
        self.emulator = emulator
        self.terms = terms
        self.version = EscrowVersion.current() if version is None else version
        self.address = escrow_address(terms, self.version)
        self.state_init: StateInit | None = escrow_state_init(terms, self.version)
        self.account = AccountState.nonexistent(self.address)
        self.now = now
        self.history: list[TransactionResult] = []

    def send(
        self,
        sender: Address,
        value_nano: int,
        body: Cell = EMPTY_CELL,
        *,
        bounce: bool = True,
        bounced: bool = False,
        after: int = 0,
    ) -> TransactionResult:
        """Deliver one internal message `after` seconds from the previous one."""
        self.now += after
        deployed = self.account.status is AccountStatus.ACTIVE
        message = InternalMessage(
            src=sender,
            dest=self.address,
            value_nano=value_nano,
            body=body,
            bounce=bounce,
            bounced=bounced,
            state_init=None if deployed else self.state_init,
            created_at=self.now,
        )
        before = self.account
        result = self.emulator.execute(before, message, now=self.now)
        assert_money_conserved(before, result)
        self.account = result.account
        self.history.append(result)
        return result

    def deposit(
        self,
        value_nano: int,
        body: Cell = EMPTY_CELL,
        *,
        sender: Address = PARTIES.advertiser,
        bounce: bool = False,  # wallets pay a contract that is not deployed yet non-bounceable
    ) -> TransactionResult:
        result = self.send(sender, value_nano, body, bounce=bounce)
        assert result.success
        return result

    def state(self) -> EscrowState:
        """The state alone (for data that `EscrowTerms` would refuse to decode)."""
        result = self.emulator.run_get_method(self.account, GET_ESCROW_DATA, now=self.now)
        return EscrowState(result.stack[4])

    def data(self) -> EscrowData:
        result = self.emulator.run_get_method(self.account, GET_ESCROW_DATA, now=self.now)
        return parse_escrow_data(result.stack)
