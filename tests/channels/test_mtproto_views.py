"""Views over MTProto: the production provider (`telegram.mtproto`) runs against the Telethon client
double of the sandbox, which answers `channels.getMessages` with Telethon's TL objects from the
Telegram emulator. Stats are refreshed and read through the HTTP API."""

from __future__ import annotations

import asyncio
import datetime as dt

import httpx
import pytest
from telethon import functions

from chainfluence.channels import repository, stats
from chainfluence.kit import time as clock
from chainfluence.telegram.mtproto import MTProtoViewsProvider
from chainfluence_sandbox.telegram import TelegramEmulatorControl
from chainfluence_sandbox.telegram.mtproto import EmulatedMTProto
from tests.channels.world import Publisher, channel_with_bot, list_channel, publisher
from tests.conftest import runtime_of
from tests.factories import eventually, login

pytestmark = [pytest.mark.usefixtures("db"), pytest.mark.usefixtures("bot_polling")]

TEXT = "Markets closed higher today as investors weighed the latest inflation figures."


def _mtproto(client: httpx.AsyncClient, **options: object) -> tuple[EmulatedMTProto, list[float]]:
    """Swap the runtime's views providers for the MTProto one on the emulated server."""
    runtime = runtime_of(client)
    settings = runtime.settings.telegram
    assert settings.emulator_url is not None
    assert settings.bot_token is not None
    token = settings.bot_token.get_secret_value()
    server = EmulatedMTProto(settings.emulator_url, token)
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    provider = MTProtoViewsProvider(
        client_factory=server.client,
        bot_token=token,
        engine=runtime.engine,
        sleep=sleep,
        **options,  # type: ignore[arg-type]
    )
    runtime.stats_providers[:] = [provider]
    return server, slept


async def _refreshed(client: httpx.AsyncClient, channel_id: str, owner: Publisher) -> dict:
    headers = await login(client, owner.user.id)
    response = await client.post(f"/v1/channels/{channel_id}/refresh-stats", headers=headers)
    assert response.status_code == 202, response.text
    await runtime_of(client).queue.drain()  # type: ignore[attr-defined]
    stats = await client.get(f"/v1/channels/{channel_id}/stats")
    assert stats.status_code == 200
    return stats.json()


async def _posts_seen(
    client: httpx.AsyncClient, control: TelegramEmulatorControl, chat_id: int, views: list[int]
) -> list[int]:
    """Post in the channel and wait until the bot has stored the posts (their ids are what the
    MTProto provider asks about)."""
    ids = [(await control.post(chat_id, text=TEXT, views=v)).message_id for v in views]
    runtime = runtime_of(client)

    async def stored() -> set[int]:
        since = clock.utcnow() - dt.timedelta(days=1)
        async with runtime.session(write=False) as session:
            return {p.message_id for p in await repository.posts_since(session, chat_id, since)}

    await eventually(stored, lambda seen: set(ids) <= seen)
    return ids


async def test_avg_views_come_from_the_bots_mtproto_session(
    client: httpx.AsyncClient, control: TelegramEmulatorControl
) -> None:
    owner = await publisher(client, control)
    chat = await channel_with_bot(control, owner.user, subscribers=9_998)
    channel = await list_channel(client, owner, chat)
    server, _ = _mtproto(client)
    ids = await _posts_seen(client, control, chat.id, [1_000, 3_000, 2_000, 9_000])
    await control.delete_post(chat.id, ids[3])
    clock.advance(dt.timedelta(days=2))

    stats = await _refreshed(client, channel["id"], owner)

    assert stats["avgViews"] == 2_000  # the deleted post answers messageEmpty and is not counted
    assert stats["engagementRate"] == 20.0
    assert stats["source"] == "mtproto"
    assert stats["sources"]["avgViews"] == {
        "source": "mtproto",
        "fetchedAt": stats["sources"]["avgViews"]["fetchedAt"],
        "posts": 3,
    }
    assert server.sign_ins == 1
    requests = [r for r in server.requests if isinstance(r, functions.channels.GetMessagesRequest)]
    assert len(requests) == 1
    asked = [i.id for i in requests[0].id]
    assert asked[0] == ids[0]
    assert ids[-1] in asked
    assert server.connected == 0  # the session is let go after each fetch


async def test_more_than_100_posts_are_asked_for_in_batches_of_100(
    client: httpx.AsyncClient, control: TelegramEmulatorControl
) -> None:
    owner = await publisher(client, control)
    chat = await channel_with_bot(control, owner.user)
    channel = await list_channel(client, owner, chat)
    server, _ = _mtproto(client)
    await _posts_seen(client, control, chat.id, [100] * 130)
    clock.advance(dt.timedelta(days=2))

    stats = await _refreshed(client, channel["id"], owner)

    assert stats["sources"]["avgViews"]["posts"] == 130
    sizes = [len(r.id) for r in server.requests]
    assert sizes[0] == 100
    assert len(sizes) == 2
    assert all(size <= 100 for size in sizes)


async def test_a_short_flood_wait_is_slept_through_and_the_call_retried(
    client: httpx.AsyncClient, control: TelegramEmulatorControl
) -> None:
    owner = await publisher(client, control)
    chat = await channel_with_bot(control, owner.user)
    channel = await list_channel(client, owner, chat)
    server, slept = _mtproto(client, max_flood_wait_seconds=60)
    server.flood_waits.append(7)
    await _posts_seen(client, control, chat.id, [400, 600])
    clock.advance(dt.timedelta(days=2))

    stats = await _refreshed(client, channel["id"], owner)

    assert slept == [7]
    assert len(server.requests) == 2  # refused once, then answered
    assert stats["avgViews"] == 500


async def test_a_long_flood_wait_pauses_the_provider_until_it_is_over(
    client: httpx.AsyncClient, control: TelegramEmulatorControl
) -> None:
    owner = await publisher(client, control)
    chat = await channel_with_bot(control, owner.user)
    channel = await list_channel(client, owner, chat)
    server, slept = _mtproto(client, max_flood_wait_seconds=60)
    server.flood_waits.append(3_600)
    await _posts_seen(client, control, chat.id, [400, 600])
    clock.advance(dt.timedelta(days=2))

    first = await _refreshed(client, channel["id"], owner)
    clock.advance(dt.timedelta(minutes=30))
    # The periodic sweep's refresh (the endpoint allows one per 5 minutes of real time).
    await stats.refresh(runtime_of(client), chat.id)
    second = (await client.get(f"/v1/channels/{channel['id']}/stats")).json()

    assert slept == []
    assert first["avgViews"] is None
    assert second["avgViews"] is None
    assert len(server.requests) == 1  # nothing was asked during the wait

    clock.advance(dt.timedelta(minutes=31))
    await stats.refresh(runtime_of(client), chat.id)
    third = (await client.get(f"/v1/channels/{channel['id']}/stats")).json()

    assert third["avgViews"] == 500
    assert third["source"] == "mtproto"


async def test_two_workers_never_hold_the_session_at_once(
    client: httpx.AsyncClient, control: TelegramEmulatorControl
) -> None:
    owner = await publisher(client, control)
    chat = await channel_with_bot(control, owner.user)
    await list_channel(client, owner, chat)
    ids = await _posts_seen(client, control, chat.id, [10, 20, 30])
    runtime = runtime_of(client)
    server, _ = _mtproto(client)
    token = server.bot_token
    workers = [
        MTProtoViewsProvider(client_factory=server.client, bot_token=token, engine=runtime.engine)
        for _ in range(2)
    ]
    since = clock.utcnow() - dt.timedelta(days=1)

    reports = await asyncio.gather(
        *(
            worker.fetch(channel_id=chat.id, username=None, since=since, known_ids=ids)
            for worker in workers
            for _ in range(3)
        )
    )

    assert all(r is not None and [p.views for p in r.posts] == [10, 20, 30] for r in reports)
    assert server.most_connected == 1
    assert len(server.requests) == 6


async def test_views_at_24h_err24_and_er_come_from_the_stored_view_series(
    client: httpx.AsyncClient, control: TelegramEmulatorControl
) -> None:
    owner = await publisher(client, control)
    chat = await channel_with_bot(control, owner.user, subscribers=4_998)
    channel = await list_channel(client, owner, chat)
    server, _ = _mtproto(client)
    ids = await _posts_seen(client, control, chat.id, [900, 1_100])
    for message_id, forwards, reactions in [(ids[0], 10, 35), (ids[1], 5, 50)]:
        server.forwards[(chat.id, message_id)] = forwards
        server.reactions[(chat.id, message_id)] = reactions

    young = await _refreshed(client, channel["id"], owner)

    assert young["avgViews24h"] is None
    assert young["sources"]["avgViews24h"] == {
        "missing": "no post has been read at 24 to 48 hours of age yet"
    }
    assert young["erPercent"] is None

    clock.advance(dt.timedelta(hours=25))
    await stats.refresh(runtime_of(client), chat.id)
    day_old = (await client.get(f"/v1/channels/{channel['id']}/stats")).json()

    assert day_old["avgViews24h"] == 1_000
    assert day_old["err24Percent"] == 20.0  # 1,000 / 5,000 subscribers
    assert day_old["erPercent"] == 5.0  # (10 + 35 + 5 + 50) / 2,000 views
    assert day_old["sources"]["avgViews24h"]["source"] == "mtproto"
    assert day_old["sources"]["er"]["source"] == "mtproto"

    # Later readings add to the series; the 24 h figure keeps the reading taken at that age.
    await control.set_views(chat.id, ids[0], 5_000)
    clock.advance(dt.timedelta(days=2))
    await stats.refresh(runtime_of(client), chat.id)
    later = (await client.get(f"/v1/channels/{channel['id']}/stats")).json()

    assert later["avgViews24h"] == 1_000
    assert later["avgViews"] == 3_050  # the latest views of both posts
    assert len(server.requests) == 3


async def test_the_series_keeps_one_reading_per_post_and_age_bucket(
    client: httpx.AsyncClient, control: TelegramEmulatorControl
) -> None:
    owner = await publisher(client, control)
    chat = await channel_with_bot(control, owner.user)
    await list_channel(client, owner, chat)
    server, _ = _mtproto(client)
    ids = await _posts_seen(client, control, chat.id, [100])
    runtime = runtime_of(client)
    clock.advance(dt.timedelta(hours=24, minutes=5))

    for views in (200, 300, 400):  # three refreshes within the 24-48 h bucket
        await control.set_views(chat.id, ids[0], views)
        await stats.refresh(runtime, chat.id)
        clock.advance(dt.timedelta(hours=6))

    async with runtime.session(write=False) as session:
        rows = await repository.snapshots_since(
            session, chat.id, clock.utcnow() - dt.timedelta(days=30)
        )
    assert [(r.message_id, r.views, r.source) for r in rows] == [(ids[0], 200, "mtproto")]
    assert 24 * 3600 <= rows[0].age_seconds < 25 * 3600
    assert len(server.requests) == 3
