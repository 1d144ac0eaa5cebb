"""Whole deals through the public interfaces only: HTTP API, the Telegram emulator, the TON chain.

Two people log in, a channel is listed, a campaign gets an application, it is accepted, the
advertiser pays the escrow, the creative goes through a change request and an approval, the bot
auto-posts, the hold passes and the publisher is paid — and the variations where it goes wrong.
"""

from __future__ import annotations

import datetime as dt

from chainfluence.ton.escrow import EscrowOp
from chainfluence.ton.wallet import MIN_OP_VALUE_NANO as PLATFORM_OP_VALUE
from tests.deals.world import (
    ADVERTISER_ID,
    OPERATOR_ID,
    PUBLISHER_ID,
    TON,
    World,
)
from tests.factories import eventually


def _names(events: list[dict[str, object]]) -> list[str]:
    return [str(e["event"]) for e in events]


def _in_order(events: list[str], expected: list[str]) -> bool:
    """`expected` appears in `events` in this order (other events may come between)."""
    position = 0
    for name in events:
        if position < len(expected) and name == expected[position]:
            position += 1
    return position == len(expected)


async def test_happy_path_pays_the_publisher_and_the_timeline_tells_the_story(
    world: World,
) -> None:
    advertiser_before = world.advertiser_wallet().balance_nano
    deal_id = await world.make_deal(amount="10")
    pending = await world.deal(deal_id)
    request = await world.pay(deal_id)
    await world.until(deal_id, "in_escrow")
    await world.agree_creative(deal_id)

    # The scheduled time comes: the bot publishes on its own.
    await world.pass_time(dt.timedelta(hours=1, seconds=5))
    live = await world.until(deal_id, "live")
    [post] = await world.control.messages(world.channel.id, sent_by_bot=True)
    # The hold of the test format passes: one random probe in each half, then the final check.
    await world.pass_time(dt.timedelta(seconds=150))
    await world.until(deal_id, "live")
    await world.pass_time(dt.timedelta(seconds=160))
    released = await world.until(deal_id, "released", timeout=30)

    fee = int(pending["platformFeeNano"])
    assert fee == 10 * TON * 500 // 10_000
    assert world.chain.balance(world.publisher_key.address) == 10 * TON - fee
    assert world.chain.balance(world.fee_recipient) == fee
    assert world.payouts(request["rawAddress"], EscrowOp.RELEASE) == 1
    # The advertiser paid the price and its wallet's fees; the escrow's leftover (value the
    # platform attached for the payout's fees, unused) came back with the release.
    spent = advertiser_before - world.advertiser_wallet().balance_nano
    assert 10 * TON - TON // 100 < spent < 10 * TON + TON // 10
    assert live["postId"] == post.message_id
    assert post.text == "Chainfluence: Telegram ads with escrow."
    assert released["txHash"]

    await world.api(
        "POST",
        f"/v1/deals/{deal_id}/reviews",
        ADVERTISER_ID,
        expect=201,
        json={"rating": 5, "comment": "Posted on time."},
    )
    await world.api(
        "POST", f"/v1/deals/{deal_id}/reviews", PUBLISHER_ID, expect=201, json={"rating": 4}
    )
    channel = await world.api("GET", f"/v1/channels/{world.channel.id}", PUBLISHER_ID)
    channel_reviews = (await world.client.get(f"/v1/channels/{world.channel.id}/reviews")).json()
    twice = await world.client.post(
        f"/v1/deals/{deal_id}/reviews",
        json={"rating": 1},
        headers=await world.headers(ADVERTISER_ID),
    )
    publisher_stats = await world.api("GET", "/v1/users/me/stats", PUBLISHER_ID)
    advertiser_profile = await world.api("GET", f"/v1/users/{ADVERTISER_ID}", PUBLISHER_ID)
    assert [(r["rating"], r["comment"]) for r in channel_reviews] == [(5, "Posted on time.")]
    assert twice.status_code == 409
    assert channel["rating"] == 5.0
    assert channel["reviewCount"] == 1
    assert publisher_stats["publisher"]["dealsCompleted"] == 1
    assert publisher_stats["publisher"]["totalEarnedNano"] == str(10 * TON - fee)
    assert advertiser_profile["rating"] == 4.0

    story = _names(await world.events(deal_id))
    assert _in_order(
        story,
        [
            "deal_created",
            "escrow_terms_fixed",
            "chain.deposit",
            "deposit_confirmed",
            "creative_changes_requested",
            "creative_submitted",
            "creative_approved",
            "publish",
            "post_check_passed",
            "hold_passed",
            "release_ordered",
            "chain.payout",
            "release_confirmed",
        ],
    ), story
    assert story.count("post_check_passed") >= 2


async def test_post_deleted_during_the_hold_refunds_the_advertiser(world: World) -> None:
    deal = await world.live_deal()
    before = world.advertiser_wallet().balance_nano

    await world.control.delete_post(world.channel.id, deal["postId"], by_user_id=PUBLISHER_ID)
    await world.pass_time(dt.timedelta(seconds=310))
    refunded = await world.until(deal["id"], "refunded", timeout=30)

    events = await world.events(deal["id"])
    violation = next(e for e in events if e["event"] == "violation")
    assert violation["details"]["reason"] == "The post was deleted before its hold ended."
    assert refunded["refundedAt"] is not None
    # The escrow's whole balance came back: the price, plus what the platform attached to the
    # refund op beyond its gas (at most 0.02 TON, see ton/wallet.py).
    returned = world.advertiser_wallet().balance_nano - before
    assert 10 * TON < returned <= 10 * TON + PLATFORM_OP_VALUE
    assert world.chain.balance(world.publisher_key.address) == 0


async def test_no_deposit_by_the_deadline_cancels_the_deal(world: World) -> None:
    deal_id = await world.make_deal()

    await world.pass_time(dt.timedelta(hours=1, minutes=1))
    cancelled = await world.until(deal_id, "cancelled")

    assert cancelled["cancelledAt"] is not None
    events = await world.events(deal_id)
    expired = next(e for e in events if e["event"] == "deposit_expired")
    assert expired["details"]["reason"] == (
        "The escrow did not receive the full price by the deposit deadline."
    )
    inbox = await world.api("GET", "/v1/notifications", ADVERTISER_ID)
    assert any(n["type"] == "deal_cancelled" and n["relatedId"] == deal_id for n in inbox)


async def test_bot_demoted_before_posting_refunds_with_the_reason(world: World) -> None:
    deal_id = await world.funded_deal()
    await world.agree_creative(deal_id)

    await world.control.demote_bot(world.channel.id, by_user_id=PUBLISHER_ID)
    await world.pass_time(dt.timedelta(hours=1, seconds=5))
    failed = await eventually(
        lambda: world.deal(deal_id),
        lambda deal: "publish_failed" in [e["event"] for e in deal["timeline"]],
    )
    first_failure = next(e for e in failed["timeline"] if e["event"] == "publish_failed")
    # Retried until the posting deadline (a day after the scheduled time), then refunded.
    await world.pass_time(dt.timedelta(hours=25))
    await world.until(deal_id, "refunded", timeout=30)

    assert failed["status"] == "in_escrow"
    assert failed["postId"] is None
    assert "bot" in first_failure["details"]["reason"]
    expired = next(e for e in await world.events(deal_id) if e["event"] == "posting_expired")
    assert expired["details"]["reason"] == (
        f"The post could not be published by the deadline: {first_failure['details']['reason']}"
    )
    assert await world.control.messages(world.channel.id, sent_by_bot=True) == []
    inbox = await world.api("GET", "/v1/notifications", PUBLISHER_ID)
    assert any(n["type"] == "posting_reminder" for n in inbox)


async def test_dispute_decided_as_a_split_pays_both_parties(world: World) -> None:
    deal_id = await world.funded_deal()
    request = await world.api("POST", f"/v1/deals/{deal_id}/payment", ADVERTISER_ID, expect=409)
    assert request["code"] == "deal_not_pending"
    before = world.advertiser_wallet().balance_nano

    disputed = await world.api(
        "POST",
        f"/v1/deals/{deal_id}/dispute",
        ADVERTISER_ID,
        json={"reason": "We cannot agree on the creative."},
    )
    queue = await world.api("GET", "/v1/admin/disputes", OPERATOR_ID)
    resolved = await world.api(
        "POST",
        f"/v1/admin/disputes/{deal_id}/resolve",
        OPERATOR_ID,
        json={"outcome": "split", "publisherShareBps": 6000, "note": "Both share the blame."},
    )
    done = await world.until(deal_id, "split", timeout=30)

    assert disputed["status"] == "disputed"
    assert [d["id"] for d in queue] == [deal_id]
    assert resolved["status"] == "splitting"
    fee = int(done["platformFeeNano"])
    publisher_share = 10 * TON * 6000 // 10_000 - fee * 6000 // 10_000
    assert world.chain.balance(world.publisher_key.address) == publisher_share
    assert world.chain.balance(world.fee_recipient) == fee * 6000 // 10_000
    returned = world.advertiser_wallet().balance_nano - before
    assert 4 * TON < returned <= 4 * TON + PLATFORM_OP_VALUE
    story = _names(await world.events(deal_id))
    assert _in_order(story, ["dispute", "resolve_split", "split_ordered", "split_confirmed"])
