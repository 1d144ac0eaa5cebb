"""Stats: a refresh fills figures from Telegram and the emulator-backed views provider, each with
its source; reading stats never calls Telegram; the bot's observed posts count."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from chainfluence.channels import repository
from chainfluence.kit import time as clock
from chainfluence_sandbox.telegram import TelegramEmulatorControl
from tests.channels.world import Publisher, channel_with_bot, list_channel, publisher
from tests.conftest import runtime_of
from tests.factories import eventually, login

pytestmark = pytest.mark.usefixtures("db")

ENGLISH = "Markets closed higher today as investors weighed the latest inflation figures."
RUSSIAN = "Рынки закрылись ростом: инвесторы оценили свежие данные по инфляции и ставкам."


async def _refreshed(client: httpx.AsyncClient, channel_id: str, owner: Publisher) -> dict:
    # A fresh login: the clock may have moved past the first token's lifetime.
    headers = await login(client, owner.user.id)
    response = await client.post(f"/v1/channels/{channel_id}/refresh-stats", headers=headers)
    assert response.status_code == 202, response.text
    await runtime_of(client).queue.drain()  # type: ignore[attr-defined]
    stats = await client.get(f"/v1/channels/{channel_id}/stats")
    assert stats.status_code == 200
    return stats.json()


@pytest.mark.usefixtures("bot_polling")
async def test_refresh_fills_subscribers_and_avg_views_from_the_channel_posts(
    client: httpx.AsyncClient, control: TelegramEmulatorControl
) -> None:
    owner = await publisher(client, control)
    chat = await channel_with_bot(control, owner.user, subscribers=9_998)
    for text, views in [(ENGLISH, 1_000), (ENGLISH, 3_000), (RUSSIAN, 2_000), (ENGLISH, 2_000)]:
        await control.post(chat.id, text=text, views=views)
    channel = await list_channel(client, owner, chat)
    # Views settle over a day; the refresh counts posts at least 24 hours old.
    clock.advance(dt.timedelta(days=2))
    await control.post(chat.id, text="Fresh post, still gathering views today.", views=50)

    stats = await _refreshed(client, channel["id"], owner)

    assert stats["subscriberCount"] == 10_000
    assert stats["avgViews"] == 2_000
    assert stats["engagementRate"] == 20.0
    assert stats["topPostsViews"] == [3_000, 2_000, 2_000, 1_000, 50]
    assert stats["languageDistribution"] == {"en": 80.0, "ru": 20.0}
    assert stats["postsPerWeek"] == pytest.approx(5 / 30 * 7, abs=0.1)
    assert stats["source"] == "emulator"
    assert stats["sources"]["subscribers"]["source"] == "bot_api"
    assert stats["sources"]["avgViews"]["posts"] == 4
    assert stats["updatedAt"] is not None
    listing = (await client.get(f"/v1/channels/{channel['id']}")).json()
    assert listing["avgViews"] == 2_000
    assert listing["statsUpdatedAt"] == stats["updatedAt"]


async def test_reading_stats_makes_no_telegram_call(
    client: httpx.AsyncClient, control: TelegramEmulatorControl
) -> None:
    owner = await publisher(client, control)
    chat = await channel_with_bot(control, owner.user)
    channel = await list_channel(client, owner, chat)
    await runtime_of(client).queue.drain()  # type: ignore[attr-defined]
    await control.clear_calls()

    for _ in range(3):
        assert (await client.get(f"/v1/channels/{channel['id']}/stats")).status_code == 200
        assert (await client.get(f"/v1/channels/{channel['id']}")).status_code == 200
    assert (await client.get("/v1/channels")).status_code == 200

    assert await control.calls() == []


async def test_unknown_figures_stay_null_without_a_views_provider(
    client: httpx.AsyncClient, control: TelegramEmulatorControl
) -> None:
    owner = await publisher(client, control)
    chat = await channel_with_bot(control, owner.user)
    await control.post(chat.id, text=ENGLISH, views=500)
    runtime_of(client).stats_providers.clear()
    channel = await list_channel(client, owner, chat)
    clock.advance(dt.timedelta(days=2))

    stats = await _refreshed(client, channel["id"], owner)

    assert stats["subscriberCount"] is not None
    assert stats["avgViews"] is None
    assert stats["engagementRate"] is None
    assert stats["topPostsViews"] is None
    assert stats["source"] == "bot_api"


@pytest.mark.usefixtures("bot_polling")
async def test_posts_the_bot_sees_count_for_posts_per_week_and_language(
    client: httpx.AsyncClient, control: TelegramEmulatorControl
) -> None:
    owner = await publisher(client, control)
    chat = await channel_with_bot(control, owner.user)
    channel = await list_channel(client, owner, chat)
    runtime_of(client).stats_providers.clear()
    ids = {(await control.post(chat.id, text=RUSSIAN)).message_id for _ in range(3)}
    runtime = runtime_of(client)

    async def stored() -> set[int]:
        # Delivered is not enough: the bot handles updates concurrently and stores them after.
        since = clock.utcnow() - dt.timedelta(days=1)
        async with runtime.session(write=False) as session:
            return {p.message_id for p in await repository.posts_since(session, chat.id, since)}

    await eventually(stored, lambda seen: ids <= seen)
    clock.advance(dt.timedelta(days=7))

    stats = await _refreshed(client, channel["id"], owner)

    assert stats["languageDistribution"] == {"ru": 100.0}
    assert stats["postsPerWeek"] == pytest.approx(3.0, abs=0.1)
    assert stats["sources"]["postsPerWeek"]["source"] == "update"


async def test_refresh_is_limited_per_channel_and_for_managers_only(
    client: httpx.AsyncClient, control: TelegramEmulatorControl
) -> None:
    owner = await publisher(client, control)
    chat = await channel_with_bot(control, owner.user)
    channel = await list_channel(client, owner, chat)
    stranger = await publisher(client, control, "Sam", "sam_reader")
    path = f"/v1/channels/{channel['id']}/refresh-stats"
    limits = runtime_of(client).settings.rate_limit.model_copy(update={"enabled": True})
    runtime_of(client).settings.rate_limit = limits

    refused = await client.post(path, headers=stranger.headers)
    first = await client.post(path, headers=owner.headers)
    second = await client.post(path, headers=owner.headers)

    assert (refused.status_code, refused.json()["code"]) == (403, "not_channel_manager")
    assert first.status_code == 202
    assert (second.status_code, second.json()["code"]) == (429, "stats_refresh_too_soon")
    assert int(second.headers["Retry-After"]) >= 1
