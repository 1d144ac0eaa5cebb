"""Campaign lists build their JSON from plain rows: each item equals the campaign as
GET /v1/campaigns/{id} renders it through the response model, field for field."""

from __future__ import annotations

import httpx

from tests.campaigns.test_router import _create
from tests.factories import login
from tests.offers.world import ADVERTISER, make_world, today_plus


async def test_list_items_equal_the_models_rendering(client: httpx.AsyncClient) -> None:
    headers = await login(client, ADVERTISER)
    variants = [
        {},
        {"category": None, "totalBudget": None, "deadline": today_plus(3), "budget": "0"},
        {"minEngagement": 12.345, "minSubscribers": None, "creativeText": None,
         "contentGuidelines": None, "preferredFormats": [], "preferredCategories": [],
         "budget": "0.000000001", "title": "Тест кампании 🚀"},
    ]  # fmt: skip
    ids = []
    for fields in variants:
        created = await _create(client, headers, **fields)
        assert created.status_code == 201, created.text
        ids.append(created.json()["id"])
    paused = await client.patch(
        f"/v1/campaigns/{ids[0]}", json={"status": "paused"}, headers=headers
    )
    assert paused.status_code == 200

    public = await client.get("/v1/campaigns", params={"limit": 2})
    all_active = await client.get("/v1/campaigns")
    paused_list = await client.get("/v1/campaigns", params={"status": "paused"})
    mine = await client.get("/v1/campaigns/mine", headers=headers)
    singles = {i: (await client.get(f"/v1/campaigns/{i}")).json() for i in ids}

    assert public.headers["x-total-count"] == "2"
    assert public.headers["content-type"] == "application/json"
    assert [c["id"] for c in public.json()] == [ids[2], ids[1]]
    assert all_active.json() == [singles[ids[2]], singles[ids[1]]]
    assert paused_list.json() == [singles[ids[0]]]
    assert mine.headers["x-total-count"] == "3"
    assert mine.json() == [singles[i] for i in reversed(ids)]
    assert singles[ids[2]]["minEngagement"] == 12.345
    assert singles[ids[1]]["category"] is None


async def test_a_page_past_the_end_still_counts(client: httpx.AsyncClient) -> None:
    headers = await login(client, ADVERTISER)
    assert (await _create(client, headers)).status_code == 201

    past = await client.get("/v1/campaigns", params={"offset": 5})

    assert past.status_code == 200
    assert past.json() == []
    assert past.headers["x-total-count"] == "1"


async def test_counts_in_the_list_equal_the_models(client: httpx.AsyncClient) -> None:
    world = await make_world(client)
    offer = (await world.apply()).json()
    await client.post(f"/v1/offers/{offer['id']}/accept", headers=world.advertiser)

    single = (await client.get(f"/v1/campaigns/{world.campaign_id}")).json()
    mine = (await client.get("/v1/campaigns/mine", headers=world.advertiser)).json()

    assert (single["offerCount"], single["acceptedCount"]) == (1, 1)
    assert [c for c in mine if c["id"] == world.campaign_id] == [single]
