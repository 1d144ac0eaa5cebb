"""Every offer action × every offer status × every kind of actor, in both directions.

Allowed moves change the offer (and accepting makes a deal); every other combination is refused
with 404 (cannot see it), 403 (wrong party) or 409 (no longer pending) and changes nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest

from chainfluence.kit import time as clock
from chainfluence.offers.jobs import sweep_expired
from tests.conftest import runtime_of
from tests.offers.world import World, in_days, make_world

ACTIONS = ["accept", "reject", "counter", "withdraw"]
STATUSES = ["pending", "accepted", "declined", "countered", "withdrawn", "expired"]
ACTORS = ["author", "counterpart", "stranger"]
WHO_MAY = {"accept": "counterpart", "reject": "counterpart", "counter": "counterpart"}
NEW_STATUS = {
    "accept": "accepted",
    "reject": "declined",
    "counter": "countered",
    "withdraw": "withdrawn",
}
# Who plays each part, by direction: a publisher's application, an advertiser's booking.
PARTS = {
    "application": {"author": "publisher", "counterpart": "advertiser", "stranger": "stranger"},
    "booking": {"author": "advertiser", "counterpart": "publisher", "stranger": "stranger"},
}


async def _create(world: World, direction: str) -> int:
    if direction == "application":
        response = await world.apply(proposedDate=in_days(1 / 12))
    else:
        response = await world.book(proposedDate=in_days(1 / 12), campaignId=world.campaign_id)
    assert response.status_code == 201, response.text
    offer_id: int = response.json()["id"]
    return offer_id


async def _act(world: World, offer_id: int, action: str, who: str) -> httpx.Response:
    body = {"amount": "11.5"} if action == "counter" else None
    return await world.client.post(
        f"/v1/offers/{offer_id}/{action}", json=body, headers=world.as_(who)
    )


async def _into_status(world: World, offer_id: int, status: str, direction: str) -> None:
    parts = PARTS[direction]
    if status == "expired":
        clock.advance(dt.timedelta(hours=3))
        await sweep_expired(runtime_of(world.client))
    elif status != "pending":
        action = {v: k for k, v in NEW_STATUS.items()}[status]
        who = parts["author"] if action == "withdraw" else parts["counterpart"]
        response = await _act(world, offer_id, action, who)
        assert response.status_code in (200, 201), response.text
    assert (await world.offer(offer_id))["status"] == status


async def _snapshot(world: World, offer_id: int) -> dict[str, Any]:
    campaign_offers = await world.client.get(
        f"/v1/campaigns/{world.campaign_id}/offers", headers=world.advertiser
    )
    return {
        "offer": await world.offer(offer_id),
        "campaign_offers": campaign_offers.headers["X-Total-Count"],
        "advertiser_deals": await world.deals("advertiser"),
        "publisher_deals": await world.deals("publisher"),
    }


def _expected_refusal(action: str, status: str, actor: str) -> tuple[int, str] | None:
    if actor == "stranger":
        return 404, "offer_not_found"
    if actor != WHO_MAY.get(action, "author"):
        return 403, "not_offer_author" if action == "withdraw" else "not_offer_counterpart"
    if status != "pending":
        return 409, "offer_not_pending"
    return None


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("action", ACTIONS)
async def test_application_offer_action_matrix(
    client: httpx.AsyncClient, action: str, status: str, actor: str
) -> None:
    await _check_cell(client, "application", action, status, actor)


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("action", ACTIONS)
async def test_booking_offer_actions_on_a_pending_offer(
    client: httpx.AsyncClient, action: str, actor: str
) -> None:
    await _check_cell(client, "booking", action, "pending", actor)


async def _check_cell(
    client: httpx.AsyncClient, direction: str, action: str, status: str, actor: str
) -> None:
    world = await make_world(client)
    offer_id = await _create(world, direction)
    await _into_status(world, offer_id, status, direction)
    before = await _snapshot(world, offer_id)

    response = await _act(world, offer_id, action, PARTS[direction][actor])

    refusal = _expected_refusal(action, status, actor)
    if refusal is not None:
        assert (response.status_code, response.json()["code"]) == refusal, response.text
        assert response.json()["message"]
        assert await _snapshot(world, offer_id) == before
        return
    assert response.status_code == (201 if action == "counter" else 200), response.text
    after = await world.offer(offer_id)
    assert after["status"] == NEW_STATUS[action]
    assert after["decidedAt"] is not None
    deals = await world.deals("advertiser")
    if action == "accept":
        assert response.json()["dealId"] == after["dealId"] == deals[0]["id"]
        assert len(deals) == 1
        assert deals[0]["status"] == "pending"
    else:
        assert deals == []
        assert after["dealId"] is None
    if action == "counter":
        new = response.json()
        counterpart = PARTS[direction]["counterpart"]
        assert new["status"] == "pending"
        assert new["version"] == 2
        assert new["previousOfferId"] == offer_id
        assert new["amount"] == "11.5"
        assert new["direction"] == direction
        assert after["counterOfferId"] == new["id"]
        # The counterer wrote the new version, so the original author now decides on it.
        author_of_new = new["authorId"]
        expected_author = new["advertiserId"] if counterpart == "advertiser" else new["publisherId"]
        assert author_of_new == expected_author
        original_author = PARTS[direction]["author"]
        accepted = await _act(world, new["id"], "accept", original_author)
        assert accepted.status_code == 200, accepted.text
        assert accepted.json()["dealId"] is not None
