"""A small Telegram world for channel tests, built through the emulator's control API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from chainfluence_sandbox.telegram import TelegramEmulatorControl
from chainfluence_sandbox.telegram.schemas import ChatOut, UserOut
from tests.conftest import runtime_of
from tests.factories import login


@dataclass
class Publisher:
    user: UserOut
    headers: dict[str, str]


async def publisher(
    client: httpx.AsyncClient,
    control: TelegramEmulatorControl,
    first_name: str = "Olga",
    username: str = "olga_owner",
) -> Publisher:
    """A person known to Telegram (the emulator) who logged in to the Mini App."""
    user = await control.create_user(first_name, username=username)
    headers = await login(client, user.id, first_name=first_name, username=username)
    return Publisher(user, headers)


async def channel_with_bot(
    control: TelegramEmulatorControl,
    owner: UserOut,
    *,
    title: str = "Ad Friendly",
    username: str | None = "ad_friendly",
    subscribers: int = 1_000,
    rights: dict[str, bool] | None = None,
) -> ChatOut:
    """A channel whose creator made the bot an administrator (default rights: what apps pick)."""
    chat = await control.create_channel(
        title, owner_id=owner.id, username=username, subscribers=subscribers
    )
    await control.add_bot_as_admin(chat.id, rights=rights, by_user_id=owner.id)
    return chat


async def list_channel(
    client: httpx.AsyncClient, owner: Publisher, chat: ChatOut, **extra: Any
) -> dict[str, Any]:
    body = {"username": chat.username} if chat.username else {"channelId": str(chat.id)}
    response = await client.post("/v1/channels", json=body, headers=owner.headers)
    assert response.status_code == 201, response.text
    channel: dict[str, Any] = response.json()
    # Let the first stats refresh it queued finish, so it never overlaps the test's teardown.
    queue: Any = runtime_of(client).queue
    await queue.drain()
    return channel
