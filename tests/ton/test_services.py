"""The chain services as `serve` and `worker` run them: watcher and wallet loops in the runtime."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from chainfluence.bootstrap import build_runtime
from chainfluence.config import Settings
from chainfluence.deals.payouts import order_payout
from chainfluence.models import Deal, EscrowActionKind, EscrowActionStatus
from chainfluence_sandbox.ton import SandboxWallet, TonChain
from tests.ton.chain_harness import TON, create_escrow_deal, load_deal, orders, pay


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_consuming_runtime_watches_deposits_and_sends_payouts_by_itself(
    chain_settings: Settings, chain: TonChain
) -> None:
    settings = chain_settings.model_copy(
        update={
            "ton": chain_settings.ton.model_copy(
                update={"watch_interval_seconds": 0.05, "wallet_interval_seconds": 0.05}
            )
        }
    )
    runtime = build_runtime(settings)
    assert runtime.chain is not None
    assert runtime.chain.wallet is not None
    chain.fund(runtime.chain.wallet.address, 100 * TON)
    advertiser = SandboxWallet.create(chain, balance_nano=50 * TON)
    await runtime.start_consuming()
    try:
        deal = await create_escrow_deal(runtime, advertiser=advertiser)
        await pay(advertiser, deal, 10 * TON)

        async def deposited() -> bool:
            return (await load_deal(runtime, deal)).deposited_nano == 10 * TON

        await eventually(deposited)
        async with runtime.session() as session:
            row = await session.get(Deal, deal.deal_id)
            assert row is not None
            await order_payout(session, row, EscrowActionKind.release)

        async def released() -> bool:
            (order,) = await orders(runtime, deal)
            return order.status is EscrowActionStatus.confirmed

        await eventually(released)
    finally:
        await runtime.close()

    assert chain.balance(deal.terms.publisher) == 10 * TON - TON // 2
