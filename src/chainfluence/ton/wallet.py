"""The platform wallet: sends the payout orders (``escrow_actions``) to their escrows, once.

A WalletV5R1 from the mnemonic in settings (in the sandbox, the public sandbox mnemonic, funded by
the local chain). One sender is active at a time (``leader.exclusive``). A pass:

1. Reconciles every open order with the chain before anything is sent: the escrow's state through
   its get-method (closed: never send; the watcher confirms the order from the payout
   transaction, or fails it if the escrow paid otherwise) and the wallet's seqno.
2. An attempt already signed whose seqno is not used yet and whose ``valid_until`` has not passed
   may still land: its exact bytes are broadcast again (a wallet accepts a seqno once, so this can
   never pay twice) and nothing new is signed. Once it expired unused, it can never land, and a new
   attempt is safe. Once its seqno is used, the watcher will see the escrow's answer (payout or
   refusal); if none comes within the delivery timeout, the order is sent again: the contract
   itself refuses a second payout (exit code 402), so a late original costs gas, never money.
3. Everything that needs sending goes out in one external message (v5 takes up to 255), signed
   offline with an explicit seqno and ``valid_until``, and **recorded before it is broadcast**.

So a crash anywhere (before signing, between recording and broadcasting, between broadcasting and
noting it) ends, after the restart, in exactly one payout on chain.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Final, Protocol

from pytoniq_core.boc.address import Address
from pytoniq_core.boc.cell import Cell
from pytoniq_core.tlb.account import StateInit
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from ton_core import NetworkGlobalID

from chainfluence.config import SANDBOX_PLATFORM_MNEMONIC, Settings, TonNetwork
from chainfluence.kit import faults
from chainfluence.kit.faults import FaultPoint
from chainfluence.kit.loops import CycleLog
from chainfluence.kit.time import from_unix, utcnow
from chainfluence.models import EscrowAction, EscrowActionKind, EscrowActionStatus
from chainfluence.ton import orders, repository
from chainfluence.ton.actions import MAX_ATTEMPTS, note
from chainfluence.ton.client import PayoutChain, TonApiError
from chainfluence.ton.escrow import (
    EscrowData,
    EscrowState,
    parse_escrow_initial_data,
    refund_body,
    release_body,
    split_amounts,
    split_body,
    storage_rent_nano,
)
from chainfluence.ton.leader import exclusive
from chainfluence.ton.orders import OrderActor, OrderEvent
from chainfluence.ton.signing import OfflineWallet, OutgoingMessage, WalletVersion
from chainfluence.ton.transactions import raw_address
from chainfluence.ton.watcher import SessionFactory

__all__ = ["PassStats", "PlatformWallet", "op_value_nano", "platform_mnemonic"]

log = logging.getLogger(__name__)

LOCK_NAME: Final = "chainfluence.platform_wallet"
# What an op message carries at least: its gas, and the reserve release/split check for
# (contracts/README.md, "Fees"); whatever is left of it reaches the advertiser.
MIN_OP_VALUE_NANO: Final = 20_000_000
# The most the platform adds to an escrow's balance to pay out, beyond the storage rent due (which
# is computed from the account and added): the deposit's own gas (about 0.0006 TON) and room for
# fees. A bigger gap means the escrow is not funded, and topping it up would pay the publisher
# with the platform's money.
MAX_TOP_UP_NANO: Final = 10_000_000
# Kept in the platform wallet beyond the values sent: its own gas and forwarding fees.
WALLET_FEE_MARGIN_NANO: Final = 50_000_000
_STATE_OF_KIND: Final = {
    EscrowActionKind.release: EscrowState.RELEASED,
    EscrowActionKind.refund: EscrowState.REFUNDED,
    EscrowActionKind.dispute_split: EscrowState.SPLIT,
}


def platform_mnemonic(settings: Settings) -> str | None:
    """The configured mnemonic, or the public sandbox one on the sandbox network."""
    if settings.ton.wallet_mnemonic is not None:
        return settings.ton.wallet_mnemonic.get_secret_value()
    if settings.ton.network is TonNetwork.sandbox:
        return SANDBOX_PLATFORM_MNEMONIC
    return None


def network_id(settings: Settings) -> NetworkGlobalID:
    # The local chain runs the mainnet config (global id -239); v5 wallet ids depend on it.
    if settings.ton.network is TonNetwork.testnet:
        return NetworkGlobalID.TESTNET
    return NetworkGlobalID.MAINNET


def payout_nano(action: EscrowAction, escrow: EscrowData) -> int:
    """What the op pays to the publisher and the fee recipient (a refund: nothing)."""
    if action.kind is EscrowActionKind.refund:
        return 0
    if action.kind is EscrowActionKind.release:
        return escrow.terms.price_nano
    amounts = split_amounts(escrow.terms, action.publisher_share_bps or 0)
    return amounts.publisher_nano + amounts.fee_nano


def op_value_nano(action: EscrowAction, escrow: EscrowData) -> int:
    """The value to attach so the op succeeds (contracts/README.md: ``max(0.02 TON, payout −
    balance + 0.02 TON)``, with the storage rent due already taken from ``escrow``'s balance);
    the unused part ends with the advertiser."""
    shortfall = payout_nano(action, escrow) - escrow.balance_nano
    return max(MIN_OP_VALUE_NANO, shortfall + MIN_OP_VALUE_NANO)


def _op_body(action: EscrowAction, query_id: int) -> Cell:
    if action.kind is EscrowActionKind.release:
        return release_body(query_id)
    if action.kind is EscrowActionKind.refund:
        return refund_body(query_id)
    return split_body(query_id, action.publisher_share_bps or 0)


class _Verdict(Enum):
    send = "send"  # sign a new attempt now
    outstanding = "outstanding"  # a signed message may still land: sign nothing new meanwhile
    wait = "wait"  # waiting for the chain (or the watcher); other orders may go out
    done = "done"
    undeployed = "undeployed"  # no contract at the escrow's address (yet)


@dataclass(slots=True)
class PassStats:
    orders: int = 0
    signed: int = 0
    rebroadcast: int = 0
    waiting: int = 0
    failed: int = 0
    seqno: int | None = None
    broadcast_hashes: set[str] = field(default_factory=set)


class StateInitSource(Protocol):
    """The StateInit (base64 BoC) an order's escrow was created with, if it is known: the
    escrow domain keeps it (``escrow.watchlist.escrow_state_init``)."""

    async def __call__(self, session: AsyncSession, deal_id: int) -> str | None: ...


class PlatformWallet:
    def __init__(
        self,
        *,
        engine: AsyncEngine,
        session_factory: SessionFactory,
        client: PayoutChain,
        wallet: OfflineWallet,
        state_init_of: StateInitSource,
        message_ttl: int = 60,
        expiry_grace: int = 30,
        delivery_timeout: int = 180,
        rebroadcast_every: int = 10,
        batch_limit: int = 100,
    ) -> None:
        if wallet.version is not WalletVersion.v5r1:
            raise ValueError("the platform wallet is a WalletV5R1")
        self.engine = engine
        self.session = session_factory
        self.client = client
        self.wallet = wallet
        self.state_init_of = state_init_of
        self.message_ttl = message_ttl
        self.expiry_grace = dt.timedelta(seconds=expiry_grace)
        self.delivery_timeout = dt.timedelta(seconds=delivery_timeout)
        self.rebroadcast_every = dt.timedelta(seconds=rebroadcast_every)
        self.batch_limit = min(batch_limit, 255)

    @property
    def address(self) -> str:
        return self.wallet.raw_address

    async def process(self) -> PassStats | None:
        """One pass over the open orders, if no other sender is active (None then)."""
        async with exclusive(self.engine, LOCK_NAME) as leader:
            if not leader:
                return None
            return await self._process()

    async def run_forever(self, interval: float, stop: asyncio.Event | None = None) -> None:
        """Cycle every `interval` seconds until `stop` is set (a cycle under way finishes)."""
        stop = stop or asyncio.Event()
        passes = CycleLog(log, "platform wallet pass", outages=(TonApiError,))
        while not stop.is_set():
            try:
                await self.process()
            except Exception as exc:
                passes.failed(exc)
            else:
                passes.succeeded()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval)

    async def _process(self) -> PassStats:
        stats = PassStats()
        async with self.session() as session:
            orders = list(await repository.active_actions(session, limit=self.batch_limit))
        stats.orders = len(orders)
        if not orders:
            return stats
        account = await self.client.get_account(self.address)
        seqno = await self.client.get_seqno(self.address) if account.is_active else 0
        stats.seqno = seqno
        now = utcnow()
        to_send: list[tuple[EscrowAction, EscrowData, StateInit | None]] = []
        outstanding = False
        for order in orders:
            verdict, escrow, state_init = await self._reconcile(order, seqno, now, stats)
            if verdict is _Verdict.outstanding:
                outstanding = True
            elif verdict is _Verdict.send and escrow is not None:
                to_send.append((order, escrow, state_init))
            elif verdict is _Verdict.wait:
                stats.waiting += 1
        if to_send and not outstanding:
            await self._send(
                to_send,
                seqno=seqno,
                account_active=account.is_active,
                balance_nano=account.balance_nano,
                stats=stats,
            )
        return stats

    async def _reconcile(
        self, order: EscrowAction, seqno: int, now: dt.datetime, stats: PassStats
    ) -> tuple[_Verdict, EscrowData | None, StateInit | None]:
        verdict, escrow = await self._reconcile_deployed(order, seqno, now, stats)
        if verdict is not _Verdict.undeployed:
            return verdict, escrow, None
        # Money paid without the StateInit (a wallet that dropped it) waits at the address of an
        # escrow that was never deployed. The op goes with the deal's StateInit: it deploys the
        # escrow, which then runs the op on its whole balance. Nothing there: nothing to send.
        account = await self.client.get_account(order.escrow_address)
        state_init = await self._stored_state_init(order)
        if account.status != "uninit" or account.balance_nano == 0 or state_init is None:
            await self._fail(order, "the escrow was never deployed and holds nothing", stats)
            return _Verdict.done, None, None
        assert state_init.data is not None
        escrow = EscrowData(
            terms=parse_escrow_initial_data(state_init.data),
            state=EscrowState.OPEN,
            balance_nano=account.balance_nano,
        )
        verdict, escrow = await self._check_payable(order, escrow, now, stats)
        return verdict, escrow, state_init if verdict is _Verdict.send else None

    async def _stored_state_init(self, order: EscrowAction) -> StateInit | None:
        async with self.session() as session:
            stored = await self.state_init_of(session, order.deal_id)
        if stored is None:
            return None
        cell = Cell.one_from_boc(base64.b64decode(stored))
        if raw_address(Address((0, cell.hash))) != order.escrow_address:
            return None
        state_init: StateInit = StateInit.deserialize(cell.begin_parse())  # type: ignore[no-untyped-call]
        return state_init

    async def _reconcile_deployed(
        self, order: EscrowAction, seqno: int, now: dt.datetime, stats: PassStats
    ) -> tuple[_Verdict, EscrowData | None]:
        escrow = await self.client.get_escrow_data(order.escrow_address)
        if escrow is None:
            return _Verdict.undeployed, None
        if raw_address(escrow.terms.platform) != self.address:
            await self._fail(order, "the escrow names another platform wallet", stats)
            return _Verdict.done, None
        if escrow.state.is_closed:
            if escrow.state is not _STATE_OF_KIND[order.kind]:
                await self._fail(order, f"the escrow is already {escrow.state.name.lower()}", stats)
                return _Verdict.done, None
            # It paid out as ordered; the watcher confirms the order from that transaction.
            return _Verdict.wait, None
        if order.status is EscrowActionStatus.sent:
            assert order.wallet_seqno is not None
            assert order.valid_until is not None
            if seqno <= order.wallet_seqno:  # the signed message has not been applied
                if now <= order.valid_until + self.expiry_grace:
                    await self._rebroadcast(order, now, stats)
                    return _Verdict.outstanding, None
                reopened = await self._reopen(order, "expired unsent")
            elif now < order.valid_until + self.delivery_timeout:
                return _Verdict.wait, None  # applied: the escrow's answer is on its way
            else:
                reopened = await self._reopen(order, "no answer from the escrow")
            if not reopened:
                return _Verdict.wait, None  # the watcher closed or reopened it meanwhile
        return await self._check_payable(order, escrow, now, stats)

    async def _check_payable(
        self, order: EscrowAction, escrow: EscrowData, now: dt.datetime, stats: PassStats
    ) -> tuple[_Verdict, EscrowData | None]:
        payout = payout_nano(order, escrow)
        if payout - escrow.balance_nano > MAX_TOP_UP_NANO:
            await self._fail(
                order,
                f"the escrow is underfunded: it holds {escrow.balance_nano} nanotons and "
                f"must pay out {payout}",
                stats,
            )
            return _Verdict.done, None
        # The escrow pays its storage rent before it runs the op, out of its balance: after a
        # long hold that alone outgrows the top-up (about 0.01 TON after 1.5 years), so the value
        # attached is computed from what is left of the balance then.
        rent = await self._rent_due(order.escrow_address, now)
        return _Verdict.send, replace(escrow, balance_nano=max(0, escrow.balance_nano - rent))

    async def _rent_due(self, address: str, now: dt.datetime) -> int:
        """The storage rent the escrow owes since its last transaction (0 if unknown)."""
        account = await self.client.get_account(address)
        if account.code is None or account.data is None:
            return 0
        latest = await self.client.get_transactions(address, max_count=1)
        if not latest:
            return 0
        idle = int(now.timestamp()) - latest[-1].utime
        return storage_rent_nano(account.code, account.data, idle)

    async def _rebroadcast(self, order: EscrowAction, now: dt.datetime, stats: PassStats) -> None:
        if order.broadcast_at is not None and now - order.broadcast_at < self.rebroadcast_every:
            return
        assert order.message_boc is not None
        assert order.wallet_seqno is not None
        # Orders sent together share one message: broadcast it once per pass.
        if order.message_hash not in stats.broadcast_hashes:
            try:
                await self.client.send_boc(base64.b64decode(order.message_boc))
            except TonApiError as exc:
                # Not accepted (its seqno just got used, or it is about to expire): the next
                # pass reads the new state.
                log.info("rebroadcast of payout order %s not accepted: %s", order.id, exc)
                return
            stats.broadcast_hashes.add(order.message_hash or "")
            stats.rebroadcast += 1
        async with self.session() as session:
            await repository.mark_broadcast(session, [order.id], order.wallet_seqno)

    async def _reopen(self, order: EscrowAction, reason: str) -> bool:
        """Back to pending: its last attempt can no longer land (or had no effect)."""
        async with self.session() as session:
            locked = await repository.lock_action(session, order.id)
            if (
                locked is None
                or not orders.can(locked, OrderEvent.reopened)
                or locked.wallet_seqno != order.wallet_seqno
            ):
                return False
            orders.move(locked, OrderEvent.reopened, OrderActor.wallet)
            note(locked, "reopened", reason=reason, seqno=locked.wallet_seqno)
        order.status = locked.status
        order.attempts = locked.attempts
        return True

    async def _fail(self, order: EscrowAction, reason: str, stats: PassStats) -> None:
        async with self.session() as session:
            locked = await repository.lock_action(session, order.id)
            if locked is None or not orders.can(locked, OrderEvent.failed):
                return
            orders.move(locked, OrderEvent.failed, OrderActor.wallet)
            locked.error = reason
            note(locked, "failed", reason=reason)
        stats.failed += 1
        log.error("payout order %s (deal %s) failed: %s", order.id, order.deal_id, reason)

    async def _send(
        self,
        batch: Sequence[tuple[EscrowAction, EscrowData, StateInit | None]],
        *,
        seqno: int,
        account_active: bool,
        balance_nano: int,
        stats: PassStats,
    ) -> None:
        ready: list[tuple[EscrowAction, int, int]] = []  # order, query_id, value
        state_inits: dict[int, StateInit] = {}  # by order id: escrows this message deploys
        for order, escrow, state_init in batch:
            if order.attempts >= MAX_ATTEMPTS:
                await self._fail(order, f"gave up after {order.attempts} attempts", stats)
                continue
            query_id = (order.id << 16) | (order.attempts + 1)
            ready.append((order, query_id, op_value_nano(order, escrow)))
            if state_init is not None:
                state_inits[order.id] = state_init
        if not ready:
            return
        needed = sum(value for _, _, value in ready) + WALLET_FEE_MARGIN_NANO
        if balance_nano < needed:
            log.error(
                "platform wallet %s holds %d nanotons, %d needed for %d payout order(s): top it up",
                self.address,
                balance_nano,
                needed,
                len(ready),
            )
            return
        valid_until = int(utcnow().timestamp()) + self.message_ttl
        signed = await self.wallet.sign(
            [
                OutgoingMessage(
                    destination=Address(order.escrow_address),
                    value_nano=value,
                    body=_op_body(order, query_id),
                    state_init=state_inits.get(order.id),
                    bounce=True,  # a refused op returns its value to us
                )
                for order, query_id, value in ready
            ],
            seqno=seqno,
            valid_until=valid_until,
            deploy=not account_active,
        )
        # Record the attempt first: from here on, a crash leaves enough to find this message.
        async with self.session() as session:
            for order, query_id, value in ready:
                locked = await repository.lock_action(session, order.id)
                if (
                    locked is None
                    or not orders.can(locked, OrderEvent.sent)
                    or locked.attempts != order.attempts
                ):
                    raise _OrderChanged(order.id)
                orders.move(locked, OrderEvent.sent, OrderActor.wallet)
                locked.attempts += 1
                locked.query_id = query_id
                locked.wallet_address = self.address
                locked.wallet_seqno = seqno
                locked.valid_until = from_unix(valid_until)
                locked.value_nano = value
                locked.message_boc = signed.boc_b64
                locked.message_hash = signed.normalized_hash
                locked.signed_at = utcnow()
                locked.broadcast_at = None
                locked.error = None
                locked.exit_code = None
                note(locked, "signed", seqno=seqno, query_id=query_id, value_nano=value)
        stats.signed += len(ready)
        try:
            await self.client.send_boc(signed.boc)
        except TonApiError as exc:
            # Recorded as sent: the next pass rebroadcasts it while it is valid, or signs anew.
            log.warning("broadcast of seqno %d failed: %s", seqno, exc)
            return
        faults.reached(FaultPoint.payout_broadcast)
        async with self.session() as session:
            await repository.mark_broadcast(session, [o.id for o, _, _ in ready], seqno)


class _OrderChanged(RuntimeError):
    """An order changed between reading and recording the attempt (another sender?)."""


def platform_wallet_for(settings: Settings) -> OfflineWallet | None:
    mnemonic = platform_mnemonic(settings)
    if mnemonic is None:
        return None
    return OfflineWallet(mnemonic, version=WalletVersion.v5r1, network=network_id(settings))
