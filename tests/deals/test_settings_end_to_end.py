"""A whole deal on a running app configured away from the defaults: a 7.3 % fee (730 bps, not the
default 500) and a 30-minute hold for the test format (not the default 300 s), with a price whose
fee does not divide evenly. The fee is frozen into the deal and its escrow, and the chain pays
exactly price − fee to the publisher and fee to the fee recipient, to the nanoton."""

from __future__ import annotations

import datetime as dt

from chainfluence.ton.escrow import EscrowOp
from tests.deals.world import World, running

FEE_BPS = 730
HOLD_SECONDS = 1800
PRICE_NANO = 7_777_777_777
# 7,777,777,777 × 730 / 10,000 = 567,777,777.7…: the platform keeps the floor.
FEE_NANO = 567_777_777


async def test_a_non_default_fee_and_hold_are_what_the_chain_pays_and_waits(
    stopped_world: World,
) -> None:
    world = stopped_world
    settings = world.settings
    world.settings = settings.model_copy(
        update={
            "ton": settings.ton.model_copy(update={"fee_bps": FEE_BPS}),
            "deals": settings.deals.model_copy(update={"test_hold_seconds": HOLD_SECONDS}),
        }
    )
    async with running(world):
        deal_id = await world.make_deal(amount="7.777777777")
        made = await world.deal(deal_id)
        request = await world.pay(deal_id)
        await world.until(deal_id, "in_escrow")
        await world.agree_creative(deal_id)
        await world.pass_time(dt.timedelta(hours=1, seconds=5))
        live = await world.until(deal_id, "live")
        # Past the default hold and most of this one: still live, still checked.
        await world.pass_time(dt.timedelta(seconds=HOLD_SECONDS - 100))
        await world.pass_time(dt.timedelta(seconds=40))
        still_live = await world.deal(deal_id)
        await world.pass_time(dt.timedelta(seconds=70))
        released = await world.until(deal_id, "released", timeout=30)

    assert made["platformFeeNano"] == str(FEE_NANO)
    assert made["amountNano"] == str(PRICE_NANO)
    assert request["terms"]["feeNano"] == str(FEE_NANO)
    assert int(request["transaction"]["messages"][0]["amount"]) >= PRICE_NANO
    assert live["duration"] == HOLD_SECONDS
    hold_until = dt.datetime.fromisoformat(live["holdUntil"]).timestamp()
    assert hold_until - live["postedAt"] == HOLD_SECONDS
    assert still_live["status"] == "live"
    assert released["platformFeeNano"] == str(FEE_NANO)
    assert world.received(world.publisher_key.address) == PRICE_NANO - FEE_NANO
    assert world.received(world.fee_recipient) == FEE_NANO
    assert world.payouts(request["rawAddress"], EscrowOp.RELEASE) == 1
