"""Editing a listing: pricing validation, who may edit, pausing and reactivating, deleting
(refused while deals are open), managers synced from Telegram."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest

from chainfluence.kit.time import utcnow
from chainfluence_sandbox.telegram import TelegramEmulatorControl
from tests.channels.world import Publisher, channel_with_bot, list_channel, publisher
from tests.conftest import runtime_of
from tests.factories import login

pytestmark = pytest.mark.usefixtures("db")


async def _listed(
    client: httpx.AsyncClient, control: TelegramEmulatorControl
) -> tuple[Publisher, dict[str, Any]]:
    owner = await publisher(client, control)
    chat = await channel_with_bot(control, owner.user)
    return owner, await list_channel(client, owner, chat)


async def test_owner_sets_category_description_language_and_pricing(
    client: httpx.AsyncClient, control: TelegramEmulatorControl
) -> None:
    owner, channel = await _listed(client, control)
    pricing = [
        {"format": "2/48", "price": 20, "enabled": True, "description": "Two hours on top"},
        {"format": "1/24", "price": 12.5, "enabled": True, "description": None},
        {"format": "eternal", "price": "100.000000001", "enabled": False, "description": None},
    ]

    response = await client.patch(
        f"/v1/channels/{channel['id']}",
        json={"category": "crypto", "description": "Daily", "language": "EN", "pricing": pricing},
        headers=owner.headers,
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["category"], body["description"], body["language"]) == ("crypto", "Daily", "en")
    assert [(p["format"], p["price"], p["enabled"]) for p in body["pricing"]] == [
        ("1/24", 12.5, True),
        ("2/48", 20, True),
        ("eternal", 100.000000001, False),
    ]
    assert body["minPrice"] == 12.5
    # Replacing the list removes formats left out.
    again = await client.patch(
        f"/v1/channels/{channel['id']}",
        json={"pricing": [{"format": "test", "price": 1, "enabled": True, "description": None}]},
        headers=owner.headers,
    )
    assert [p["format"] for p in again.json()["pricing"]] == ["test"]
    assert again.json()["category"] == "crypto"


@pytest.mark.parametrize(
    "body",
    [
        {"pricing": [{"format": "1/12", "price": 1, "enabled": True}]},
        {"pricing": [{"format": "1/24", "price": -1, "enabled": True}]},
        {"pricing": [{"format": "1/24", "price": 1.0000000001, "enabled": True}]},
        {"pricing": [{"format": "1/24", "price": "lots", "enabled": True}]},
        {"pricing": [{"format": "1/24", "price": 10**10, "enabled": True}]},
        {"pricing": [{"format": "1/24", "price": 1, "enabled": "maybe"}]},
        {"pricing": [{"format": "1/24", "price": 1}, {"format": "1/24", "price": 2}]},
        {"pricing": None},
        {"category": "astrology"},
        {"language": "English"},
        {"isActive": None},
        {"title": "renamed"},
    ],
)
async def test_invalid_updates_are_422_and_change_nothing(
    client: httpx.AsyncClient, control: TelegramEmulatorControl, body: dict[str, Any]
) -> None:
    owner, channel = await _listed(client, control)

    response = await client.patch(f"/v1/channels/{channel['id']}", json=body, headers=owner.headers)

    assert response.status_code == 422, response.text
    after = (await client.get(f"/v1/channels/{channel['id']}")).json()
    assert after["pricing"] == [] and after["category"] is None  # noqa: PT018


async def test_an_administrator_who_is_our_user_may_edit_a_stranger_may_not(
    client: httpx.AsyncClient, control: TelegramEmulatorControl
) -> None:
    owner = await publisher(client, control)
    manager = await publisher(client, control, "Pavel", "pavel_admin")
    chat = await channel_with_bot(control, owner.user)
    await control.add_member(chat.id, manager.user.id)
    # The rights a manager needs: post, edit and delete (not promoting others, for instance).
    rights = {"can_post_messages": True, "can_edit_messages": True, "can_delete_messages": True}
    await control.promote(chat.id, manager.user.id, rights=rights)
    channel = await list_channel(client, owner, chat)
    stranger = await publisher(client, control, "Sam", "sam_reader")
    path = f"/v1/channels/{channel['id']}"

    by_manager = await client.patch(path, json={"category": "news"}, headers=manager.headers)
    by_stranger = await client.patch(path, json={"category": "tech"}, headers=stranger.headers)
    delete_by_manager = await client.delete(path, headers=manager.headers)

    assert by_manager.status_code == 200
    assert (by_stranger.status_code, by_stranger.json()["code"]) == (403, "not_channel_manager")
    assert (delete_by_manager.status_code, delete_by_manager.json()["code"]) == (
        403,
        "not_channel_owner",
    )
    mine = await client.get("/v1/channels/mine", headers=manager.headers)
    assert [c["id"] for c in mine.json()] == [channel["id"]]
    managers = (await client.get(f"{path}/managers", headers=manager.headers)).json()
    by_id = {m["userId"]: m for m in managers}
    assert set(by_id) == {str(owner.user.id), str(manager.user.id)}
    assert by_id[str(owner.user.id)]["isOwner"] is True
    assert by_id[str(owner.user.id)]["isCreator"] is True
    assert by_id[str(manager.user.id)]["isUser"] is True
    assert by_id[str(manager.user.id)]["canPostMessages"] is True
    assert by_id[str(manager.user.id)]["canDeleteMessages"] is True
    assert (await client.get(f"{path}/managers", headers=stranger.headers)).status_code == 403


async def test_pausing_hides_the_channel_and_reactivating_rechecks_the_bot(
    client: httpx.AsyncClient, control: TelegramEmulatorControl
) -> None:
    owner, channel = await _listed(client, control)
    path = f"/v1/channels/{channel['id']}"

    paused = await client.patch(path, json={"isActive": False}, headers=owner.headers)
    assert (paused.json()["isActive"], paused.json()["inactiveReason"]) == (False, "owner")
    assert (await client.get("/v1/channels")).json() == []

    await control.demote_bot(int(channel["id"]), by_user_id=owner.user.id)
    refused = await client.patch(path, json={"isActive": True}, headers=owner.headers)
    assert (refused.status_code, refused.json()["code"]) == (409, "channel_gone")

    await control.add_bot_as_admin(int(channel["id"]), by_user_id=owner.user.id)
    back = await client.patch(path, json={"isActive": True}, headers=owner.headers)
    assert back.status_code == 200
    assert back.json()["isActive"] is True
    assert [c["id"] for c in (await client.get("/v1/channels")).json()] == [channel["id"]]


async def test_delete_is_refused_while_a_deal_is_open(
    client: httpx.AsyncClient, control: TelegramEmulatorControl
) -> None:
    owner, channel = await _listed(client, control)
    path = f"/v1/channels/{channel['id']}"
    await client.patch(
        path,
        json={"pricing": [{"format": "2/48", "price": 10, "enabled": True}]},
        headers=owner.headers,
    )
    advertiser = await login(client, 5001, first_name="Ada", username="ada_ads")
    offer = await client.post(
        f"{path}/offers",
        json={
            "format": "2/48",
            "amount": "10",
            "proposedDate": (utcnow() + dt.timedelta(days=3)).date().isoformat(),
        },
        headers=advertiser,
    )
    assert offer.status_code == 201, offer.text
    accepted = await client.post(f"/v1/offers/{offer.json()['id']}/accept", headers=owner.headers)
    assert accepted.status_code == 200, accepted.text

    refused = await client.delete(path, headers=owner.headers)

    assert (refused.status_code, refused.json()["code"]) == (409, "channel_has_open_deals")
    assert "1 deal is still open" in refused.json()["message"]
    assert (await client.get(path)).status_code == 200
    # The deal's notifications are still being pushed; let them finish before teardown.
    await runtime_of(client).queue.drain()  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("Crypto", "crypto"),
        ("DeFi", "defi"),
        ("Trading", "trading"),
        ("NFT", "nft"),
        (" tech ", "tech"),
    ],
)
async def test_categories_as_the_mini_app_spells_them_are_accepted_and_answered_canonical(
    client: httpx.AsyncClient, control: TelegramEmulatorControl, sent: str, stored: str
) -> None:
    owner, channel = await _listed(client, control)

    updated = await client.patch(
        f"/v1/channels/{channel['id']}", json={"category": sent}, headers=owner.headers
    )
    found = await client.get("/v1/channels", params={"category": sent})
    campaign = await client.post(
        "/v1/campaigns",
        json={"title": "Launch", "category": sent, "preferredCategories": [sent, stored]},
        headers=owner.headers,
    )
    campaigns = await client.get("/v1/campaigns", params={"category": sent})

    assert updated.status_code == 200, updated.text
    assert updated.json()["category"] == stored
    assert [c["id"] for c in found.json()] == [channel["id"]]
    assert campaign.status_code == 201, campaign.text
    assert (campaign.json()["category"], campaign.json()["preferredCategories"]) == (
        stored, [stored],
    )  # fmt: skip
    assert [c["id"] for c in campaigns.json()] == [campaign.json()["id"]]


async def test_a_channel_is_listed_under_the_category_sent_with_it(
    client: httpx.AsyncClient, control: TelegramEmulatorControl
) -> None:
    owner = await publisher(client, control)
    chat = await channel_with_bot(control, owner.user)

    listed = await client.post(
        "/v1/channels", json={"username": chat.username, "category": "NFT"}, headers=owner.headers
    )
    unknown = await client.patch(
        f"/v1/channels/{listed.json()['id']}",
        json={"category": "Astrology"},
        headers=owner.headers,
    )
    await runtime_of(client).queue.drain()  # type: ignore[attr-defined]

    assert listed.status_code == 201, listed.text
    assert listed.json()["category"] == "nft"
    assert unknown.status_code == 422
    assert "category" in unknown.text
