"""A small marketplace for offer and campaign tests: an advertiser with a campaign, a publisher
with a priced channel, and a stranger, all logged in through the API."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import httpx

from chainfluence.kit.time import utcnow
from tests.conftest import runtime_of
from tests.factories import create_channel, login

ADVERTISER = 2001
PUBLISHER = 3001
STRANGER = 4001
CHANNEL = -1001000000001


@dataclass
class World:
    client: httpx.AsyncClient
    advertiser: dict[str, str]
    publisher: dict[str, str]
    stranger: dict[str, str]
    campaign_id: int
    channel_id: int

    def as_(self, who: str) -> dict[str, str]:
        return {"advertiser": self.advertiser, "publisher": self.publisher}.get(who, self.stranger)

    async def apply(self, **overrides: Any) -> httpx.Response:
        """The publisher applies to the campaign for the channel."""
        body = {"channelId": str(self.channel_id), "amount": "10", "format": "2/48", **overrides}
        return await self.client.post(
            f"/v1/campaigns/{self.campaign_id}/offers", json=body, headers=self.publisher
        )

    async def book(self, **overrides: Any) -> httpx.Response:
        """The advertiser books the channel directly."""
        body = {"format": "2/48", "amount": "12.5", "proposedDate": in_days(3), **overrides}
        return await self.client.post(
            f"/v1/channels/{self.channel_id}/offers", json=body, headers=self.advertiser
        )

    async def offer(self, offer_id: int, as_: str = "advertiser") -> dict[str, Any]:
        response = await self.client.get(f"/v1/offers/{offer_id}", headers=self.as_(as_))
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def deals(self, as_: str) -> list[dict[str, Any]]:
        response = await self.client.get("/v1/deals", headers=self.as_(as_))
        assert response.status_code == 200, response.text
        deals: list[dict[str, Any]] = response.json()
        return deals

    async def notifications(self, as_: str) -> list[str]:
        response = await self.client.get("/v1/notifications", headers=self.as_(as_))
        return [n["type"] for n in response.json()]


def in_days(days: float) -> str:
    return (utcnow() + dt.timedelta(days=days)).isoformat().replace("+00:00", "Z")


def today_plus(days: int) -> str:
    return (utcnow().date() + dt.timedelta(days=days)).isoformat()


async def make_world(
    client: httpx.AsyncClient,
    *,
    campaign: dict[str, Any] | None = None,
    prices: dict[str, str | tuple[str, bool]] | None = None,
    **channel: Any,
) -> World:
    advertiser = await login(client, ADVERTISER, first_name="Ada", username="ada")
    publisher = await login(client, PUBLISHER, first_name="Pat", username="pat")
    stranger = await login(client, STRANGER, first_name="Sam", username="sam")
    body = {
        "title": "Launch week",
        "description": "Our wallet launches",
        "category": "crypto",
        "budget": "20",
        "preferredFormats": ["2/48", "1/24"],
        "preferredCategories": ["crypto"],
        "deadline": today_plus(30),
        **(campaign or {}),
    }
    created = await client.post("/v1/campaigns", json=body, headers=advertiser)
    assert created.status_code == 201, created.text
    channel_id = await create_channel(
        runtime_of(client),
        owner_id=PUBLISHER,
        channel_id=CHANNEL,
        prices=prices if prices is not None else {"2/48": "10", "1/24": "6"},
        **channel,
    )
    return World(client, advertiser, publisher, stranger, created.json()["id"], channel_id)
