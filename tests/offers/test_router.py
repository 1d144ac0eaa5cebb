"""Offers over HTTP: who may apply and book, what terms are valid, who sees what, expiry,
notifications, concurrent accepts, and deals of the same shape from both directions."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import httpx
import pytest

from chainfluence.kit import time as clock
from chainfluence.offers.jobs import sweep_expired
from tests.conftest import runtime_of
from tests.factories import login
from tests.offers.world import (
    ADVERTISER,
    PUBLISHER,
    STRANGER,
    in_days,
    list_channel,
    make_world,
    today_plus,
)


def past_midnight() -> dt.timedelta:
    """How far to move the clock so that today (UTC) has just ended (tokens stay valid)."""
    now = clock.utcnow()
    midnight = dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(), dt.UTC)
    return midnight - now + dt.timedelta(minutes=1)


async def test_application_has_the_mini_app_shape_and_reaches_the_advertiser(
    client: httpx.AsyncClient,
) -> None:
    world = await make_world(client)

    response = await world.apply(proposedDate=today_plus(3), message="Happy to help")

    assert response.status_code == 201, response.text
    offer = response.json()
    assert offer["campaignId"] == world.campaign_id
    assert offer["channelId"] == str(world.channel_id)
    assert (offer["publisherId"], offer["advertiserId"], offer["authorId"]) == (
        str(PUBLISHER), str(ADVERTISER), str(PUBLISHER),
    )  # fmt: skip
    assert (offer["direction"], offer["status"], offer["amount"]) == (
        "application",
        "pending",
        "10",
    )
    assert offer["amountNano"] == "10000000000"
    assert offer["format"] == "2/48"
    assert offer["proposedDate"].startswith(today_plus(3) + "T00:00:00")
    # A whole day stays open until the day ends.
    assert offer["expiresAt"].startswith(today_plus(4) + "T00:00:00")
    assert offer["dealId"] is None
    assert offer["campaign"] == {
        "id": world.campaign_id,
        "title": "Launch week",
        "status": "active",
    }
    assert await world.notifications("advertiser") == ["campaign_offer"]
    assert await world.notifications("publisher") == []


async def test_application_without_amount_or_format_takes_the_channel_price(
    client: httpx.AsyncClient,
) -> None:
    # The campaign prefers 2/48, then 1/24; the channel sells 1/24 only.
    world = await make_world(client, prices={"1/24": "6.25", "2/48": ("10", False)})

    response = await client.post(
        f"/v1/campaigns/{world.campaign_id}/offers",
        json={"channelId": world.channel_id},
        headers=world.publisher,
    )

    assert response.status_code == 201, response.text
    assert (response.json()["format"], response.json()["amount"]) == ("1/24", "6.25")


async def test_booking_reaches_the_channel_owner(client: httpx.AsyncClient) -> None:
    world = await make_world(client)

    response = await world.book(proposedDate="2099-01-01T10:00:00Z")
    near = await world.book(proposedDate=in_days(2), message="Evening please")

    assert response.status_code == 422  # more than a year ahead
    assert near.status_code == 201, near.text
    offer = near.json()
    assert (offer["direction"], offer["campaignId"], offer["campaign"]) == ("booking", None, None)
    assert offer["authorId"] == offer["advertiserId"] == str(ADVERTISER)
    assert offer["publisherId"] == str(PUBLISHER)
    assert offer["amount"] == "12.5"
    assert offer["message"] == "Evening please"
    assert await world.notifications("publisher") == ["booking_request"]


@pytest.mark.parametrize(
    ("overrides", "status", "code"),
    [
        ({"amount": "0"}, 422, "validation_error"),
        ({"amount": "-3"}, 422, "validation_error"),
        ({"amount": "1.0000000001"}, 422, "validation_error"),
        ({"amount": 10**12}, 422, "validation_error"),
        ({"format": "5/50"}, 422, "validation_error"),
        ({"proposedDate": "yesterday"}, 422, "validation_error"),
        # Dates are computed when the test runs (see below), not when it is collected.
        ({"proposedDate": lambda: today_plus(-1)}, 422, "invalid_offer"),
        ({"proposedDate": "2001-01-01T00:00:00Z"}, 422, "invalid_offer"),
        ({"proposedDate": lambda: today_plus(31)}, 422, "invalid_offer"),  # after the deadline
        ({"format": "eternal"}, 422, "format_not_offered"),
        ({"format": "3/72"}, 422, "format_not_offered"),  # listed but disabled
        ({"format": "test"}, 422, "invalid_offer"),  # sold, but not a format the campaign wants
        ({"channelId": "-100999"}, 404, "channel_not_found"),
        ({"message": "x" * 2001}, 422, "validation_error"),
    ],
)
async def test_invalid_application_is_refused_and_stores_nothing(
    client: httpx.AsyncClient, overrides: dict[str, Any], status: int, code: str
) -> None:
    world = await make_world(
        client, prices={"2/48": "10", "1/24": "6", "3/72": ("15", False), "test": "1"}
    )

    response = await world.apply(**{k: v() if callable(v) else v for k, v in overrides.items()})

    assert (response.status_code, response.json()["code"]) == (status, code), response.text
    mine = await client.get("/v1/offers/mine", headers=world.publisher)
    assert mine.json() == []
    assert await world.notifications("advertiser") == []


async def test_who_may_apply_and_book(client: httpx.AsyncClient) -> None:
    world = await make_world(client)
    second = await list_channel(
        client,
        owner_id=PUBLISHER,
        chat_id=-1001000000002,
        username="pats_second",
        prices={"2/48": "10"},
        admins={3002: True},
    )
    advertisers_channel = await list_channel(
        client,
        owner_id=ADVERTISER,
        chat_id=-1001000000003,
        username="adas_own",
        prices={"2/48": "3"},
    )
    manager = await login(client, 3002)
    apply = f"/v1/campaigns/{world.campaign_id}/offers"

    by_stranger = await client.post(apply, json={"channelId": second}, headers=world.stranger)
    by_owner_of_campaign = await client.post(
        apply, json={"channelId": advertisers_channel}, headers=world.advertiser
    )
    by_manager = await client.post(apply, json={"channelId": second}, headers=manager)
    own_booking = await client.post(
        f"/v1/channels/{advertisers_channel}/offers",
        json={"format": "2/48", "amount": "1", "proposedDate": in_days(1)},
        headers=world.advertiser,
    )
    managers_booking = await client.post(
        f"/v1/channels/{second}/offers",
        json={"format": "2/48", "amount": "1", "proposedDate": in_days(1)},
        headers=manager,
    )
    others_campaign = await client.post(
        f"/v1/channels/{second}/offers",
        json={
            "format": "2/48", "amount": "1", "proposedDate": in_days(1),
            "campaignId": world.campaign_id,
        },
        headers=world.stranger,
    )  # fmt: skip
    anonymous = await client.post(apply, json={"channelId": second})

    assert (by_stranger.status_code, by_stranger.json()["code"]) == (403, "not_channel_manager")
    assert (by_owner_of_campaign.status_code, by_owner_of_campaign.json()["code"]) == (
        403, "own_campaign",
    )  # fmt: skip
    assert (own_booking.status_code, own_booking.json()["code"]) == (403, "own_channel")
    assert managers_booking.json()["code"] == "own_channel"
    assert (others_campaign.status_code, others_campaign.json()["code"]) == (
        403, "not_campaign_owner",
    )  # fmt: skip
    assert anonymous.status_code == 401
    # A manager applies for the channel; the owner is the publisher who will be paid.
    assert by_manager.status_code == 201, by_manager.text
    assert by_manager.json()["authorId"] == "3002"
    assert by_manager.json()["publisherId"] == str(PUBLISHER)
    # Withdrawing is for the author only, not for the channel's owner.
    owner_withdraws = await client.post(
        f"/v1/offers/{by_manager.json()['id']}/withdraw", headers=world.publisher
    )
    assert (owner_withdraws.status_code, owner_withdraws.json()["code"]) == (
        403, "not_offer_author",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("setup", "code"),
    [
        ({"campaign_status": "paused"}, "campaign_not_accepting_offers"),
        ({"campaign_status": "completed"}, "campaign_not_accepting_offers"),
        ({"campaign_deleted": True}, "campaign_not_found"),
        ({"channel_active": False}, "channel_not_accepting_offers"),
        ({"deadline_passed": True}, "campaign_not_accepting_offers"),
    ],
)
async def test_closed_campaigns_and_inactive_channels_take_no_offers(
    client: httpx.AsyncClient, setup: dict[str, Any], code: str
) -> None:
    world = await make_world(
        client,
        campaign={"deadline": today_plus(0)},
        channel_active=setup.get("channel_active", True),
    )
    campaign_url = f"/v1/campaigns/{world.campaign_id}"
    if "campaign_status" in setup:
        await client.patch(
            campaign_url, json={"status": setup["campaign_status"]}, headers=world.advertiser
        )
    if setup.get("campaign_deleted"):
        await client.delete(campaign_url, headers=world.advertiser)
    if setup.get("deadline_passed"):
        clock.advance(past_midnight())

    application = await world.apply()
    booking = await world.book(proposedDate=in_days(0.5), campaignId=world.campaign_id)

    assert application.json()["code"] == code
    assert application.status_code == (404 if code.endswith("not_found") else 409)
    assert booking.json()["code"] == code
    assert (await client.get("/v1/offers/mine", headers=world.publisher)).json() == []


async def test_one_open_negotiation_per_channel_and_campaign(client: httpx.AsyncClient) -> None:
    world = await make_world(client)
    first = await world.apply(proposedDate=in_days(0.1))

    second = await world.apply()
    booking_under_campaign = await world.book(campaignId=world.campaign_id, proposedDate=in_days(1))
    direct_booking = await world.book(proposedDate=in_days(1))
    clock.advance(dt.timedelta(hours=3))
    after_lapse = await world.apply()

    assert (second.status_code, second.json()["code"]) == (409, "offer_already_open")
    assert booking_under_campaign.json()["code"] == "offer_already_open"
    assert direct_booking.status_code == 201
    assert after_lapse.status_code == 201, after_lapse.text
    assert (await world.offer(first.json()["id"]))["status"] == "expired"


async def test_only_the_campaign_owner_lists_its_offers(client: httpx.AsyncClient) -> None:
    world = await make_world(client)
    await world.apply()
    url = f"/v1/campaigns/{world.campaign_id}/offers"

    owner = await client.get(url, headers=world.advertiser)
    publisher = await client.get(url, headers=world.publisher)
    anonymous = await client.get(url)
    missing = await client.get("/v1/campaigns/424242/offers", headers=world.advertiser)

    assert [o["status"] for o in owner.json()] == ["pending"]
    assert owner.headers["X-Total-Count"] == "1"
    assert (publisher.status_code, publisher.json()["code"]) == (403, "not_campaign_owner")
    assert anonymous.status_code == 401
    assert missing.status_code == 404


async def test_offers_mine_shows_both_sides_and_filters(client: httpx.AsyncClient) -> None:
    world = await make_world(client)
    application = (await world.apply()).json()
    booking = (await world.book()).json()
    manager = await login(client, 3002)
    await list_channel(
        client,
        owner_id=STRANGER,
        chat_id=-1001000000005,
        username="sams_channel",
        prices={"2/48": "1"},
        admins={3002: True},
    )

    def ids(response: httpx.Response) -> list[int]:
        return [o["id"] for o in response.json()]

    mine = "/v1/offers/mine"
    advertiser_all = await client.get(mine, headers=world.advertiser)
    publisher_all = await client.get(mine, headers=world.publisher)
    as_advertiser = await client.get(mine, params={"role": "advertiser"}, headers=world.publisher)
    bookings = await client.get(mine, params={"direction": "booking"}, headers=world.publisher)
    by_campaign = await client.get(
        mine, params={"campaignId": world.campaign_id}, headers=world.advertiser
    )
    strangers = await client.get(mine, headers=world.stranger)
    managers = await client.get(mine, headers=manager)
    seen_by_stranger = await client.get(f"/v1/offers/{application['id']}", headers=world.stranger)

    assert ids(advertiser_all) == ids(publisher_all) == [booking["id"], application["id"]]
    assert advertiser_all.json()[1]["campaign"]["title"] == "Launch week"
    assert ids(as_advertiser) == []
    assert ids(bookings) == [booking["id"]]
    assert ids(by_campaign) == [application["id"]]
    assert ids(strangers) == ids(managers) == []
    assert seen_by_stranger.status_code == 404


async def test_an_offer_lapses_at_its_date_and_the_sweep_marks_it(
    client: httpx.AsyncClient,
) -> None:
    world = await make_world(client)
    offer = (await world.apply(proposedDate=in_days(1 / 24))).json()
    clock.advance(dt.timedelta(hours=2))

    shown = await world.offer(offer["id"])
    accept = await client.post(f"/v1/offers/{offer['id']}/accept", headers=world.advertiser)
    withdraw = await client.post(f"/v1/offers/{offer['id']}/withdraw", headers=world.publisher)
    await sweep_expired(runtime_of(client))
    stored = await world.offer(offer["id"])
    accept_after_sweep = await client.post(
        f"/v1/offers/{offer['id']}/accept", headers=world.advertiser
    )

    assert shown["status"] == "expired"  # shown as lapsed even before the sweep
    assert (accept.status_code, accept.json()["code"]) == (409, "offer_expired")
    assert withdraw.json()["code"] == "offer_expired"
    assert (stored["status"], stored["decidedAt"] is not None) == ("expired", True)
    assert accept_after_sweep.json()["code"] == "offer_not_pending"
    assert await world.deals("advertiser") == []


async def test_offers_without_a_date_lapse_with_the_campaign_deadline(
    client: httpx.AsyncClient,
) -> None:
    world = await make_world(client, campaign={"deadline": today_plus(0)})
    offer = (await world.apply()).json()
    clock.advance(past_midnight())

    await sweep_expired(runtime_of(client))

    stored = await world.offer(offer["id"])
    assert stored["status"] == "expired"
    assert stored["expiresAt"].startswith(today_plus(0))


async def test_each_event_notifies_the_right_party(client: httpx.AsyncClient) -> None:
    world = await make_world(client)
    declined = (await world.apply()).json()
    await client.post(f"/v1/offers/{declined['id']}/reject", headers=world.advertiser)
    withdrawn = (await world.book()).json()
    await client.post(f"/v1/offers/{withdrawn['id']}/withdraw", headers=world.advertiser)
    countered = (await world.apply()).json()
    new = await client.post(
        f"/v1/offers/{countered['id']}/counter", json={"amount": "8"}, headers=world.advertiser
    )
    await client.post(f"/v1/offers/{new.json()['id']}/accept", headers=world.publisher)

    # Newest first.
    assert await world.notifications("publisher") == [
        "offer_countered", "offer_withdrawn", "booking_request", "offer_declined",
    ]  # fmt: skip
    assert await world.notifications("advertiser") == [
        "offer_accepted", "campaign_offer", "campaign_offer",
    ]  # fmt: skip
    assert await world.notifications("stranger") == []
    accepted = (await client.get("/v1/notifications", headers=world.advertiser)).json()[0]
    assert accepted["relatedType"] == "deal"


async def test_counter_must_change_the_terms_on_a_format_the_channel_sells(
    client: httpx.AsyncClient,
) -> None:
    world = await make_world(client)
    offer = (await world.apply()).json()
    url = f"/v1/offers/{offer['id']}/counter"

    same = await client.post(url, json={"amount": "10"}, headers=world.advertiser)
    unsold = await client.post(url, json={"format": "eternal"}, headers=world.advertiser)
    past = await client.post(url, json={"proposedDate": today_plus(-2)}, headers=world.advertiser)
    moved = await client.post(
        url, json={"format": "1/24", "proposedDate": today_plus(5)}, headers=world.advertiser
    )

    assert (same.status_code, same.json()["code"]) == (422, "invalid_offer")
    assert unsold.json()["code"] == "format_not_offered"
    assert past.json()["code"] == "invalid_offer"
    assert moved.status_code == 201, moved.text
    assert (moved.json()["format"], moved.json()["amount"]) == ("1/24", "10")


async def test_accepting_beyond_the_campaigns_total_budget_is_refused(
    client: httpx.AsyncClient,
) -> None:
    world = await make_world(client, campaign={"totalBudget": "25"})
    second = await list_channel(
        client,
        owner_id=PUBLISHER,
        chat_id=-1001000000002,
        username="pats_second",
        prices={"2/48": "10"},
    )
    first = (await world.apply(amount="15")).json()
    second = (
        await client.post(
            f"/v1/campaigns/{world.campaign_id}/offers",
            json={"channelId": second, "amount": "15"},
            headers=world.publisher,
        )
    ).json()

    ok = await client.post(f"/v1/offers/{first['id']}/accept", headers=world.advertiser)
    over = await client.post(f"/v1/offers/{second['id']}/accept", headers=world.advertiser)

    assert ok.status_code == 200
    assert (over.status_code, over.json()["code"]) == (409, "campaign_budget_exceeded")
    assert "10 TON" in over.json()["message"]
    assert (await world.offer(second["id"]))["status"] == "pending"


async def test_concurrent_accepts_make_exactly_one_deal(client: httpx.AsyncClient) -> None:
    world = await make_world(client)
    offer = (await world.apply()).json()
    url = f"/v1/offers/{offer['id']}/accept"

    responses = await asyncio.gather(
        *(client.post(url, headers=world.advertiser) for _ in range(2))
    )

    codes = sorted(r.status_code for r in responses)
    assert codes == [200, 409], [r.text for r in responses]
    refused = next(r for r in responses if r.status_code == 409)
    assert refused.json()["code"] == "offer_not_pending"
    deals = await world.deals("advertiser")
    assert len(deals) == 1
    assert deals[0]["offerId"] == offer["id"]


def _shape_differences(a: Any, b: Any, path: str = "") -> list[str]:
    """Where two JSON values differ in shape: keys, or types of values both sides have."""
    if a is None or b is None:
        return []
    if type(a) is not type(b):
        return [f"{path}: {type(a).__name__} != {type(b).__name__}"]
    if isinstance(a, dict):
        if set(a) != set(b):
            return [f"{path}: keys {sorted(set(a) ^ set(b))}"]
        return [d for key in a for d in _shape_differences(a[key], b[key], f"{path}.{key}")]
    if isinstance(a, list) and a and b:
        return _shape_differences(a[0], b[0], f"{path}[0]")
    return []


async def test_campaign_offer_and_booking_make_deals_of_the_same_shape(
    client: httpx.AsyncClient,
) -> None:
    world = await make_world(client, campaign={"creativeText": "Try the wallet"})
    application = (await world.apply(proposedDate=in_days(2))).json()
    booking = (await world.book(proposedDate=in_days(3))).json()

    from_campaign = await client.post(
        f"/v1/offers/{application['id']}/accept", headers=world.advertiser
    )
    from_booking = await client.post(f"/v1/offers/{booking['id']}/accept", headers=world.publisher)
    deal_a = (
        await client.get(f"/v1/deals/{from_campaign.json()['dealId']}", headers=world.publisher)
    ).json()
    deal_b = (
        await client.get(f"/v1/deals/{from_booking.json()['dealId']}", headers=world.advertiser)
    ).json()

    assert _shape_differences(deal_a, deal_b) == []
    both = {k for k in deal_a if deal_a[k] is not None and deal_b[k] is not None}
    assert both >= {
        "id", "dealId", "offerId", "channelId", "publisherId", "advertiserId", "format",
        "status", "amount", "amountNano", "platformFeeNano", "scheduledAt", "timeline",
        "createdAt", "updatedAt", "duration",
    }  # fmt: skip
    assert (deal_a["campaignId"], deal_b["campaignId"]) == (world.campaign_id, None)
    assert (deal_a["creativeText"], deal_b["creativeText"]) == ("Try the wallet", None)
    assert deal_a["status"] == deal_b["status"] == "pending"
