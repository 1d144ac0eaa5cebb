"""The public campaign list runs one statement per shape of filters with its values bound:
requests of the same shape with other values, one after another, each get their own answer,
and the list's counts are the campaign's own."""

from __future__ import annotations

from typing import Any

import httpx

from chainfluence.deals.repository import PUBLISHED_STATUSES
from chainfluence.models import Deal, DealStatus
from tests.campaigns.test_router import _create
from tests.conftest import runtime_of
from tests.factories import login
from tests.offers.world import ADVERTISER, make_world, today_plus


async def _titles(client: httpx.AsyncClient, **params: Any) -> list[str]:
    response = await client.get("/v1/campaigns", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["X-Total-Count"] == str(len(response.json()))
    return [c["title"] for c in response.json()]


async def test_requests_of_one_shape_with_other_values_each_get_their_own_answer(
    client: httpx.AsyncClient,
) -> None:
    owner = await login(client, ADVERTISER)
    other = await login(client, 2002)
    briefs = [
        (owner, {"title": "Alpha_wallet", "category": "crypto", "budget": "10",
                 "preferredFormats": ["2/48"], "deadline": today_plus(5)}),
        (owner, {"title": "Beta course", "category": "education", "budget": "50",
                 "preferredFormats": ["1/24"], "deadline": today_plus(2)}),
        (other, {"title": "Gamma game", "category": "gaming", "budget": "30",
                 "preferredFormats": ["3/72"], "description": "A WALLET for gamers"}),
        (other, {"title": "Delta paused", "category": "crypto", "budget": "99"}),
    ]  # fmt: skip
    ids = []
    for headers, brief in briefs:
        created = await _create(client, headers, **{"description": "A brief", **brief})
        assert created.status_code == 201, created.text
        ids.append(created.json()["id"])
    await client.patch(f"/v1/campaigns/{ids[3]}", json={"status": "paused"}, headers=other)

    for params, titles in [
        ({"category": "crypto"}, ["Alpha_wallet"]),
        ({"category": "gaming"}, ["Gamma game"]),
        ({"category": "tech"}, []),
        ({"status": "paused"}, ["Delta paused"]),
        ({"status": "completed"}, []),
        ({"q": "wallet"}, ["Gamma game", "Alpha_wallet"]),
        ({"q": "_"}, ["Alpha_wallet"]),
        ({"q": "course"}, ["Beta course"]),
        ({"format": "2/48"}, ["Alpha_wallet"]),
        ({"format": "3/72"}, ["Gamma game"]),
        ({"minBudget": "30", "sort": "-budget"}, ["Beta course", "Gamma game"]),
        ({"minBudget": "11", "sort": "-budget"}, ["Beta course", "Gamma game"]),
        ({"minBudget": "31", "sort": "-budget"}, ["Beta course"]),
        ({"maxBudget": "10"}, ["Alpha_wallet"]),
        ({"maxBudget": "30"}, ["Gamma game", "Alpha_wallet"]),
        ({"advertiserId": str(ADVERTISER)}, ["Beta course", "Alpha_wallet"]),
        ({"advertiserId": "2002"}, ["Gamma game"]),
        ({"category": "crypto", "status": "paused", "minBudget": "50"}, ["Delta paused"]),
        ({"category": "crypto", "status": "active", "minBudget": "50"}, []),
    ]:
        assert await _titles(client, **params) == titles, params
    for offset, title in [(1, "Gamma game"), (0, "Alpha_wallet"), (2, "Beta course")]:
        page = await client.get(
            "/v1/campaigns", params={"limit": 1, "offset": offset, "sort": "budget"}
        )
        assert [c["title"] for c in page.json()] == [title]
        assert page.headers["X-Total-Count"] == "3"


async def test_the_lists_live_count_counts_deals_whose_ad_is_or_was_up(
    client: httpx.AsyncClient,
) -> None:
    world = await make_world(client)
    offer = (await world.apply()).json()
    accepted = await client.post(f"/v1/offers/{offer['id']}/accept", headers=world.advertiser)
    assert accepted.status_code == 200, accepted.text

    for status in DealStatus:
        async with runtime_of(client).session() as session:
            deal = await session.get(Deal, accepted.json()["dealId"])
            assert deal is not None
            deal.status = status
        listed = (await client.get("/v1/campaigns")).json()
        mine = (await client.get("/v1/campaigns/mine", headers=world.advertiser)).json()

        expected = [(1, 1 if status in PUBLISHED_STATUSES else 0)]
        assert [(c["acceptedCount"], c["liveCount"]) for c in listed] == expected, status
        assert [(c["acceptedCount"], c["liveCount"]) for c in mine] == expected, status
