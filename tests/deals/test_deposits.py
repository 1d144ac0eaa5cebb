"""Deposits as the chain delivers them: partial, completed, over, late, from someone else; and the
parties walking away before or after the money arrives."""

from __future__ import annotations

import base64
import datetime as dt

from pytoniq_core.boc.address import Address
from pytoniq_core.boc.cell import Cell
from pytoniq_core.tlb.account import StateInit

from chainfluence.ton.escrow import EscrowOp
from chainfluence.ton.wallet import MIN_OP_VALUE_NANO
from chainfluence_sandbox.ton import SandboxWallet
from tests.deals.world import ADVERTISER_ID, PUBLISHER_ID, TON, World


async def test_a_partial_deposit_shows_what_is_missing_and_the_rest_funds_the_deal(
    world: World,
) -> None:
    deal_id = await world.make_deal(amount="10")
    await world.pay(deal_id, amount_nano=4 * TON)
    partial = await _eventually_deposited(world, deal_id, 4 * TON)

    request = await world.api("POST", f"/v1/deals/{deal_id}/payment", ADVERTISER_ID)
    await world.advertiser_wallet().transfer(Address(request["address"]), 6 * TON)
    funded = await world.until(deal_id, "in_escrow")

    assert partial["status"] == "pending"
    assert partial["missingNano"] == str(6 * TON)
    assert funded["missingNano"] == "0"
    assert funded["depositedNano"] == str(10 * TON)
    inbox = await world.api("GET", "/v1/notifications", ADVERTISER_ID)
    assert any("6 TON missing" in n["title"] for n in inbox)


async def _eventually_deposited(world: World, deal_id: int, amount: int) -> dict[str, object]:
    for _ in range(200):
        deal = await world.deal(deal_id)
        if deal["depositedNano"] == str(amount):
            return deal
        await world.pass_time(dt.timedelta(0), settle=0.05)
    raise AssertionError(f"deposit of {amount} not recorded")


async def test_overpayment_comes_back_to_the_advertiser_with_the_release(world: World) -> None:
    deal_id = await world.make_deal(amount="10")
    request = await world.pay(deal_id, amount_nano=13 * TON)
    funded = await world.until(deal_id, "in_escrow")
    await world.agree_creative(deal_id)
    await world.pass_time(dt.timedelta(hours=1, seconds=5))
    await world.until(deal_id, "live")
    before = world.advertiser_wallet().balance_nano
    await world.pass_time(dt.timedelta(seconds=150))
    await world.pass_time(dt.timedelta(seconds=160))
    released = await world.until(deal_id, "released", timeout=30)

    fee = int(released["platformFeeNano"])
    assert funded["depositedNano"] == str(13 * TON)
    assert world.chain.balance(world.publisher_key.address) == 10 * TON - fee
    excess = world.advertiser_wallet().balance_nano - before
    assert 3 * TON - TON // 100 < excess <= 3 * TON + MIN_OP_VALUE_NANO
    assert world.payouts(request["rawAddress"], EscrowOp.RELEASE) == 1


async def test_a_payment_from_another_wallet_counts_and_is_flagged(world: World) -> None:
    deal_id = await world.make_deal(amount="10")
    request = await world.api("POST", f"/v1/deals/{deal_id}/payment", ADVERTISER_ID)
    friend = SandboxWallet.create(world.chain, balance_nano=50 * TON)

    # The advertiser forwards the payment link; a friend's wallet pays it (StateInit included).
    (message,) = request["transaction"]["messages"]
    await friend.transfer(
        Address(message["address"]),
        int(message["amount"]),
        state_init=StateInit.deserialize(
            Cell.one_from_boc(base64.b64decode(message["stateInit"])).begin_parse()
        ),
    )
    funded = await world.until(deal_id, "in_escrow")

    deposit = next(e for e in funded["timeline"] if e["event"] == "chain.deposit")
    confirmed = next(e for e in funded["timeline"] if e["event"] == "deposit_confirmed")
    assert "unexpected_sender" in deposit["details"]["categories"]
    assert confirmed["details"]["from_unexpected_sender"] is True


async def test_money_arriving_after_a_cancel_goes_back_to_the_advertiser(world: World) -> None:
    deal_id = await world.make_deal(amount="10")
    request = await world.api("POST", f"/v1/deals/{deal_id}/payment", ADVERTISER_ID)
    cancelled = await world.api(
        "POST", f"/v1/deals/{deal_id}/cancel", PUBLISHER_ID, json={"reason": "Sold out."}
    )
    before = world.advertiser_wallet().balance_nano

    await world.pay(deal_id, request=request)  # the wallet app still had the request open
    await _eventually_refunded(world, request["rawAddress"])

    assert cancelled["status"] == "cancelled"
    assert cancelled["closeReason"] == "Sold out."
    final = await world.deal(deal_id)
    assert final["status"] == "cancelled"
    events = [e["event"] for e in final["timeline"]]
    assert "refund_ordered" in events
    returned = world.advertiser_wallet().balance_nano - before
    # Paid 10 TON (plus wallet fees), got the escrow's balance back.
    assert -TON // 10 < returned <= MIN_OP_VALUE_NANO


async def _eventually_refunded(world: World, escrow: str) -> None:
    for _ in range(400):
        if world.payouts(escrow, EscrowOp.REFUND) == 1:
            return
        await world.pass_time(dt.timedelta(0), settle=0.05)
    raise AssertionError("the late payment was not refunded")


async def test_the_publisher_declining_a_funded_deal_refunds_the_advertiser(
    world: World,
) -> None:
    deal_id = await world.funded_deal()

    declined = await world.api(
        "POST", f"/v1/deals/{deal_id}/reject", PUBLISHER_ID, json={"reason": "Channel paused."}
    )
    refunded = await world.until(deal_id, "refunded", timeout=30)

    assert declined["status"] == "refunding"
    assert refunded["closeReason"] == "Channel paused."
    inbox = await world.api("GET", "/v1/notifications", ADVERTISER_ID)
    assert any(n["type"] == "deal_declined" for n in inbox)
    assert any(n["type"] == "funds_refunded" for n in inbox)
