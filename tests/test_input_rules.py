"""Input rules (kit.schemas, kit.text, kit.money): inputs that once reached a 500 or were
stored leniently are refused with a 422 and change nothing, the same on SQLite and PostgreSQL.

Each test replays a finding of the hardening review (issue 12) through the HTTP API.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from chainfluence.kit.schemas import INT64_MAX
from tests.factories import login
from tests.offers.world import ADVERTISER, PUBLISHER, World, in_days, make_world

BEYOND_INT64 = str(INT64_MAX + 1)


def assert_refused(response: httpx.Response, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == 422, response.text
    body: dict[str, Any] = response.json()
    assert body["code"] == "validation_error"
    assert body["message"]
    if field is not None:
        assert any(e["field"].endswith(field) for e in body["errors"]), body
    return body


@pytest.mark.parametrize("name", ["minSubscribers", "maxSubscribers", "minAvgViews"])
async def test_catalogue_integers_beyond_int64_are_refused_without_login(
    client: httpx.AsyncClient, name: str
) -> None:
    too_big = await client.get("/v1/channels", params={name: BEYOND_INT64})
    largest = await client.get("/v1/channels", params={name: str(INT64_MAX)})

    assert_refused(too_big, name)
    assert largest.status_code == 200, largest.text


@pytest.mark.parametrize("value", ["1_0", "١٠", " 10", "+10", "-1", "1e3"])
async def test_catalogue_integers_are_ascii_digits(client: httpx.AsyncClient, value: str) -> None:
    assert_refused(await client.get("/v1/channels", params={"minSubscribers": value}))


@pytest.mark.parametrize("action", ["approve", "request-changes"])
async def test_creative_version_beyond_int64_is_refused(
    client: httpx.AsyncClient, action: str
) -> None:
    world = await make_world(client)
    offer = (await world.apply(proposedDate=in_days(2))).json()
    deal_id = (
        await client.post(f"/v1/offers/{offer['id']}/accept", headers=world.advertiser)
    ).json()["dealId"]

    response = await client.post(
        f"/v1/deals/{deal_id}/creatives/{BEYOND_INT64}/{action}",
        json={"comment": "Shorter please"} if action == "request-changes" else None,
        headers=world.publisher,
    )

    assert_refused(response, "version")


@pytest.mark.parametrize("path", ["/v1/users/١٢", "/v1/users/1_2", "/v1/users/%2012"])
async def test_ids_are_ascii_digits(client: httpx.AsyncClient, path: str) -> None:
    await login(client, 12)

    assert_refused(await client.get(path))
    assert (await client.get("/v1/users/12")).status_code == 200


@pytest.mark.parametrize("route", ["/v1/campaigns", "/v1/channels"])
@pytest.mark.parametrize("q", ["\x00", "wallet\x00", "a\x07b"])
async def test_search_text_with_nul_or_control_characters_is_refused(
    client: httpx.AsyncClient, route: str, q: str
) -> None:
    # On SQLite a NUL once matched everything, on PostgreSQL it was a 500.
    assert_refused(await client.get(route, params={"q": q}), "q")
    assert (await client.get(route, params={"q": "wallet"})).status_code == 200


async def _campaigns(world: World) -> list[dict[str, Any]]:
    response = await world.client.get("/v1/campaigns/mine", headers=world.advertiser)
    assert response.status_code == 200
    campaigns: list[dict[str, Any]] = response.json()
    return campaigns


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", "Launch\x00week"),
        ("creativeText", "Try\x00it"),
        ("title", "Launch\x1bweek"),
        ("description", "bell\x07"),
        ("title", "\u200b\u200b\u200b"),
        ("title", "\u3164"),
        ("title", "\ud800"),
        ("preferredCategories", ["crypto\x00"]),
    ],
)
async def test_campaign_text_must_be_storable_and_visible(
    client: httpx.AsyncClient, field: str, value: Any
) -> None:
    world = await make_world(client)
    before = await _campaigns(world)

    # JSON with \u escapes, as a client sends a lone surrogate.
    headers = {**world.advertiser, "Content-Type": "application/json"}
    created = await client.post(
        "/v1/campaigns",
        content=json.dumps({"title": "Spring", "category": "crypto", field: value}),
        headers=headers,
    )
    updated = await client.patch(
        f"/v1/campaigns/{world.campaign_id}", content=json.dumps({field: value}), headers=headers
    )

    assert_refused(created)
    assert_refused(updated)
    assert await _campaigns(world) == before


async def test_newlines_and_tabs_are_kept_in_text(client: httpx.AsyncClient) -> None:
    world = await make_world(client)

    created = await client.post(
        "/v1/campaigns",
        json={"title": "Spring", "category": "crypto", "creativeText": "Line one\n\tLine two"},
        headers=world.advertiser,
    )

    assert created.status_code == 201, created.text
    assert created.json()["creativeText"] == "Line one\n\tLine two"


async def test_channel_description_with_nul_is_refused(client: httpx.AsyncClient) -> None:
    world = await make_world(client)

    response = await client.patch(
        f"/v1/channels/{world.channel_id}",
        json={"description": "Daily\x00news"},
        headers=world.publisher,
    )
    channel = (await client.get(f"/v1/channels/{world.channel_id}")).json()

    assert_refused(response, "description")
    assert channel["description"] != "Daily\x00news"


async def test_booking_message_with_nul_is_refused(client: httpx.AsyncClient) -> None:
    world = await make_world(client)

    response = await world.book(message="Hello\x00there")
    offers = await client.get("/v1/offers/mine", headers=world.advertiser)

    assert_refused(response, "message")
    assert offers.json() == []


async def test_login_with_nul_in_first_name_logs_in_with_a_clean_name(
    client: httpx.AsyncClient,
) -> None:
    # Telegram signed the name: the person may log in; what the databases cannot hold is dropped.
    headers = await login(client, 5005, first_name="Al\x00ice\x1b")

    me = (await client.get("/v1/users/me", headers=headers)).json()

    assert me["firstName"] == "Alice"


@pytest.mark.parametrize(
    "amount", ["1_0", "١٠", "1e3", " 10 ", "10 ", "10.0000000000", "NaN", "Infinity", "0x10", ""]
)
async def test_lenient_amounts_are_refused(client: httpx.AsyncClient, amount: str) -> None:
    world = await make_world(client)

    booking = await world.book(amount=amount)
    application = await world.apply(amount=amount)
    catalogue = await client.get("/v1/channels", params={"maxPrice": amount})

    assert_refused(booking, "amount")
    assert_refused(application, "amount")
    assert_refused(catalogue, "maxPrice")
    assert (await client.get("/v1/offers/mine", headers=world.advertiser)).json() == []


@pytest.mark.parametrize(("amount", "nano"), [("10", "10000000000"), ("0.000000001", "1")])
async def test_plain_amounts_are_accepted(
    client: httpx.AsyncClient, amount: str, nano: str
) -> None:
    world = await make_world(client)

    booking = await world.book(amount=amount)

    assert booking.status_code == 201, booking.text
    assert booking.json()["amount"] == amount


async def test_negative_amount_says_so(client: httpx.AsyncClient) -> None:
    world = await make_world(client)

    body = assert_refused(await world.book(amount="-5"), "amount")

    assert "negative" in body["message"]


@pytest.mark.parametrize("price", [0, "0", "0.0"])
async def test_channel_price_zero_is_refused(client: httpx.AsyncClient, price: Any) -> None:
    world = await make_world(client)

    response = await client.patch(
        f"/v1/channels/{world.channel_id}",
        json={"pricing": [{"format": "2/48", "price": price}]},
        headers=world.publisher,
    )
    channel = (await client.get(f"/v1/channels/{world.channel_id}")).json()

    assert_refused(response, "price")
    assert {p["format"]: p["price"] for p in channel["pricing"]} == {"2/48": 10, "1/24": 6}


@pytest.mark.parametrize("value", [0, 1, "true", "yes", None])
async def test_body_booleans_are_json_booleans(client: httpx.AsyncClient, value: Any) -> None:
    headers = await login(client, PUBLISHER)

    response = await client.patch("/v1/users/me", json={"isPublisher": value}, headers=headers)
    me = (await client.get("/v1/users/me", headers=headers)).json()

    if value is None:
        assert response.status_code == 200  # null leaves the role as it is
    else:
        assert_refused(response, "isPublisher")
    assert me["isPublisher"] is False


@pytest.mark.parametrize("value", ["0", "1", "yes", "on", "True "])
async def test_query_booleans_are_true_or_false(client: httpx.AsyncClient, value: str) -> None:
    headers = await login(client, ADVERTISER)

    refused = await client.get("/v1/notifications", params={"unread": value}, headers=headers)
    accepted = await client.get("/v1/notifications", params={"unread": "true"}, headers=headers)

    assert_refused(refused, "unread")
    assert accepted.status_code == 200
