"""Accepting an edit of a live ad, through the emulators and the HTTP API.

The channel's owner edits the ad post in the Telegram emulator; the next random check of the post
(the test format's 300 s hold has one in each half: at 7.5-142.5 s and 157.5-292.5 s, then the
final one at 300 s) finds it, and the deal waits in `edit_pending` with the old and new text and
hashes. The advertiser accepts (the hold goes on with the edited post as the reference,
and the publisher is paid) or refuses, or lets the window pass (the advertiser is refunded).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest

from chainfluence.kit.time import utcnow
from chainfluence.models import Deal
from chainfluence.ton.escrow import EscrowOp
from tests.conftest import runtime_of
from tests.deals.table_spec import ADVERTISER
from tests.deals.test_party_moves import ROLES_BY_ID, _moves
from tests.deals.world import ADVERTISER_ID, PUBLISHER_ID, TON, World
from tests.factories import create_channel, create_deal, login

CREATIVE_TEXT = "Chainfluence: Telegram ads with escrow."


def _names(events: list[dict[str, Any]]) -> list[str]:
    return [str(e["event"]) for e in events]


async def _edit(world: World, deal: dict[str, Any], text: str) -> None:
    """The channel's owner edits the post in Telegram."""
    await world.control.edit_post(
        world.channel.id, deal["postId"], text=text, by_user_id=PUBLISHER_ID
    )


async def _post(world: World, deal_id: int, path: str, user_id: int) -> httpx.Response:
    return await world.client.post(
        f"/v1/deals/{deal_id}{path}", headers=await world.headers(user_id)
    )


async def test_accepted_edits_keep_the_deal_and_the_publisher_is_paid(world: World) -> None:
    deal = await world.live_deal()
    publisher_view = await world.api("GET", f"/v1/deals/{deal['id']}", PUBLISHER_ID)
    publisher_inbox = await world.api("GET", "/v1/notifications", PUBLISHER_ID)

    await _edit(world, deal, "Chainfluence: Telegram ads with escrow. Now on v2!")
    await world.pass_time(dt.timedelta(seconds=143))  # the first check
    paused = await world.until(deal["id"], "edit_pending")
    campaign = await world.api("GET", f"/v1/campaigns/{paused['campaignId']}", ADVERTISER_ID)
    not_the_publishers = await _post(world, deal["id"], "/edit/accept", PUBLISHER_ID)
    accepted = await world.api("POST", f"/v1/deals/{deal['id']}/edit/accept", ADVERTISER_ID)
    twice = await _post(world, deal["id"], "/edit/accept", ADVERTISER_ID)
    after_twice = await world.deal(deal["id"])
    # A second edit takes the same path: the second check finds it.
    await _edit(world, deal, "Chainfluence: escrow for Telegram ads.")
    await world.pass_time(dt.timedelta(seconds=150))
    again = await world.until(deal["id"], "edit_pending")
    await world.api("POST", f"/v1/deals/{deal['id']}/edit/accept", ADVERTISER_ID)
    # The final check compares the post with the accepted version: it passes.
    await world.pass_time(dt.timedelta(seconds=10))
    released = await world.until(deal["id"], "released", timeout=30)

    # The publisher was warned before editing: in the deal and when the ad went live.
    assert (
        "An edit pauses the deal until the advertiser accepts it" in (publisher_view["editNotice"])
    )
    assert "within 2 h" in publisher_view["editNotice"]
    live_note = next(n for n in publisher_inbox if n["type"] == "post_published")
    assert "An edit pauses the deal until the advertiser accepts it" in live_note["body"]
    edit = paused["pendingEdit"]
    assert (edit["oldText"], edit["newText"]) == (
        CREATIVE_TEXT,
        "Chainfluence: Telegram ads with escrow. Now on v2!",
    )
    assert edit["oldHash"] != edit["newHash"]
    assert edit["oldHash"].startswith("0x")
    assert len(edit["newHash"]) == 66
    respond_by = dt.datetime.fromisoformat(edit["respondBy"])
    detected_at = dt.datetime.fromisoformat(edit["detectedAt"])
    assert respond_by - detected_at == dt.timedelta(hours=2)
    assert campaign["liveCount"] == 1  # the edited ad is still up
    assert not_the_publishers.status_code == 403
    assert not_the_publishers.json()["message"] == (
        "Only the advertiser can accept an edit of this deal."
    )
    assert accepted["status"] == "live"
    assert accepted["pendingEdit"] is None
    assert twice.status_code == 409
    assert twice.json()["message"] == "Cannot accept an edit of a deal that is live."
    assert len(after_twice["timeline"]) == len(accepted["timeline"])
    # The second edit's old version is the first accepted one.
    assert again["pendingEdit"]["oldText"] == edit["newText"]
    assert again["pendingEdit"]["oldHash"] == edit["newHash"]

    fee = int(released["platformFeeNano"])
    assert world.chain.balance(world.publisher_key.address) == 10 * TON - fee
    events = await world.events(deal["id"])
    names = _names(events)
    assert names.count("edit_detected") == 2
    assert names.count("edit_accepted") == 2
    published = next(e for e in events if e["event"] == "publish")
    final = next(e for e in events if e["event"] == "hold_passed")
    # The final check expected the second accepted version, not the published one, and saw it.
    assert final["details"]["expected_fingerprint"] == final["details"]["seen_fingerprint"]
    assert final["details"]["expected_fingerprint"] != published["details"]["fingerprint"]
    assert names[names.index("publish") :].count("post_check_passed") == 1  # the final one
    assert names.index("hold_passed") > max(i for i, n in enumerate(names) if n == "edit_accepted")
    inbox = await world.api("GET", "/v1/notifications", ADVERTISER_ID)
    edited = [n for n in inbox if n["type"] == "post_edited" and n["relatedId"] == deal["id"]]
    assert len(edited) == 2  # one per edit found; the publisher hears of each acceptance
    publisher_edited = [
        n
        for n in await world.api("GET", "/v1/notifications", PUBLISHER_ID)
        if n["type"] == "post_edited"
    ]
    assert len(publisher_edited) == 4
    assert _moves(events, ROLES_BY_ID) >= {("edit_pending", "edit_accepted", ADVERTISER, "live")}


async def test_an_edit_found_at_the_end_of_the_hold_and_accepted_later_is_paid(
    world: World,
) -> None:
    deal = await world.live_deal()
    await _edit(world, deal, "Chainfluence: Telegram ads with escrow (edited).")
    # The whole hold passes: the one check that runs is the final one, and it finds the edit.
    await world.pass_time(dt.timedelta(seconds=310))
    paused = await world.until(deal["id"], "edit_pending")
    # An hour later, still inside the window, the advertiser accepts: the final check runs again.
    await world.pass_time(dt.timedelta(hours=1))
    await world.api("POST", f"/v1/deals/{deal['id']}/edit/accept", ADVERTISER_ID)
    released = await world.until(deal["id"], "released", timeout=30)

    events = await world.events(deal["id"])
    found = next(e for e in events if e["event"] == "edit_detected")
    final = next(e for e in events if e["event"] == "hold_passed")
    assert found["details"]["final"] is True
    assert dt.datetime.fromisoformat(paused["holdUntil"]) < dt.datetime.fromisoformat(
        final["details"]["checked_at"]
    )
    assert final["details"]["final"] is True
    assert final["details"]["seen_fingerprint"] == final["details"]["expected_fingerprint"]
    assert world.chain.balance(world.publisher_key.address) == 10 * TON - int(
        released["platformFeeNano"]
    )


async def test_refused_or_unanswered_edits_refund_the_advertiser(world: World) -> None:
    # Two deals go live together (each live_deal() would move the clock past the other's hold).
    deal_ids = [await world.funded_deal(), await world.funded_deal()]
    for deal_id in deal_ids:
        await world.agree_creative(deal_id)
    await world.pass_time(dt.timedelta(hours=1, seconds=5))
    refused, unanswered = [await world.until(deal_id, "live") for deal_id in deal_ids]

    await _edit(world, refused, "Something else entirely")
    await _edit(world, unanswered, "Something else again")
    await world.pass_time(dt.timedelta(seconds=143))
    await world.until(refused["id"], "edit_pending")
    await world.until(unanswered["id"], "edit_pending")
    moved = await world.api("POST", f"/v1/deals/{refused['id']}/edit/refuse", ADVERTISER_ID)
    await world.until(refused["id"], "refunded", timeout=30)
    # 90 minutes on the other edit still waits; past two hours, the advertiser is refunded.
    await world.pass_time(dt.timedelta(minutes=90))
    waiting = await world.deal(unanswered["id"])
    await world.pass_time(dt.timedelta(minutes=31))
    expired = await world.until(unanswered["id"], "refunded", timeout=30)

    assert moved["status"] == "refunding"
    assert moved["closeReason"] == "The advertiser refused the edit of the post."
    assert waiting["status"] == "edit_pending"
    assert expired["closeReason"] == "The advertiser did not accept the edit of the post in time."
    assert world.chain.balance(world.publisher_key.address) == 0
    for deal in (refused, unanswered):
        escrow = (await world.deal(deal["id"]))["escrowAddress"]
        assert world.payouts(escrow, EscrowOp.REFUND) == 1
    story = _names(await world.events(unanswered["id"]))
    tail = ["edit_detected", "edit_expired", "refund_ordered", "chain.payout", "refund_confirmed"]
    assert story[story.index("edit_detected") :] == tail, story
    assert _moves(await world.events(refused["id"]), ROLES_BY_ID) == {
        ("edit_pending", "edit_refused", ADVERTISER, "refunding")
    }
    inbox = await world.api("GET", "/v1/notifications", PUBLISHER_ID)
    assert any(n["type"] == "post_violation" and n["relatedId"] == unanswered["id"] for n in inbox)


@pytest.mark.parametrize("status", ["live", "edit_pending"])
async def test_an_ad_whose_edit_waits_keeps_its_top_hours(
    client: httpx.AsyncClient, status: str
) -> None:
    # A 2/48 ad holds the top of the channel for two hours; one whose edit waits for the
    # advertiser may still be accepted, so another ad does not go out over it either.
    advertiser_id, publisher_id = 6401, 6402
    channel_id = -1006400000001 - (status == "live")
    advertiser = await login(client, advertiser_id)
    publisher = await login(client, publisher_id)
    await create_channel(runtime_of(client), owner_id=publisher_id, channel_id=channel_id)
    held, waiting = [
        await create_deal(
            client,
            advertiser=advertiser,
            acceptor=publisher,
            channel_id=channel_id,
            status=deal_status,
        )
        for deal_status in (status, "in_escrow")
    ]
    top_until = utcnow() + dt.timedelta(hours=2)
    async with runtime_of(client).session() as session:
        deal = await session.get(Deal, held)
        assert deal is not None
        deal.top_until = top_until
    submitted = await client.post(
        f"/v1/deals/{waiting}/creatives", json={"text": "Second ad."}, headers=advertiser
    )
    approved = await client.post(
        f"/v1/deals/{waiting}/creatives/{submitted.json()['version']}/approve", headers=publisher
    )

    posted = await client.post(f"/v1/deals/{waiting}/post", headers=publisher)

    assert approved.status_code == 200, approved.text
    assert posted.status_code == 409, posted.text
    assert posted.json()["code"] == "top_slot_taken"
    assert top_until.strftime("%Y-%m-%d %H:%M UTC") in posted.json()["message"]
