"""Deals as accepting an offer makes them, read through /v1/deals by their parties."""

from __future__ import annotations

import datetime as dt

import httpx

from chainfluence.kit.time import utcnow
from tests.factories import image_bytes, login
from tests.offers.world import ADVERTISER, PUBLISHER, in_days, make_world

OPERATOR = 900001


def _at(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


async def test_accepting_an_application_makes_a_pending_deal_with_the_campaign_creative(
    client: httpx.AsyncClient,
) -> None:
    advertiser = await login(client, ADVERTISER)
    upload = await client.post(
        "/v1/uploads", files={"file": ("a.png", image_bytes(), "image/png")}, headers=advertiser
    )
    file_id = upload.json()["fileId"]
    world = await make_world(
        client, campaign={"creativeText": "Try the wallet", "creativeImages": [file_id]}
    )
    offer = (await world.apply(amount="1.000000019", proposedDate=in_days(2))).json()

    accepted = await client.post(f"/v1/offers/{offer['id']}/accept", headers=world.advertiser)
    deal = (
        await client.get(f"/v1/deals/{accepted.json()['dealId']}", headers=world.publisher)
    ).json()

    assert accepted.status_code == 200
    assert deal["id"] == deal["dealId"] == accepted.json()["dealId"]
    assert (deal["status"], deal["format"]) == ("pending", "2/48")
    assert (deal["offerId"], deal["campaignId"]) == (offer["id"], world.campaign_id)
    assert (deal["channelId"], deal["publisherId"], deal["advertiserId"]) == (
        str(world.channel_id), str(PUBLISHER), str(ADVERTISER),
    )  # fmt: skip
    assert deal["amount"] == deal["amountNano"] == "1000000019"
    # 5% of 1000000019 is 50000000.95: the fee is rounded down, the publisher keeps the rest.
    assert deal["platformFeeNano"] == "50000000"
    assert deal["depositedNano"] == "0"
    assert deal["scheduledAt"] == offer["proposedDate"]
    deadline = _at(deal["depositDeadlineAt"]) - utcnow()
    assert dt.timedelta(hours=23, minutes=59) < deadline <= dt.timedelta(hours=24)
    assert deal["duration"] == 48 * 3600
    assert (deal["creativeText"], deal["creativeImages"]) == ("Try the wallet", [file_id])
    assert deal["creativeVersion"] is None  # a draft, not yet approved
    assert deal["escrowAddress"] is None
    (event,) = deal["timeline"]
    assert (event["event"], event["actorType"], event["actorId"]) == (
        "deal_created", "user", str(ADVERTISER),
    )  # fmt: skip
    assert (event["fromStatus"], event["toStatus"]) == (None, "pending")
    assert event["details"]["offer_id"] == offer["id"]
    assert event["details"]["price_nano"] == "1000000019"
    assert event["details"]["creative_version"] == 1
    timeline = await client.get(f"/v1/deals/{deal['id']}/timeline", headers=world.advertiser)
    assert timeline.json() == deal["timeline"]


async def test_a_near_date_shortens_the_deposit_deadline(client: httpx.AsyncClient) -> None:
    world = await make_world(client)
    booking = (await world.book(proposedDate=in_days(2 / 24))).json()

    accepted = await client.post(f"/v1/offers/{booking['id']}/accept", headers=world.publisher)
    deal = (
        await client.get(f"/v1/deals/{accepted.json()['dealId']}", headers=world.advertiser)
    ).json()

    assert deal["depositDeadlineAt"] == deal["scheduledAt"] == booking["proposedDate"]
    assert (deal["creativeText"], deal["creativeImages"]) == (None, [])
    assert deal["timeline"][0]["actorId"] == str(PUBLISHER)


async def test_deals_are_listed_for_their_parties_only(client: httpx.AsyncClient) -> None:
    world = await make_world(client)
    operator = await login(client, OPERATOR)
    booking = (await world.book()).json()
    application = (await world.apply()).json()
    await client.post(f"/v1/offers/{booking['id']}/accept", headers=world.publisher)
    accepted = await client.post(f"/v1/offers/{application['id']}/accept", headers=world.advertiser)
    deal_id = accepted.json()["dealId"]

    def ids(response: httpx.Response) -> list[int]:
        return [d["id"] for d in response.json()]

    advertiser_all = await client.get("/v1/deals", headers=world.advertiser)
    as_publisher = await client.get(
        "/v1/deals", params={"role": "publisher"}, headers=world.advertiser
    )
    publisher_pending = await client.get(
        "/v1/deals", params={"status": ["pending", "in_escrow"]}, headers=world.publisher
    )
    released = await client.get("/v1/deals", params={"status": "released"}, headers=world.publisher)
    stranger_list = await client.get("/v1/deals", headers=world.stranger)
    stranger_one = await client.get(f"/v1/deals/{deal_id}", headers=world.stranger)
    stranger_timeline = await client.get(f"/v1/deals/{deal_id}/timeline", headers=world.stranger)
    operator_one = await client.get(f"/v1/deals/{deal_id}", headers=operator)
    bad_status = await client.get("/v1/deals", params={"status": "paid"}, headers=world.publisher)

    assert ids(advertiser_all) == ids(publisher_pending) == [deal_id, deal_id - 1]
    assert advertiser_all.headers["X-Total-Count"] == "2"
    assert ids(as_publisher) == ids(released) == ids(stranger_list) == []
    assert (stranger_one.status_code, stranger_one.json()["code"]) == (404, "deal_not_found")
    assert stranger_timeline.status_code == 404
    assert operator_one.status_code == 200
    assert bad_status.status_code == 422
    assert (await client.get("/v1/deals")).status_code == 401
