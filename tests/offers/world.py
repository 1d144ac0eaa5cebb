"""A small marketplace for offer and campaign tests: an advertiser with a campaign, a publisher
with a priced channel, and a stranger, all logged in through the API.

The channel is made on the Telegram emulator (the publisher creates it and makes our bot an
administrator), then listed and priced through POST/PATCH /v1/channels, as in production."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import httpx

from chainfluence.kit.time import utcnow
from chainfluence_sandbox.telegram import TelegramEmulatorControl
from chainfluence_sandbox.telegram.client import EmulatorControlError
from tests.conftest import runtime_of
from tests.factories import login

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


async def list_channel(
    client: httpx.AsyncClient,
    *,
    owner_id: int,
    chat_id: int,
    username: str,
    prices: dict[str, str | tuple[str, bool]],
    admins: dict[int, bool] | None = None,
    category: str = "crypto",
    subscribers: int = 10_000,
) -> int:
    """A channel created by `owner_id` on Telegram with our bot (and `admins`: user id → holds
    the post, edit and delete rights a manager needs, or none) as administrators, listed and
    priced by its owner through the API."""
    settings = runtime_of(client).settings
    assert settings.telegram.emulator_url is not None
    async with TelegramEmulatorControl(settings.telegram.emulator_url) as control:
        for user_id in {owner_id, *(admins or {})}:
            try:
                await control.user(user_id)
            except EmulatorControlError:
                await control.create_user(f"User {user_id}", user_id=user_id)
        chat = await control.create_channel(
            f"Channel {username}",
            owner_id=owner_id,
            username=username,
            subscribers=subscribers,
            chat_id=chat_id,
        )
        await control.add_bot_as_admin(chat.id, by_user_id=owner_id)
        for user_id, may_act in (admins or {}).items():
            rights = {"can_post_messages": may_act, "can_edit_messages": may_act}
            await control.promote(
                chat.id,
                user_id,
                rights={**rights, "can_delete_messages": may_act},
                by_user_id=owner_id,
            )
    owner = await login(client, owner_id)
    listed = await client.post("/v1/channels", json={"username": username}, headers=owner)
    assert listed.status_code == 201, listed.text
    pricing = [
        {"format": fmt, "price": price[0] if isinstance(price, tuple) else price,
         "enabled": price[1] if isinstance(price, tuple) else True}
        for fmt, price in prices.items()
    ]  # fmt: skip
    priced = await client.patch(
        f"/v1/channels/{chat.id}", json={"category": category, "pricing": pricing}, headers=owner
    )
    assert priced.status_code == 200, priced.text
    return chat.id


async def make_world(
    client: httpx.AsyncClient,
    *,
    campaign: dict[str, Any] | None = None,
    prices: dict[str, str | tuple[str, bool]] | None = None,
    channel_active: bool = True,
) -> World:
    channel_id = await list_channel(
        client,
        owner_id=PUBLISHER,
        chat_id=CHANNEL,
        username="pats_channel",
        prices=prices if prices is not None else {"2/48": "10", "1/24": "6"},
    )
    advertiser = await login(client, ADVERTISER, first_name="Ada", username="ada")
    publisher = await login(client, PUBLISHER, first_name="Pat", username="pat")
    stranger = await login(client, STRANGER, first_name="Sam", username="sam")
    if not channel_active:
        paused = await client.patch(
            f"/v1/channels/{channel_id}", json={"isActive": False}, headers=publisher
        )
        assert paused.status_code == 200, paused.text
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
    return World(client, advertiser, publisher, stranger, created.json()["id"], channel_id)
