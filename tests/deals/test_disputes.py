"""Disputes: opened by a party, pausing monitoring and payout, decided by an operator through the
admin API or the bot, with the decision and its author on the timeline."""

from __future__ import annotations

import datetime as dt

from chainfluence.telegram.lifecycle import polling
from tests.deals.world import ADVERTISER_ID, OPERATOR_ID, PUBLISHER_ID, TON, World
from tests.factories import eventually


async def test_a_dispute_pauses_verification_and_an_operator_release_pays_the_publisher(
    world: World,
) -> None:
    deal = await world.live_deal()
    await world.api(
        "POST",
        f"/v1/deals/{deal['id']}/dispute",
        PUBLISHER_ID,
        json={"reason": "The advertiser asks for changes the creative never had."},
    )

    # The post comes down while the dispute is open: monitoring is paused, nothing is refunded.
    await world.control.delete_post(world.channel.id, deal["postId"], by_user_id=PUBLISHER_ID)
    await world.pass_time(dt.timedelta(seconds=310))
    paused = await world.deal(deal["id"])
    resolved = await world.api(
        "POST",
        f"/v1/admin/disputes/{deal['id']}/resolve",
        OPERATOR_ID,
        json={"outcome": "release", "note": "The post ran its full top hours."},
    )
    released = await world.until(deal["id"], "released", timeout=30)

    assert paused["status"] == "disputed"
    assert paused["disputeReason"] == "The advertiser asks for changes the creative never had."
    assert paused["disputedBy"] == str(PUBLISHER_ID)
    assert resolved["status"] == "verified"
    assert resolved["disputeOutcome"]["outcome"] == "release"
    fee = int(released["platformFeeNano"])
    assert world.chain.balance(world.publisher_key.address) == 10 * TON - fee
    decision = next(e for e in await world.events(deal["id"]) if e["event"] == "resolve_release")
    assert decision["actorType"] == "operator"
    assert decision["actorId"] == str(OPERATOR_ID)
    assert "post_check_passed" not in [e["event"] for e in await world.events(deal["id"])]


async def test_an_operator_decides_a_refund_in_the_bot(world: World) -> None:
    deal_id = await world.funded_deal()
    await world.api(
        "POST", f"/v1/deals/{deal_id}/dispute", ADVERTISER_ID, json={"reason": "No answer."}
    )
    operator = await world.control.create_user("Olivia", username="ops", user_id=OPERATOR_ID)
    stranger = await world.control.create_user("Sam", username="sam", user_id=5_000_009)

    async with polling(world.runtime, timeout=1):
        await _ask(world, operator.id, "/start")
        await _ask(world, stranger.id, "/start")
        refused = await _ask(world, stranger.id, f"/resolve {deal_id} release")
        listing = await _ask(world, operator.id, "/disputes")
        await world.control.send_to_bot(operator.id, f"/evidence {deal_id}")
        [pack] = await world.documents(operator.id)
        not_a_deal = await _ask(world, operator.id, "/evidence 999999")
        not_for_strangers = await _ask(world, stranger.id, f"/evidence {deal_id}")
        usage = await _ask(world, operator.id, f"/resolve {deal_id} split 20000")
        decided = await _ask(world, operator.id, f"/resolve {deal_id} refund")
    await world.until(deal_id, "refunded", timeout=30)

    assert listing.startswith("Open disputes:")
    assert f"#{deal_id} · 10 TON · from in_escrow: No answer." in listing
    assert usage.startswith("Usage: /resolve")
    assert "The record: Usage: /evidence <deal id>" in listing
    assert pack.document is not None
    assert pack.document["file_name"] == f"chainfluence-deal-{deal_id}-evidence.json"
    assert pack.caption == f"Deal #{deal_id} (disputed): its signed evidence pack."
    assert not_a_deal == "There is no deal #999999."
    assert not_for_strangers == "Only Chainfluence operators can use this command."
    assert decided == f"Deal #{deal_id}: decided (refund); it is now refunding."
    assert refused == "Only Chainfluence operators can use this command."
    decision = next(e for e in await world.events(deal_id) if e["event"] == "resolve_refund")
    assert decision["actorId"] == str(OPERATOR_ID)


async def test_admin_routes_are_for_operators_and_refuse_bad_decisions(world: World) -> None:
    deal_id = await world.funded_deal()

    not_operator = await world.client.get(
        "/v1/admin/disputes", headers=await world.headers(ADVERTISER_ID)
    )
    not_disputed = await world.client.post(
        f"/v1/admin/disputes/{deal_id}/resolve",
        json={"outcome": "refund"},
        headers=await world.headers(OPERATOR_ID),
    )
    await world.api("POST", f"/v1/deals/{deal_id}/dispute", ADVERTISER_ID, json={"reason": "Why?"})
    split_without_share = await world.client.post(
        f"/v1/admin/disputes/{deal_id}/resolve",
        json={"outcome": "split"},
        headers=await world.headers(OPERATOR_ID),
    )
    unknown_outcome = await world.client.post(
        f"/v1/admin/disputes/{deal_id}/resolve",
        json={"outcome": "keep"},
        headers=await world.headers(OPERATOR_ID),
    )
    overview = await world.api("GET", "/v1/admin/overview", OPERATOR_ID)

    assert not_operator.status_code == 403
    assert not_disputed.status_code == 409
    assert split_without_share.status_code == 422
    assert unknown_outcome.status_code == 422
    assert (await world.deal(deal_id))["status"] == "disputed"
    assert {"status": "disputed", "count": 1, "amountNano": str(10 * TON)} in overview["deals"]
    assert overview["heldNano"] == str(10 * TON)


async def _ask(world: World, user_id: int, command: str) -> str:
    """Send a command to the bot as `user_id`; return the bot's answer."""
    if command == "/start":
        before = 0  # their chat with the bot begins now
        await world.control.start_bot(user_id)
    else:
        before = len(await world.control.messages(user_id, sent_by_bot=True))
        await world.control.send_to_bot(user_id, command)
    answers = await eventually(
        lambda: world.control.messages(user_id, sent_by_bot=True),
        lambda messages: len(messages) > before,
    )
    newest = max(answers, key=lambda m: m.message_id)
    return newest.text or ""
