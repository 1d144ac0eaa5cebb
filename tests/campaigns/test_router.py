"""/v1/campaigns: creating, validating, editing, status moves, deletion, the public list."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.factories import image_bytes, login
from tests.offers.world import ADVERTISER, make_world, today_plus

BRIEF = {
    "title": "Launch week",
    "description": "A new wallet",
    "category": "Crypto",
    "budget": "25.5",
    "totalBudget": "100",
    "creativeText": "Try our wallet",
    "contentGuidelines": "No memes",
    "preferredFormats": ["2/48", "1/24"],
    "minSubscribers": 1000,
    "minEngagement": 5,
    "preferredCategories": ["crypto", "Tech"],
}


async def _create(
    client: httpx.AsyncClient, headers: dict[str, str], **fields: Any
) -> httpx.Response:
    return await client.post("/v1/campaigns", json={**BRIEF, **fields}, headers=headers)


async def test_created_campaign_has_the_mini_app_shape(client: httpx.AsyncClient) -> None:
    headers = await login(client, ADVERTISER)
    upload = await client.post(
        "/v1/uploads", files={"file": ("a.png", image_bytes(), "image/png")}, headers=headers
    )
    file_id = upload.json()["fileId"]

    created = await _create(client, headers, deadline=today_plus(10), creativeImages=[file_id])
    fetched = await client.get(f"/v1/campaigns/{created.json()['id']}")

    assert created.status_code == 201, created.text
    body = fetched.json()
    assert body == created.json()
    assert body["advertiserId"] == str(ADVERTISER)
    assert body["status"] == "active"
    assert body["budget"] == "25.5"
    assert body["budgetNano"] == "25500000000"
    assert body["totalBudget"] == "100"
    assert body["category"] == "crypto"
    assert body["preferredCategories"] == ["crypto", "tech"]
    assert body["creativeImages"] == [file_id]
    assert body["deadline"] == today_plus(10)
    assert (body["offerCount"], body["acceptedCount"], body["liveCount"]) == (0, 0, 0)
    assert set(body) >= {
        "id", "advertiserId", "title", "description", "category", "status", "budget",
        "totalBudget", "creativeText", "contentGuidelines", "creativeImages", "preferredFormats",
        "minSubscribers", "minEngagement", "preferredCategories", "deadline", "offerCount",
        "acceptedCount", "liveCount", "createdAt", "updatedAt",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"title": "ab"}, "title"),
        ({"title": "x" * 121}, "title"),
        ({"budget": "-1"}, "budget"),
        ({"budget": "1.0000000001"}, "budget"),
        ({"totalBudget": "10"}, "body"),  # smaller than the per-channel budget
        ({"minSubscribers": -5}, "minSubscribers"),
        ({"minEngagement": -0.1}, "minEngagement"),
        ({"preferredFormats": ["9/99"]}, "preferredFormats.0"),
        ({"category": "astrology"}, "category"),
        ({"preferredCategories": ["crypto", "nope"]}, "preferredCategories.1"),
        ({"deadline": "2020-13-01"}, "deadline"),
        ({"unknownField": 1}, "unknownField"),
    ],
)
async def test_invalid_brief_is_422_naming_the_field_and_stores_nothing(
    client: httpx.AsyncClient, fields: dict[str, Any], field: str
) -> None:
    headers = await login(client, ADVERTISER)

    response = await _create(client, headers, **fields)

    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation_error"
    assert field in [error["field"] for error in response.json()["errors"]]
    assert (await client.get("/v1/campaigns/mine", headers=headers)).json() == []


async def test_past_deadline_and_foreign_or_unknown_images_are_refused(
    client: httpx.AsyncClient,
) -> None:
    headers = await login(client, ADVERTISER)
    other = await login(client, 2002)
    upload = await client.post(
        "/v1/uploads", files={"file": ("a.png", image_bytes(), "image/png")}, headers=other
    )

    past = await _create(client, headers, deadline=today_plus(-1))
    foreign = await _create(client, headers, creativeImages=[upload.json()["fileId"]])
    unknown = await _create(client, headers, creativeImages=["no-such-file"])
    today = await _create(client, headers, deadline=today_plus(0))

    assert (past.status_code, past.json()["code"]) == (422, "invalid_campaign")
    assert (foreign.status_code, foreign.json()["code"]) == (422, "unknown_creative_image")
    assert unknown.json()["code"] == "unknown_creative_image"
    assert today.status_code == 201
    assert len((await client.get("/v1/campaigns/mine", headers=headers)).json()) == 1


async def test_only_the_owner_edits_and_null_clears_optional_fields(
    client: httpx.AsyncClient,
) -> None:
    owner = await login(client, ADVERTISER)
    other = await login(client, 2002)
    campaign_id = (await _create(client, owner)).json()["id"]

    by_other = await client.patch(
        f"/v1/campaigns/{campaign_id}", json={"title": "Mine now"}, headers=other
    )
    missing = await client.patch("/v1/campaigns/999999", json={"title": "Nope"}, headers=owner)
    anonymous = await client.patch(f"/v1/campaigns/{campaign_id}", json={"title": "Anon"})
    edited = await client.patch(
        f"/v1/campaigns/{campaign_id}",
        json={"title": "Launch month", "budget": 30, "minSubscribers": None, "category": None},
        headers=owner,
    )
    null_title = await client.patch(
        f"/v1/campaigns/{campaign_id}", json={"title": None}, headers=owner
    )
    shrink_total = await client.patch(
        f"/v1/campaigns/{campaign_id}", json={"totalBudget": "10"}, headers=owner
    )

    assert (by_other.status_code, by_other.json()["code"]) == (403, "not_campaign_owner")
    assert missing.status_code == 404
    assert anonymous.status_code == 401
    assert edited.status_code == 200, edited.text
    body = edited.json()
    assert (body["title"], body["budget"], body["minSubscribers"], body["category"]) == (
        "Launch month", "30", None, None,
    )  # fmt: skip
    assert body["minEngagement"] == 5
    assert null_title.status_code == 422
    assert (shrink_total.status_code, shrink_total.json()["code"]) == (422, "invalid_campaign")
    assert (await client.get(f"/v1/campaigns/{campaign_id}")).json()["title"] == "Launch month"


@pytest.mark.parametrize(
    ("path", "target", "allowed"),
    [
        ([], "paused", True),
        ([], "completed", True),
        ([], "active", True),  # no move: a no-op
        (["paused"], "active", True),
        (["paused"], "completed", True),
        (["completed"], "active", False),
        (["completed"], "paused", False),
    ],
)
async def test_campaign_status_moves(
    client: httpx.AsyncClient, path: list[str], target: str, allowed: bool
) -> None:
    owner = await login(client, ADVERTISER)
    campaign_id = (await _create(client, owner)).json()["id"]
    for status in path:
        moved = await client.patch(
            f"/v1/campaigns/{campaign_id}", json={"status": status}, headers=owner
        )
        assert moved.status_code == 200

    response = await client.patch(
        f"/v1/campaigns/{campaign_id}", json={"status": target}, headers=owner
    )

    stored = (await client.get(f"/v1/campaigns/{campaign_id}")).json()["status"]
    if allowed:
        assert response.status_code == 200, response.text
        assert stored == target
    else:
        assert (response.status_code, response.json()["code"]) == (
            409, "campaign_status_change_refused",
        )  # fmt: skip
        assert stored == path[-1]


async def test_delete_is_refused_while_a_deal_is_open_and_hides_the_campaign_after(
    client: httpx.AsyncClient,
) -> None:
    world = await make_world(client)
    offer = (await world.apply()).json()
    await client.post(f"/v1/offers/{offer['id']}/accept", headers=world.advertiser)
    second = await client.post(
        "/v1/campaigns", json={"title": "Second", "budget": "5"}, headers=world.advertiser
    )
    pending = await client.post(
        f"/v1/campaigns/{second.json()['id']}/offers",
        json={"channelId": world.channel_id, "amount": "5", "format": "1/24"},
        headers=world.publisher,
    )

    by_stranger = await client.delete(
        f"/v1/campaigns/{second.json()['id']}", headers=world.stranger
    )
    with_open_deal = await client.delete(
        f"/v1/campaigns/{world.campaign_id}", headers=world.advertiser
    )
    deleted = await client.delete(f"/v1/campaigns/{second.json()['id']}", headers=world.advertiser)
    after = await client.get(f"/v1/campaigns/{second.json()['id']}")
    again = await client.delete(f"/v1/campaigns/{second.json()['id']}", headers=world.advertiser)
    closed_offer = await world.offer(pending.json()["id"], as_="publisher")

    assert by_stranger.status_code == 403
    assert (with_open_deal.status_code, with_open_deal.json()["code"]) == (
        409, "campaign_has_open_deals",
    )  # fmt: skip
    assert (await client.get(f"/v1/campaigns/{world.campaign_id}")).status_code == 200
    assert deleted.json() == {"message": "Campaign deleted."}
    assert after.status_code == 404
    assert again.status_code == 404
    assert closed_offer["status"] == "declined"
    assert "offer_declined" in await world.notifications("publisher")


async def test_completing_a_campaign_closes_its_pending_offers(client: httpx.AsyncClient) -> None:
    world = await make_world(client)
    application = (await world.apply()).json()

    await client.patch(
        f"/v1/campaigns/{world.campaign_id}", json={"status": "completed"}, headers=world.advertiser
    )

    assert (await world.offer(application["id"]))["status"] == "declined"


async def _titles(client: httpx.AsyncClient, **params: Any) -> list[str]:
    response = await client.get("/v1/campaigns", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["X-Total-Count"] == str(len(response.json()))
    return [c["title"] for c in response.json()]


async def test_public_list_filters_and_sorts(client: httpx.AsyncClient) -> None:
    owner = await login(client, ADVERTISER)
    other = await login(client, 2002)
    briefs = [
        (owner, {"title": "Alpha wallet", "category": "crypto", "budget": "10",
                 "preferredFormats": ["2/48"], "deadline": today_plus(5)}),
        (owner, {"title": "Beta course", "category": "education", "budget": "50",
                 "preferredFormats": [], "deadline": today_plus(2)}),
        (other, {"title": "Gamma game", "category": "gaming", "budget": "30",
                 "preferredFormats": ["1/24"], "description": "A WALLET for gamers"}),
        (other, {"title": "Delta paused", "category": "crypto", "budget": "99"}),
        (other, {"title": "Percent 100% off", "category": "other", "budget": "1"}),
    ]  # fmt: skip
    ids = []
    for headers, brief in briefs:
        created = await client.post("/v1/campaigns", json=brief, headers=headers)
        assert created.status_code == 201, created.text
        ids.append(created.json()["id"])
    await client.patch(f"/v1/campaigns/{ids[3]}", json={"status": "paused"}, headers=other)

    assert await _titles(client) == [
        "Percent 100% off", "Gamma game", "Beta course", "Alpha wallet",
    ]  # fmt: skip
    assert await _titles(client, q="wallet") == ["Gamma game", "Alpha wallet"]
    assert await _titles(client, q="%") == ["Percent 100% off"]
    assert await _titles(client, category="Crypto") == ["Alpha wallet"]
    assert await _titles(client, status="paused") == ["Delta paused"]
    # No preferred format means any format.
    assert await _titles(client, format="1/24") == ["Percent 100% off", "Gamma game", "Beta course"]
    assert await _titles(client, minBudget="30", sort="-budget") == ["Beta course", "Gamma game"]
    assert await _titles(client, maxBudget=10, sort="budget") == [
        "Percent 100% off", "Alpha wallet",
    ]  # fmt: skip
    # Campaigns without a deadline come last; ties keep creation order.
    assert await _titles(client, sort="deadline") == [
        "Beta course", "Alpha wallet", "Gamma game", "Percent 100% off",
    ]  # fmt: skip
    assert await _titles(client, advertiserId=str(ADVERTISER)) == ["Beta course", "Alpha wallet"]
    page = await client.get("/v1/campaigns", params={"limit": 2, "offset": 1})
    assert [c["title"] for c in page.json()] == ["Gamma game", "Beta course"]
    assert page.headers["X-Total-Count"] == "4"
    bad = await client.get("/v1/campaigns", params={"sort": "price", "minBudget": "-1"})
    assert bad.status_code == 422


async def test_search_takes_quotes_and_backslashes_literally(client: httpx.AsyncClient) -> None:
    # The search pattern is written into the statement (kit/dialect.py `contains_text`), so
    # quotes, backslashes and LIKE wildcards in `q` must reach the database as plain text.
    owner = await login(client, ADVERTISER)
    for title in ("Bob's shop", "Path C:\\temp\\x", "50% off_now", "Plain brief"):
        created = await client.post(
            "/v1/campaigns",
            json={"title": title, "category": "other", "budget": "1"},
            headers=owner,
        )
        assert created.status_code == 201, created.text

    assert await _titles(client, q="b's") == ["Bob's shop"]
    assert await _titles(client, q="'") == ["Bob's shop"]
    assert await _titles(client, q="c:\\temp\\") == ["Path C:\\temp\\x"]
    assert await _titles(client, q="\\") == ["Path C:\\temp\\x"]
    assert await _titles(client, q="% off_") == ["50% off_now"]
    assert await _titles(client, q="'' or ''1''=''1") == []
    assert await _titles(client, q="x'); DELETE FROM campaigns; --") == []
    assert len(await _titles(client)) == 4


async def test_mine_lists_own_campaigns_in_every_status(client: httpx.AsyncClient) -> None:
    owner = await login(client, ADVERTISER)
    other = await login(client, 2002)
    first = (await _create(client, owner, title="First")).json()["id"]
    await _create(client, owner, title="Second")
    await _create(client, other, title="Not mine")
    await client.patch(f"/v1/campaigns/{first}", json={"status": "paused"}, headers=owner)

    mine = await client.get("/v1/campaigns/mine", headers=owner)
    paused = await client.get("/v1/campaigns/mine", params={"status": "paused"}, headers=owner)
    anonymous = await client.get("/v1/campaigns/mine")

    assert [c["title"] for c in mine.json()] == ["Second", "First"]
    assert [c["title"] for c in paused.json()] == ["First"]
    assert anonymous.status_code == 401


async def test_counts_follow_offers_and_deals(client: httpx.AsyncClient) -> None:
    world = await make_world(client)
    first = (await world.apply()).json()
    countered = await client.post(
        f"/v1/offers/{first['id']}/counter", json={"amount": "8"}, headers=world.advertiser
    )
    await client.post(f"/v1/offers/{countered.json()['id']}/accept", headers=world.publisher)

    campaign = (await client.get(f"/v1/campaigns/{world.campaign_id}")).json()
    listed = (await client.get("/v1/campaigns")).json()[0]

    # One negotiation (two versions), one deal, nothing published yet.
    assert (campaign["offerCount"], campaign["acceptedCount"], campaign["liveCount"]) == (1, 1, 0)
    assert listed == campaign
