"""Matching campaigns and channels both ways, and the campaign_ending reminder."""

from __future__ import annotations

from typing import Any

import httpx

from chainfluence.campaigns.jobs import sweep_ending
from tests.conftest import runtime_of
from tests.factories import create_channel, login
from tests.offers.world import ADVERTISER, PUBLISHER, today_plus

TARGETED = {
    "title": "Targeted",
    "budget": "20",
    "preferredCategories": ["crypto", "tech"],
    "preferredFormats": ["2/48"],
    "minSubscribers": 5000,
    "minEngagement": 10,
}
# name: (channel id, category, subscribers, engagement, prices, extra)
CHANNELS: dict[str, tuple[int, str, int | None, float | None, dict[str, Any], dict[str, Any]]] = {
    "fits": (-101, "crypto", 50_000, 15.0, {"2/48": "15", "1/24": "12"}, {}),
    "fits_at_budget": (-102, "tech", 8_000, 20.0, {"2/48": "20"}, {}),
    "too_expensive": (-103, "crypto", 100_000, 30.0, {"2/48": "25"}, {}),
    "unknown_subscribers": (-104, "crypto", None, 30.0, {"2/48": "5"}, {}),
    "unknown_engagement": (-105, "crypto", 60_000, None, {"2/48": "5"}, {}),
    "wrong_category": (-106, "news", 70_000, 15.0, {"2/48": "5"}, {}),
    "wrong_format": (-107, "crypto", 40_000, 15.0, {"1/24": "5"}, {}),
    "format_disabled": (-108, "crypto", 90_000, 15.0, {"2/48": ("5", False)}, {}),
    "inactive": (-109, "crypto", 80_000, 12.0, {"2/48": "5"}, {"is_active": False}),
    "unverified": (-110, "crypto", 85_000, 12.0, {"2/48": "5"}, {"is_verified": False}),
    "too_small": (-111, "crypto", 4_999, 50.0, {"2/48": "5"}, {}),
}


async def _channels(client: httpx.AsyncClient) -> None:
    for name, (channel_id, category, subscribers, er, prices, extra) in CHANNELS.items():
        await create_channel(
            runtime_of(client),
            owner_id=PUBLISHER,
            channel_id=channel_id,
            title=name,
            category=category,
            subscribers=subscribers,
            engagement_rate=er,
            prices=prices,
            **extra,
        )


async def test_matches_are_active_verified_channels_meeting_every_criterion(
    client: httpx.AsyncClient,
) -> None:
    advertiser = await login(client, ADVERTISER)
    stranger = await login(client, 4001)
    await _channels(client)
    await create_channel(
        runtime_of(client), owner_id=ADVERTISER, channel_id=-112, subscribers=10**6
    )
    campaign = await client.post("/v1/campaigns", json=TARGETED, headers=advertiser)
    open_brief = await client.post(
        "/v1/campaigns", json={"title": "Anything goes"}, headers=advertiser
    )
    url = f"/v1/campaigns/{campaign.json()['id']}/matches"

    matches = await client.get(url, headers=advertiser)
    open_matches = await client.get(
        f"/v1/campaigns/{open_brief.json()['id']}/matches", headers=advertiser
    )
    by_stranger = await client.get(url, headers=stranger)
    missing = await client.get("/v1/campaigns/9999/matches", headers=advertiser)

    assert matches.status_code == 200, matches.text
    assert [c["title"] for c in matches.json()] == ["fits", "fits_at_budget"]
    assert matches.headers["X-Total-Count"] == "2"
    best = matches.json()[0]
    assert best["id"] == "-101"
    assert best["ownerId"] == str(PUBLISHER)
    assert best["matchingFormats"] == ["2/48"]
    assert (best["bestPrice"], best["bestPriceNano"]) == ("15", "15000000000")
    assert {p["format"]: p["price"] for p in best["pricing"]} == {"2/48": 15, "1/24": 12}
    # No targeting: every active, verified channel selling something, largest first, but never
    # the advertiser's own; unknown audiences sort last.
    assert [c["title"] for c in open_matches.json()] == [
        "too_expensive", "wrong_category", "unknown_engagement",
        "fits", "wrong_format", "fits_at_budget", "too_small", "unknown_subscribers",
    ]  # fmt: skip
    assert (by_stranger.status_code, by_stranger.json()["code"]) == (403, "not_campaign_owner")
    assert missing.status_code == 404


async def test_matching_campaigns_for_a_channel(client: httpx.AsyncClient) -> None:
    advertiser = await login(client, ADVERTISER)
    publisher = await login(client, PUBLISHER)
    stranger = await login(client, 4001)
    await _channels(client)
    briefs = {
        "targeted": TARGETED,
        "same_category": {"category": "crypto"},
        "other_category": {"preferredCategories": ["news"]},
        "too_big": {"minSubscribers": 60_000},
        "picky_engagement": {"minEngagement": 16},
        "cheap": {"budget": "10"},
        "other_format": {"preferredFormats": ["1/24"], "budget": "4"},
        "untargeted": {"budget": "30"},
        "paused": {},
    }
    ids = {}
    for title, fields in briefs.items():
        created = await client.post(
            "/v1/campaigns", json={**fields, "title": title}, headers=advertiser
        )
        assert created.status_code == 201, created.text
        ids[title] = created.json()["id"]
    await client.patch(
        f"/v1/campaigns/{ids['paused']}", json={"status": "paused"}, headers=advertiser
    )
    await client.post("/v1/campaigns", json={"title": "own"}, headers=publisher)

    fits = await client.get("/v1/channels/-101/matching-campaigns", headers=publisher)
    unknown = await client.get("/v1/channels/-104/matching-campaigns", headers=publisher)
    by_stranger = await client.get("/v1/channels/-101/matching-campaigns", headers=stranger)
    missing = await client.get("/v1/channels/-999/matching-campaigns", headers=publisher)

    assert fits.status_code == 200, fits.text
    # Largest budget first; a channel with unknown subscribers meets no subscriber threshold.
    assert [c["title"] for c in fits.json()] == ["untargeted", "targeted", "same_category"]
    assert [c["title"] for c in unknown.json()] == [
        "untargeted", "cheap", "picky_engagement", "same_category",
    ]  # fmt: skip
    assert (by_stranger.status_code, by_stranger.json()["code"]) == (403, "not_channel_manager")
    assert missing.status_code == 404


async def test_matching_campaigns_pages_and_who_may_read_them(client: httpx.AsyncClient) -> None:
    runtime = runtime_of(client)
    advertiser = await login(client, ADVERTISER)
    publisher = await login(client, PUBLISHER)
    for channel_id, category, prices, admins in [
        (-201, "crypto", {"2/48": "15", "1/24": ("12", False)}, {5001: True, 5002: False}),
        (-202, None, {"2/48": "5"}, None),
        (-203, "crypto", {"2/48": ("5", False)}, None),
        (-204, "crypto", {"2/48": "5"}, None),
    ]:
        await create_channel(
            runtime,
            owner_id=PUBLISHER,
            channel_id=channel_id,
            category=category,
            prices=prices,
            admins=admins,
        )
    ids = {}
    for title, fields in [
        ("crypto_50", {"category": "crypto", "budget": "50"}),
        ("any_40", {"budget": "40"}),
        ("any_30", {"budget": "30"}),
        ("any_20", {"budget": "20"}),
        ("one_day_only", {"preferredFormats": ["1/24"], "budget": "100"}),
    ]:  # fmt: skip
        created = await client.post(
            "/v1/campaigns", json={**fields, "title": title}, headers=advertiser
        )
        assert created.status_code == 201, created.text
        ids[title] = created.json()["id"]
    deleted = await client.delete("/v1/channels/-204", headers=publisher)
    assert deleted.status_code == 200, deleted.text

    async def matching(channel_id: int, headers: dict[str, str], **params: object) -> Any:
        response = await client.get(
            f"/v1/channels/{channel_id}/matching-campaigns", params=params, headers=headers
        )
        if response.status_code != 200:
            return response.status_code, response.json()["code"]
        return [c["title"] for c in response.json()], response.headers["x-total-count"]

    every = ["crypto_50", "any_40", "any_30", "any_20"]
    assert await matching(-201, publisher) == (every, "4")
    assert await matching(-201, publisher, limit=2) == (every[:2], "4")  # full page: counted
    assert await matching(-201, publisher, limit=2, offset=3) == (every[3:], "4")
    assert await matching(-201, publisher, offset=10) == ([], "4")  # past the end: counted
    assert await matching(-202, publisher) == (every[1:], "3")  # no category: untargeted only
    assert await matching(-203, publisher) == ([], "0")  # no enabled price
    assert await matching(-204, publisher) == (404, "channel_not_found")
    assert await matching(-201, await login(client, 5001)) == (every, "4")
    assert await matching(-201, await login(client, 5002)) == (403, "not_channel_manager")
    assert await matching(-201, {}) == (401, "not_authenticated")
    # A total counted for a full page is kept until a campaign is written.
    paused = await client.patch(
        f"/v1/campaigns/{ids['any_30']}", json={"status": "paused"}, headers=advertiser
    )
    assert paused.status_code == 200, paused.text
    assert await matching(-201, publisher, limit=2) == (["crypto_50", "any_40"], "3")


async def test_campaign_ending_is_sent_once_on_the_last_day(client: httpx.AsyncClient) -> None:
    advertiser = await login(client, ADVERTISER)
    for title, deadline, status in [
        ("Ends today", today_plus(0), None),
        ("Paused, ends today", today_plus(0), "paused"),
        ("Completed, ends today", today_plus(0), "completed"),
        ("Ends tomorrow", today_plus(1), None),
        ("No deadline", None, None),
    ]:
        created = await client.post(
            "/v1/campaigns", json={"title": title, "deadline": deadline}, headers=advertiser
        )
        if status:
            await client.patch(
                f"/v1/campaigns/{created.json()['id']}", json={"status": status}, headers=advertiser
            )

    await sweep_ending(runtime_of(client))
    await sweep_ending(runtime_of(client))

    inbox = (await client.get("/v1/notifications", headers=advertiser)).json()
    assert sorted(n["title"] for n in inbox) == [
        "“Ends today” ends today", "“Paused, ends today” ends today",
    ]  # fmt: skip
    assert {n["type"] for n in inbox} == {"campaign_ending"}
    assert {n["relatedType"] for n in inbox} == {"campaign"}
