"""End to end through the product: a deal made from an offer, its payment request paid by the
advertiser's own (proven) wallet on the local chain, the watcher recording it, the release paying
the publisher's proven wallet and the fee recipient to the nanoton."""

from __future__ import annotations

import asyncio
import base64

from pytoniq_core.boc.address import Address
from pytoniq_core.boc.cell import Cell
from pytoniq_core.tlb.account import StateInit

from chainfluence.config import Settings
from chainfluence.deals.payouts import order_payout
from chainfluence.models import ChainTxKind, Deal, EscrowActionKind, EscrowActionStatus
from chainfluence.runtime import Runtime
from chainfluence.ton.signing import OfflineWallet, WalletVersion
from chainfluence.ton.transactions import raw_address
from chainfluence_sandbox.ton import SandboxWallet, TonChain
from tests.conftest import app_client, runtime_of
from tests.factories import create_channel, create_deal, login
from tests.ton.chain_harness import TON, EscrowDeal, fresh_address, orders, recorded
from tests.wallets.ton_connect_wallet import TonConnectWallet, link_wallet

ADVERTISER, PUBLISHER, CHANNEL = 2101, 3101, -1001000000777


async def watch(runtime: Runtime) -> None:
    """One watcher cycle as the active watcher (the app's own loop may hold the role a moment)."""
    assert runtime.chain is not None
    for _ in range(500):
        if await runtime.chain.watcher.run_cycle() is not None:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the watcher role stayed busy")


async def test_paying_the_payment_request_then_releasing_pays_everyone_exactly(
    chain_settings: Settings, chain: TonChain
) -> None:
    fee_recipient = fresh_address("fee")
    settings = chain_settings.model_copy(
        update={
            "ton": chain_settings.ton.model_copy(
                update={
                    "fee_recipient": raw_address(fee_recipient),
                    # The loops stay out of the way: this test runs cycles itself.
                    "watch_interval_seconds": 3600,
                    "wallet_interval_seconds": 3600,
                }
            )
        }
    )
    async with app_client(settings) as client:
        runtime = runtime_of(client)
        assert runtime.chain is not None
        assert runtime.chain.wallet is not None
        chain.fund(runtime.chain.wallet.address, 100 * TON)
        advertiser = await login(client, ADVERTISER)
        publisher = await login(client, PUBLISHER)
        await create_channel(runtime, owner_id=PUBLISHER, channel_id=CHANNEL, prices={"2/48": "10"})
        advertiser_key = TonConnectWallet(version="v5r1")
        await link_wallet(client, advertiser, advertiser_key)
        publisher_wallet = await link_wallet(client, publisher, TonConnectWallet(version="v5r1"))
        deal_id = await create_deal(
            client, advertiser=advertiser, acceptor=publisher, channel_id=CHANNEL, amount="10"
        )
        await watch(runtime)

        response = await client.post(f"/v1/deals/{deal_id}/payment", headers=advertiser)
        assert response.status_code == 200, response.text
        request = response.json()
        (message,) = request["transaction"]["messages"]
        # The advertiser's wallet app (same key as the proven wallet) sends that message.
        wallet = SandboxWallet(
            chain,
            OfflineWallet(private_key=advertiser_key.seed, version=WalletVersion.v5r1),
        )
        assert wallet.raw_address == advertiser_key.raw
        chain.fund(wallet.address, 20 * TON)
        await wallet.transfer(
            Address(message["address"]),
            int(message["amount"]),
            body=Cell.one_from_boc(base64.b64decode(message["payload"])),
            state_init=StateInit.deserialize(
                Cell.one_from_boc(base64.b64decode(message["stateInit"])).begin_parse()
            ),
        )
        await watch(runtime)

        async with runtime.session() as session:
            deal = await session.get(Deal, deal_id)
            assert deal is not None
            assert deal.deposited_nano == 10 * TON
            await order_payout(session, deal, EscrowActionKind.release)
        await runtime.queue.drain()
        await watch(runtime)

        escrow = EscrowDeal(deal_id=deal_id, terms=None, address=request["rawAddress"])  # type: ignore[arg-type]
        records = await recorded(runtime, escrow)
        (order,) = await orders(runtime, escrow)

    assert [r.kind for r in records] == [ChainTxKind.deposit, ChainTxKind.release]
    deposit = records[0]
    assert deposit.amount_nano == 10 * TON
    assert deposit.comment == f"Chainfluence deal #{deal_id}"
    assert deposit.details["categories"] == ["full"]  # from the expected sender, the exact price
    assert order.status is EscrowActionStatus.confirmed
    fee = int(request["terms"]["feeNano"])
    assert chain.balance(publisher_wallet.address) == 10 * TON - fee
    assert chain.balance(fee_recipient) == fee
