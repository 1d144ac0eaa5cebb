"""Crash and restart safety: the app killed between any two steps of a deal, or a Telegram
answer lost after the post went out, still ends in exactly one post and exactly one payout."""

from __future__ import annotations

import datetime as dt

from chainfluence.ton.escrow import EscrowOp
from tests.deals.world import TON, World, running
from tests.factories import eventually


async def test_killing_the_app_between_every_step_still_ends_in_one_post_and_one_payout(
    stopped_world: World,
) -> None:
    world = stopped_world
    deal_id = 0
    request: dict[str, object] = {}

    async def make(w: World) -> None:
        nonlocal deal_id
        deal_id = await w.make_deal()

    async def pay(w: World) -> None:
        request.update(await w.pay(deal_id))

    async def funded(w: World) -> None:
        await w.until(deal_id, "in_escrow")

    async def creative(w: World) -> None:
        await w.agree_creative(deal_id)

    async def scheduled_time(w: World) -> None:
        await w.pass_time(dt.timedelta(hours=1, seconds=5), settle=0.05)

    async def live(w: World) -> None:
        # A publishing attempt killed half-way keeps its lease; the next one waits it out.
        await w.pass_time(dt.timedelta(seconds=w.settings.deals.publish_lease_seconds + 1))
        await w.until(deal_id, "live")

    async def first_half(w: World) -> None:
        await w.pass_time(dt.timedelta(seconds=150), settle=0.05)

    async def second_half(w: World) -> None:
        await w.pass_time(dt.timedelta(seconds=160), settle=0.05)

    async def released(w: World) -> None:
        await w.until(deal_id, "released", timeout=30)

    for step in (make, pay, funded, creative, scheduled_time, live, first_half, second_half):
        async with running(world, drain=False):
            await step(world)
    async with running(world):
        await released(world)
        deal = await world.deal(deal_id)
        posts = await world.control.messages(world.channel.id, sent_by_bot=True)

    fee = int(deal["platformFeeNano"])
    assert len(posts) == 1
    assert world.payouts(str(request["rawAddress"]), EscrowOp.RELEASE) == 1
    assert world.chain.balance(world.publisher_key.address) == 10 * TON - fee
    assert world.chain.balance(world.fee_recipient) == fee


async def test_a_lost_answer_from_telegram_is_found_not_posted_twice(
    stopped_world: World,
) -> None:
    world = stopped_world
    async with running(world):
        deal_id = await world.funded_deal()
        await world.agree_creative(deal_id)
        # Telegram posts the ad, but its answer never reaches us.
        await world.control.fail_next(method="sendMessage", error_code=502, after_effect=True)
        await world.pass_time(dt.timedelta(hours=1, seconds=5))
        unknown = await eventually(
            lambda: world.deal(deal_id),
            lambda deal: "publish_failed" in [e["event"] for e in deal["timeline"]],
        )
        after_lease = dt.timedelta(seconds=world.settings.deals.publish_lease_seconds + 1)
        await world.pass_time(after_lease)
        live = await world.until(deal_id, "live")
        posts = await world.control.messages(world.channel.id, sent_by_bot=True)

    assert [e["event"] for e in unknown["timeline"]].count("publish_failed") == 1
    assert len(posts) == 1
    assert live["postId"] == posts[0].message_id
