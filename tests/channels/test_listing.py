"""Listing a channel over the API, verified through the production aiogram client against the
Telegram emulator: success, every refusal with its message, private channels, re-listing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from chainfluence_sandbox.telegram import TelegramEmulatorControl
from tests.channels.world import channel_with_bot, list_channel, publisher

pytestmark = pytest.mark.usefixtures("db")


async def test_creator_lists_a_public_channel_where_the_bot_is_admin(
    client: httpx.AsyncClient, control: TelegramEmulatorControl
) -> None:
    owner = await publisher(client, control)
    chat = await channel_with_bot(control, owner.user, subscribers=4_200)

    response = await client.post(
        "/v1/channels", json={"username": "@ad_friendly"}, headers=owner.headers
    )

    assert response.status_code == 201, response.text
    channel = response.json()
    assert channel["id"] == str(chat.id)
    assert channel["ownerId"] == str(owner.user.id)
    assert channel["username"] == "ad_friendly"
    assert channel["title"] == "Ad Friendly"
    assert channel["isVerified"] is True
    assert channel["isActive"] is True
    # Telegram counts the creator and the bot too.
    assert channel["subscribers"] == chat.member_count + 1
    me = await client.get("/v1/users/me", headers=owner.headers)
    assert me.json()["isPublisher"] is True
    mine = await client.get("/v1/channels/mine", headers=owner.headers)
    assert [c["id"] for c in mine.json()] == [str(chat.id)]


@pytest.mark.parametrize(
    "reference", ["ad_friendly", "@ad_friendly", "https://t.me/ad_friendly", "t.me/ad_friendly"]
)
async def test_a_username_may_be_given_in_the_forms_people_copy(
    client: httpx.AsyncClient, control: TelegramEmulatorControl, reference: str
) -> None:
    owner = await publisher(client, control)
    await channel_with_bot(control, owner.user)

    response = await client.post(
        "/v1/channels", json={"username": reference}, headers=owner.headers
    )

    assert response.status_code == 201, response.text


async def _refusal(
    client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any]
) -> tuple[int, str, str]:
    response = await client.post("/v1/channels", json=body, headers=headers)
    payload = response.json()
    return response.status_code, payload["code"], payload["message"]


async def test_refused_when_the_bot_is_not_an_administrator(
    client: httpx.AsyncClient, control: TelegramEmulatorControl
) -> None:
    owner = await publisher(client, control)
    await control.create_channel("Ad Friendly", owner_id=owner.user.id, username="ad_friendly")

    status, code, message = await _refusal(client, owner.headers, {"username": "ad_friendly"})

    assert (status, code) == (403, "bot_not_admin")
    assert "@chainfluence_test_bot is not an administrator of Ad Friendly" in message
    assert "rights to post, edit and delete" in message


async def test_refused_when_the_bot_was_removed_and_banned(
    client: httpx.AsyncClient, control: TelegramEmulatorControl
) -> None:
    owner = await publisher(client, control)
    chat = await channel_with_bot(control, owner.user)
    bot_id = (await control.bot()).id
    await control.remove_member(chat.id, bot_id, ban=True)

    status, code, message = await _refusal(client, owner.headers, {"username": "ad_friendly"})

    assert (status, code) == (403, "bot_not_admin")
    assert "was removed from @ad_friendly and banned" in message


@pytest.mark.parametrize(
    ("rights", "code", "words"),
    [
        (
            {"can_post_messages": False, "can_edit_messages": True, "can_delete_messages": True},
            "bot_cannot_post",
            "lacks the right to post messages.",
        ),
        (
            {"can_post_messages": False, "can_edit_messages": False, "can_delete_messages": True},
            "bot_cannot_post",
            "lacks the right to post messages and edit messages of others",
        ),
        (
            {"can_post_messages": True, "can_edit_messages": False, "can_delete_messages": False},
            "bot_cannot_edit_or_delete",
            "can post in Ad Friendly but lacks the right to edit messages of others and delete",
        ),
        (
            {"can_post_messages": True, "can_edit_messages": True, "can_delete_messages": False},
            "bot_cannot_edit_or_delete",
            "lacks the right to delete messages of others",
        ),
    ],
)
async def test_refused_when_the_bot_lacks_rights(
    client: httpx.AsyncClient,
    control: TelegramEmulatorControl,
    rights: dict[str, bool],
    code: str,
    words: str,
) -> None:
    owner = await publisher(client, control)
    await channel_with_bot(control, owner.user, rights=rights)

    status, got_code, message = await _refusal(client, owner.headers, {"username": "ad_friendly"})

    assert (status, got_code) == (403, code)
    assert words in message


async def test_refused_when_the_caller_is_not_an_administrator_of_the_channel(
    client: httpx.AsyncClient, control: TelegramEmulatorControl
) -> None:
    owner = await control.create_user("Olga", username="olga_owner")
    await channel_with_bot(control, owner)
    stranger = await publisher(client, control, "Sam", "sam_reader")
    await control.add_member("@ad_friendly", stranger.user.id)

    status, code, message = await _refusal(client, stranger.headers, {"username": "ad_friendly"})

    assert (status, code) == (403, "not_channel_admin")
    assert message.startswith("You are not an administrator of Ad Friendly on Telegram.")


async def test_refused_when_another_administrator_already_lists_it(
    client: httpx.AsyncClient, control: TelegramEmulatorControl
) -> None:
    owner = await publisher(client, control)
    chat = await channel_with_bot(control, owner.user)
    await list_channel(client, owner, chat)
    colleague = await publisher(client, control, "Pavel", "pavel_admin")
    await control.add_member(chat.id, colleague.user.id)
    await control.promote(chat.id, colleague.user.id, rights={"can_post_messages": True})

    status, code, message = await _refusal(client, colleague.headers, {"username": "ad_friendly"})

    assert (status, code) == (409, "channel_already_listed")
    assert "already listed by another administrator" in message


async def test_refused_for_a_group(
    client: httpx.AsyncClient, control: TelegramEmulatorControl
) -> None:
    owner = await publisher(client, control)
    await control.create_group("Chatty", owner_id=owner.user.id, username="chatty_group")

    status, code, message = await _refusal(client, owner.headers, {"username": "chatty_group"})

    assert (status, code) == (422, "not_a_channel")
    assert message == "Chatty is a group, not a channel. Only Telegram channels can be listed."


@pytest.mark.parametrize("body", [{"username": "no_such_channel"}, {"channelId": "-1009999999"}])
async def test_refused_for_a_channel_telegram_does_not_show_the_bot(
    client: httpx.AsyncClient, control: TelegramEmulatorControl, body: dict[str, str]
) -> None:
    owner = await publisher(client, control)

    status, code, message = await _refusal(client, owner.headers, body)

    assert (status, code) == (404, "telegram_channel_not_found")
    assert "first add the bot as an administrator" in message


@pytest.mark.parametrize(
    "body",
    [{}, {"username": "ab"}, {"username": "has space"}, {"username": "x", "channelId": "-1"}],
)
async def test_malformed_requests_are_422(
    client: httpx.AsyncClient, control: TelegramEmulatorControl, body: dict[str, str]
) -> None:
    owner = await publisher(client, control)

    response = await client.post("/v1/channels", json=body, headers=owner.headers)

    assert response.status_code == 422


@pytest.mark.parametrize("id_form", ["bot_api", "app"])
async def test_a_private_channel_is_listed_by_its_id(
    client: httpx.AsyncClient, control: TelegramEmulatorControl, id_form: str
) -> None:
    owner = await publisher(client, control)
    chat = await channel_with_bot(control, owner.user, title="Insiders", username=None)
    # Apps show "1000000001" for the Bot API's "-1001000000001".
    given = str(chat.id) if id_form == "bot_api" else str(chat.id).removeprefix("-100")

    response = await client.post("/v1/channels", json={"channelId": given}, headers=owner.headers)

    assert response.status_code == 201, response.text
    assert response.json()["id"] == str(chat.id)
    assert response.json()["username"] is None


async def test_listing_again_returns_the_listing_and_relisting_a_deleted_one_reactivates_it(
    client: httpx.AsyncClient, control: TelegramEmulatorControl
) -> None:
    owner = await publisher(client, control)
    chat = await channel_with_bot(control, owner.user)
    channel = await list_channel(client, owner, chat)
    path = f"/v1/channels/{channel['id']}"
    pricing = [{"format": "1/24", "price": 12.5, "enabled": True, "description": None}]
    await client.patch(path, json={"pricing": pricing}, headers=owner.headers)

    again = await client.post(
        "/v1/channels", json={"username": "ad_friendly"}, headers=owner.headers
    )
    assert again.status_code == 200

    deleted = await client.delete(path, headers=owner.headers)
    assert deleted.status_code == 200, deleted.text
    assert (await client.get(path)).status_code == 404
    assert (await client.get("/v1/channels")).json() == []

    relisted = await client.post(
        "/v1/channels", json={"username": "ad_friendly"}, headers=owner.headers
    )
    assert relisted.status_code == 201
    assert relisted.json()["isActive"] is True
    assert relisted.json()["pricing"][0]["price"] == 12.5
    assert [c["id"] for c in (await client.get("/v1/channels")).json()] == [channel["id"]]


async def test_another_administrator_may_take_over_a_listing_its_owner_deleted(
    client: httpx.AsyncClient, control: TelegramEmulatorControl
) -> None:
    owner = await publisher(client, control)
    chat = await channel_with_bot(control, owner.user)
    channel = await list_channel(client, owner, chat)
    await client.delete(f"/v1/channels/{channel['id']}", headers=owner.headers)
    colleague = await publisher(client, control, "Pavel", "pavel_admin")
    await control.add_member(chat.id, colleague.user.id)
    await control.promote(chat.id, colleague.user.id)

    taken = await list_channel(client, colleague, chat)

    assert taken["ownerId"] == str(colleague.user.id)
