"""The platform wallet on the local chain: payouts to the nanoton, never twice, and exactly one
payout after a crash anywhere between recording a send and recording that it went out."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from chainfluence.bootstrap import build_runtime
from chainfluence.config import Settings
from chainfluence.deals.payouts import order_payout
from chainfluence.kit.time import advance
from chainfluence.models import Deal, EscrowActionKind, EscrowActionStatus
from chainfluence.runtime import Runtime
from chainfluence.ton.escrow import (
    EscrowOp,
    EscrowVersion,
    escrow_version_of,
    refund_body,
    split_amounts,
)
from chainfluence.ton.wallet import PlatformWallet
from chainfluence_sandbox.ton import SandboxWallet, TonChain
from chainfluence_sandbox.tvm import AccountStatus
from tests.ton.chain_harness import (
    TON,
    EscrowDeal,
    create_escrow_deal,
    load_deal,
    orders,
    pay,
    payout_transactions,
    timeline,
)


def wallet_of(runtime: Runtime) -> PlatformWallet:
    assert runtime.chain is not None
    assert runtime.chain.wallet is not None
    return runtime.chain.wallet


async def watch(runtime: Runtime) -> None:
    assert runtime.chain is not None
    await runtime.chain.watcher.run_cycle()


async def funded_deal(
    runtime: Runtime, advertiser: SandboxWallet, *, price_nano: int = 10 * TON, paid: int = 10 * TON
) -> EscrowDeal:
    await watch(runtime)
    deal = await create_escrow_deal(runtime, advertiser=advertiser, price_nano=price_nano)
    await pay(advertiser, deal, paid)
    await watch(runtime)
    return deal


async def order(
    runtime: Runtime, deal: EscrowDeal, kind: EscrowActionKind, share: int | None = None
) -> int:
    """Order a payout as the deal lifecycle does, then let the queued send job run."""
    async with runtime.session() as session:
        row = await session.get(Deal, deal.deal_id)
        assert row is not None
        action = await order_payout(session, row, kind, publisher_share_bps=share)
        action_id = action.id
    await runtime.queue.drain()
    return action_id


def seqno(chain: TonChain, runtime: Runtime) -> int:
    address = wallet_of(runtime).address
    if chain.account(address).status.value != "active":
        return 0
    value: int = chain.run_get_method(address, "seqno").stack[0]
    return value


async def test_release_pays_publisher_and_fee_recipient_exactly_and_the_excess_back(
    chain_runtime: Runtime, chain: TonChain, advertiser: SandboxWallet
) -> None:
    deal = await funded_deal(chain_runtime, advertiser, paid=10 * TON + TON // 2)

    await order(chain_runtime, deal, EscrowActionKind.release)
    await watch(chain_runtime)

    assert chain.balance(deal.terms.publisher) == 10 * TON - TON // 2  # price − fee
    assert chain.balance(deal.terms.fee_recipient) == TON // 2
    assert chain.balance(deal.address) == 0
    (release,) = payout_transactions(chain, deal, EscrowOp.RELEASE)
    (done,) = await orders(chain_runtime, deal)
    assert done.status is EscrowActionStatus.confirmed
    assert done.tx_hash == release.tx.hash
    excess = {m.destination: m.value_nano for m in release.tx.out_msgs}[advertiser.raw_address]
    # The overpayment (0.5 TON) less deposit gas, plus what is left of the op's value.
    assert TON // 2 - TON // 100 < excess < TON // 2 + done.value_nano
    row = await load_deal(chain_runtime, deal)
    assert row.payout_tx_hash == release.tx.hash
    events = await timeline(chain_runtime, deal)
    # What the chain did, and the moves it made (the deal lifecycle's sink).
    assert [e.event for e in events] == [
        "chain.deposit",
        "deposit_confirmed",
        "chain.payout",
        "release_confirmed",
    ]
    payout = events[2]
    assert payout.details["publisher_nano"] == str(10 * TON - TON // 2)
    assert payout.details["advertiser_nano"] == str(excess)


async def test_refund_returns_the_whole_balance_to_the_advertiser(
    chain_runtime: Runtime, chain: TonChain, advertiser: SandboxWallet
) -> None:
    deal = await funded_deal(chain_runtime, advertiser)
    held = chain.balance(deal.address)
    before = advertiser.balance_nano

    await order(chain_runtime, deal, EscrowActionKind.refund)
    await watch(chain_runtime)

    (refund,) = payout_transactions(chain, deal, EscrowOp.REFUND)
    assert refund.result is not None
    (sent,) = refund.tx.out_msgs
    assert sent.destination == advertiser.raw_address
    # Everything the escrow held and the op brought, less the refund's own fees, went back.
    assert sent.value_nano + sent.fwd_fee_nano + refund.tx.total_fees_nano == (
        held + refund.tx.in_msg.value_nano  # type: ignore[union-attr]
    )
    assert chain.balance(deal.address) == 0
    (received,) = [s for s in chain.transactions(advertiser.address) if s.tx.lt > refund.tx.lt]
    assert advertiser.balance_nano - before == sent.value_nano - received.tx.total_fees_nano
    (done,) = await orders(chain_runtime, deal)
    assert done.status is EscrowActionStatus.confirmed


async def test_split_pays_the_shares_of_the_price(
    chain_runtime: Runtime, chain: TonChain, advertiser: SandboxWallet
) -> None:
    deal = await funded_deal(chain_runtime, advertiser)

    await order(chain_runtime, deal, EscrowActionKind.dispute_split, share=6_000)
    await watch(chain_runtime)

    shares = split_amounts(deal.terms, 6_000)
    assert chain.balance(deal.terms.publisher) == shares.publisher_nano
    assert chain.balance(deal.terms.fee_recipient) == shares.fee_nano
    (done,) = await orders(chain_runtime, deal)
    assert done.status is EscrowActionStatus.confirmed


async def test_second_release_order_sends_nothing(
    chain_runtime: Runtime, chain: TonChain, advertiser: SandboxWallet
) -> None:
    deal = await funded_deal(chain_runtime, advertiser)
    first = await order(chain_runtime, deal, EscrowActionKind.release)
    await watch(chain_runtime)
    seqno_after_release = seqno(chain, chain_runtime)

    second = await order(chain_runtime, deal, EscrowActionKind.release)
    stats = await wallet_of(chain_runtime).process()

    assert second == first
    assert stats is not None
    assert stats.orders == 0
    assert seqno(chain, chain_runtime) == seqno_after_release
    assert len(payout_transactions(chain, deal, EscrowOp.RELEASE)) == 1
    (done,) = await orders(chain_runtime, deal)
    assert done.attempts == 1


async def test_refund_ordered_after_the_release_fails_without_sending(
    chain_runtime: Runtime, chain: TonChain, advertiser: SandboxWallet
) -> None:
    deal = await funded_deal(chain_runtime, advertiser)
    await order(chain_runtime, deal, EscrowActionKind.release)
    await watch(chain_runtime)
    seqno_after_release = seqno(chain, chain_runtime)

    await order(chain_runtime, deal, EscrowActionKind.refund)

    release, refund = await orders(chain_runtime, deal)
    assert release.status is EscrowActionStatus.confirmed
    assert refund.status is EscrowActionStatus.failed
    assert refund.error == "the escrow is already released"
    assert seqno(chain, chain_runtime) == seqno_after_release


async def test_release_of_an_underfunded_escrow_is_refused_before_sending(
    chain_runtime: Runtime, chain: TonChain, advertiser: SandboxWallet
) -> None:
    deal = await funded_deal(chain_runtime, advertiser, paid=5 * TON)

    await order(chain_runtime, deal, EscrowActionKind.release)

    (refused,) = await orders(chain_runtime, deal)
    assert refused.status is EscrowActionStatus.failed
    assert refused.error is not None
    assert "underfunded" in refused.error
    assert seqno(chain, chain_runtime) == 0  # the wallet never sent anything
    assert chain.balance(deal.terms.publisher) == 0


async def test_payout_by_someone_else_first_supersedes_the_order(
    chain_runtime: Runtime, chain: TonChain, advertiser: SandboxWallet
) -> None:
    """Anyone may refund after refund_after; the platform's lost release then never lands."""
    deal = await funded_deal(chain_runtime, advertiser)
    chain.auto_mine = False
    await order(chain_runtime, deal, EscrowActionKind.release)
    chain.drop_pending()  # the release is lost on its way
    anyone = SandboxWallet.create(chain, balance_nano=TON)
    chain.mine()
    advance(dt.timedelta(days=8))

    await anyone.transfer(deal.address, TON // 10, body=refund_body(1), bounce=True)
    chain.mine()
    await watch(chain_runtime)

    (superseded,) = await orders(chain_runtime, deal)
    assert superseded.status is EscrowActionStatus.failed
    assert superseded.error == "the escrow was closed by a refund first"
    assert payout_transactions(chain, deal, EscrowOp.RELEASE) == []


# ---- crashes ------------------------------------------------------------------------------------


class SimulatedCrash(Exception):
    """The process dies here."""


@pytest.fixture
async def make_runtime(
    chain_settings: Settings,
) -> AsyncIterator[Callable[[], Awaitable[Runtime]]]:
    """Processes over the same database and chain; a crashed job is not retried (it died)."""
    started: list[Runtime] = []
    settings = chain_settings.model_copy(
        update={"jobs": chain_settings.jobs.model_copy(update={"max_attempts": 1})}
    )

    async def start() -> Runtime:
        runtime = build_runtime(settings)
        started.append(runtime)
        return runtime

    yield start
    for runtime in started:
        await runtime.queue.drain()
        await runtime.close()


CRASH_POINTS = {
    "after recording, before broadcasting": "before",
    "after broadcasting, before recording it": "after",
}


@pytest.mark.parametrize("applied_before_restart", [False, True], ids=["in flight", "applied"])
@pytest.mark.parametrize("crash_point", CRASH_POINTS)
async def test_crash_between_sending_and_recording_ends_in_exactly_one_payout(
    chain_runtime: Runtime,
    chain: TonChain,
    advertiser: SandboxWallet,
    make_runtime: Callable[[], Awaitable[Runtime]],
    crash_point: str,
    applied_before_restart: bool,
) -> None:
    deal = await funded_deal(chain_runtime, advertiser)
    chain.auto_mine = False  # messages wait in the mempool until mine(): a payout "in flight"
    crashing = await make_runtime()
    client = wallet_of(crashing).client
    real_send = client.send_boc

    async def send_then_crash(boc: bytes) -> None:
        if CRASH_POINTS[crash_point] == "after":
            await real_send(boc)
        raise SimulatedCrash

    client.send_boc = send_then_crash  # type: ignore[method-assign]
    await order(crashing, deal, EscrowActionKind.release)
    (signed,) = await orders(chain_runtime, deal)
    assert signed.status is EscrowActionStatus.sent
    assert signed.broadcast_at is None  # what the crash kept from being recorded
    await crashing.close()
    if applied_before_restart:
        chain.mine()

    restarted = await make_runtime()
    stats = await wallet_of(restarted).process()
    chain.mine()
    await wallet_of(restarted).process()
    await watch(restarted)

    assert stats is not None
    assert stats.signed == 0  # the signed message was reused, never a second one signed
    assert len(payout_transactions(chain, deal, EscrowOp.RELEASE)) == 1
    assert chain.balance(deal.terms.publisher) == 10 * TON - TON // 2
    assert seqno(chain, restarted) == 1
    (done,) = await orders(restarted, deal)
    assert done.status is EscrowActionStatus.confirmed
    assert done.attempts == 1


async def test_lost_message_is_sent_again_only_after_it_expired(
    chain_runtime: Runtime, chain: TonChain, advertiser: SandboxWallet
) -> None:
    deal = await funded_deal(chain_runtime, advertiser)
    chain.auto_mine = False
    await order(chain_runtime, deal, EscrowActionKind.release)
    chain.drop_pending()  # lost on the way
    wallet = wallet_of(chain_runtime)

    second = dt.timedelta(seconds=1)
    advance(wallet.rebroadcast_every + second)
    still_valid = await wallet.process()
    chain.drop_pending()  # the rebroadcast is lost too
    advance(dt.timedelta(seconds=wallet.message_ttl) + wallet.expiry_grace)
    expired = await wallet.process()
    chain.mine()
    await watch(chain_runtime)

    assert still_valid is not None
    assert (still_valid.signed, still_valid.rebroadcast) == (0, 1)
    assert expired is not None
    assert expired.signed == 1
    (done,) = await orders(chain_runtime, deal)
    assert done.status is EscrowActionStatus.confirmed
    assert done.attempts == 2
    assert len(payout_transactions(chain, deal, EscrowOp.RELEASE)) == 1


async def test_orders_waiting_together_go_out_in_one_wallet_message(
    chain_runtime: Runtime, chain: TonChain, advertiser: SandboxWallet
) -> None:
    first = await funded_deal(chain_runtime, advertiser)
    second = await funded_deal(chain_runtime, advertiser)
    async with chain_runtime.session() as session:
        for deal, kind in ((first, EscrowActionKind.release), (second, EscrowActionKind.refund)):
            row = await session.get(Deal, deal.deal_id)
            assert row is not None
            await order_payout(session, row, kind)
    await chain_runtime.queue.drain()
    await watch(chain_runtime)

    assert seqno(chain, chain_runtime) == 1
    (sent,) = [s for s in chain.transactions(wallet_of(chain_runtime).address) if s.tx.out_msgs]
    assert {m.destination for m in sent.tx.out_msgs} == {first.address, second.address}
    for deal in (first, second):
        (done,) = await orders(chain_runtime, deal)
        assert done.status is EscrowActionStatus.confirmed


async def test_a_v1_escrow_and_a_v2_escrow_are_released_side_by_side(
    chain_runtime: Runtime, chain: TonChain, advertiser: SandboxWallet
) -> None:
    """Escrows deployed with v1 stay on chain: the same wallet, watcher and orders serve both."""
    await watch(chain_runtime)
    deals = {}
    for version in EscrowVersion:
        deal = await create_escrow_deal(chain_runtime, advertiser=advertiser, version=version)
        await pay(advertiser, deal, 10 * TON)
        deals[version] = deal
    await watch(chain_runtime)
    async with chain_runtime.session() as session:
        for deal in deals.values():
            row = await session.get(Deal, deal.deal_id)
            assert row is not None
            await order_payout(session, row, EscrowActionKind.release)
    await chain_runtime.queue.drain()
    await watch(chain_runtime)

    for version, deal in deals.items():
        code = chain.account(deal.address).code
        assert code is not None
        assert escrow_version_of(code) is version
        assert chain.balance(deal.terms.publisher) == 10 * TON - TON // 2
        assert chain.balance(deal.terms.fee_recipient) == TON // 2
        assert chain.balance(deal.address) == 0
        (release,) = payout_transactions(chain, deal, EscrowOp.RELEASE)
        (done,) = await orders(chain_runtime, deal)
        assert done.status is EscrowActionStatus.confirmed
        assert done.tx_hash == release.tx.hash
        row = await load_deal(chain_runtime, deal)
        assert row.payout_tx_hash == release.tx.hash
        assert "release_confirmed" in [e.event for e in await timeline(chain_runtime, deal)]


async def test_release_after_a_long_hold_pays_the_storage_rent_on_top(
    chain_runtime: Runtime, chain: TonChain, advertiser: SandboxWallet
) -> None:
    """Idle 1.5 years, an exactly paid escrow owes about 0.01 TON of rent, collected before the
    op runs: the wallet counts it, so the release goes out once and succeeds."""
    deal = await funded_deal(chain_runtime, advertiser)
    advance(dt.timedelta(days=550))

    await order(chain_runtime, deal, EscrowActionKind.release)
    await watch(chain_runtime)

    (release,) = payout_transactions(chain, deal, EscrowOp.RELEASE)
    assert release.tx.storage_fees_nano > 10_000_000 - 2_000_000  # about 0.0104 TON
    assert chain.balance(deal.terms.publisher) == 10 * TON - TON // 2
    assert chain.balance(deal.terms.fee_recipient) == TON // 2
    (done,) = await orders(chain_runtime, deal)
    assert done.status is EscrowActionStatus.confirmed
    assert done.attempts == 1


async def test_refund_of_an_escrow_paid_without_its_state_init_deploys_it_with_the_op(
    chain_runtime: Runtime, chain: TonChain, advertiser: SandboxWallet
) -> None:
    """A wallet that drops the StateInit leaves the money on an undeployed address: the refund
    carries the deal's StateInit, so the escrow deploys and returns everything at once."""
    await watch(chain_runtime)
    deal = await create_escrow_deal(chain_runtime, advertiser=advertiser)
    await advertiser.transfer(deal.address, 10 * TON)  # non-bounceable, no StateInit
    await watch(chain_runtime)
    assert chain.account(deal.address).status is AccountStatus.UNINIT

    await order(chain_runtime, deal, EscrowActionKind.refund)
    await watch(chain_runtime)

    assert chain.account(deal.address).status is AccountStatus.ACTIVE
    (refund,) = payout_transactions(chain, deal, EscrowOp.REFUND)
    (back,) = refund.tx.out_msgs
    assert back.destination == advertiser.raw_address
    assert 10 * TON - TON // 100 < back.value_nano < 10 * TON + TON // 10
    assert chain.balance(deal.address) == 0
    (done,) = await orders(chain_runtime, deal)
    assert done.status is EscrowActionStatus.confirmed


async def test_refund_of_an_escrow_nobody_paid_sends_nothing(
    chain_runtime: Runtime, chain: TonChain, advertiser: SandboxWallet
) -> None:
    await watch(chain_runtime)
    deal = await create_escrow_deal(chain_runtime, advertiser=advertiser)

    await order(chain_runtime, deal, EscrowActionKind.refund)
    await watch(chain_runtime)

    (failed,) = await orders(chain_runtime, deal)
    assert failed.status is EscrowActionStatus.failed
    assert failed.error == "the escrow was never deployed and holds nothing"
    assert seqno(chain, chain_runtime) == 0  # the wallet never sent anything
    assert chain.account(deal.address).status is AccountStatus.NONEXIST
