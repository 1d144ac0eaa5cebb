"""Helpers for the chain tests: the deal factory, balances, and what the local chain recorded."""

from __future__ import annotations

import base64
import datetime as dt
import itertools
from dataclasses import dataclass

from pytoniq_core.boc.address import Address
from pytoniq_core.tlb.account import StateInit
from sqlalchemy import select

from chainfluence.formats import AdFormat
from chainfluence.kit.time import utcnow
from chainfluence.models import (
    ChainTransaction,
    Channel,
    Deal,
    DealEvent,
    DealStatus,
    EscrowAction,
    User,
)
from chainfluence.runtime import Runtime
from chainfluence.ton.escrow import (
    EscrowOp,
    EscrowTerms,
    EscrowVersion,
    escrow_address,
    escrow_state_init,
)
from chainfluence.ton.transactions import raw_address
from chainfluence_sandbox.ton import SandboxWallet, TonChain

TON = 1_000_000_000
CURRENT_VERSION = EscrowVersion.current()
_ids = itertools.count(1)


@dataclass(frozen=True)
class EscrowDeal:
    deal_id: int
    terms: EscrowTerms
    address: str  # raw
    version: EscrowVersion = CURRENT_VERSION

    @property
    def state_init(self) -> StateInit:
        return escrow_state_init(self.terms, self.version)


def fresh_address(label: str = "payee") -> Address:
    """An address nothing exists at, so what it receives is exactly its balance."""
    import hashlib

    return Address((0, hashlib.sha256(f"{label}-{next(_ids)}-{utcnow()}".encode()).digest()))


async def create_escrow_deal(
    runtime: Runtime,
    *,
    advertiser: SandboxWallet,
    price_nano: int = 10 * TON,
    fee_nano: int | None = None,
    publisher: Address | None = None,
    fee_recipient: Address | None = None,
    status: DealStatus = DealStatus.pending,
    refund_after: dt.datetime | None = None,
    version: EscrowVersion | None = None,
) -> EscrowDeal:
    """TEST FACTORY (chain tests only).

    Deals are made by accepting an offer, and their escrow terms are frozen by the payment
    request; both belong to other packages. The chain side only needs a deal row with frozen
    escrow terms, so this inserts one directly: a ``pending`` deal (or ``status``) whose escrow
    address is computed from its terms exactly as the payment request computes it.
    """
    assert runtime.chain is not None
    assert runtime.chain.wallet is not None
    n = next(_ids) + 10_000 * (utcnow().microsecond % 1000)
    publisher = publisher or fresh_address("publisher")
    fee_recipient = fee_recipient or fresh_address("fee")
    fee_nano = price_nano // 20 if fee_nano is None else fee_nano
    refund_after = refund_after or utcnow() + dt.timedelta(days=7)
    async with runtime.session() as session:
        advertiser_id, publisher_id = 7_000_000_000 + 2 * n, 7_000_000_001 + 2 * n
        for user_id in (advertiser_id, publisher_id):
            session.add(User(id=user_id, first_name=f"user {user_id}", member_since=utcnow()))
        await session.flush()
        channel = Channel(id=-1_000_000_000_000 - n, owner_id=publisher_id, title=f"channel {n}")
        session.add(channel)
        await session.flush()
        deal = Deal(
            channel_id=channel.id,
            publisher_id=publisher_id,
            advertiser_id=advertiser_id,
            format=AdFormat.test,
            status=status,
            price_nano=price_nano,
            platform_fee_nano=fee_nano,
            deposited_nano=0,
            cancelled_at=utcnow() if status is DealStatus.cancelled else None,
        )
        session.add(deal)
        await session.flush()
        terms = EscrowTerms(
            deal_id=deal.id,
            platform=Address(runtime.chain.wallet.address),
            advertiser=advertiser.address,
            publisher=publisher,
            fee_recipient=fee_recipient,
            price_nano=price_nano,
            fee_nano=fee_nano,
            refund_after=int(refund_after.timestamp()),
        )
        version = EscrowVersion.current() if version is None else version
        address = raw_address(escrow_address(terms, version))
        deal.escrow_address = address
        deal.escrow_state_init = base64.b64encode(
            escrow_state_init(terms, version).serialize().to_boc()  # type: ignore[no-untyped-call]
        ).decode()
        deal.advertiser_wallet = advertiser.raw_address
        deal.publisher_wallet = raw_address(publisher)
        deal.fee_recipient = raw_address(fee_recipient)
        deal.refund_after = refund_after
        await session.flush()
    return EscrowDeal(deal_id=deal.id, terms=terms, address=address, version=version)


async def pay(
    wallet: SandboxWallet, deal: EscrowDeal, amount_nano: int, *, comment: str | None = None
) -> str:
    """Pay the escrow like the payment request tells a wallet to: its StateInit included."""
    return await wallet.transfer(
        Address(deal.address), amount_nano, state_init=deal.state_init, comment=comment
    )


async def recorded(runtime: Runtime, deal: EscrowDeal) -> list[ChainTransaction]:
    async with runtime.session() as session:
        statement = (
            select(ChainTransaction)
            .where(ChainTransaction.account == deal.address)
            .order_by(ChainTransaction.lt)
        )
        return list((await session.execute(statement)).scalars())


async def timeline(runtime: Runtime, deal: EscrowDeal) -> list[DealEvent]:
    async with runtime.session() as session:
        statement = select(DealEvent).where(DealEvent.deal_id == deal.deal_id)
        return list((await session.execute(statement.order_by(DealEvent.id))).scalars())


async def load_deal(runtime: Runtime, deal: EscrowDeal) -> Deal:
    async with runtime.session() as session:
        row = await session.get(Deal, deal.deal_id)
        assert row is not None
        return row


async def orders(runtime: Runtime, deal: EscrowDeal) -> list[EscrowAction]:
    async with runtime.session() as session:
        statement = select(EscrowAction).where(EscrowAction.deal_id == deal.deal_id)
        return list((await session.execute(statement.order_by(EscrowAction.id))).scalars())


def payout_transactions(chain: TonChain, deal: EscrowDeal, op: EscrowOp) -> list[object]:
    """Successful escrow transactions that executed ``op`` (what actually paid out)."""
    found = []
    for stored in chain.transactions(deal.address):
        message = stored.tx.in_msg
        if message is not None and message.op == op and not stored.tx.aborted:
            found.append(stored)
    return found
