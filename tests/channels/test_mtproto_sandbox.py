"""The sandbox with `telegram.mtproto.enabled`: the app wires the MTProto views provider on the
emulated MTProto server, so a listed channel's views, ERR24 and ER come through the Telethon code
path with `source` "mtproto" — no test wiring, only settings."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from chainfluence.channels import repository, stats
from chainfluence.config import Settings
from chainfluence.kit import time as clock
from chainfluence.telegram.mtproto import MTProtoViewsProvider
from chainfluence_sandbox.telegram import RunningEmulator, TelegramEmulatorControl
from tests.channels.world import channel_with_bot, list_channel, publisher
from tests.conftest import make_settings, runtime_of, telegram_settings
from tests.factories import eventually

pytestmark = [pytest.mark.usefixtures("db"), pytest.mark.usefixtures("bot_polling")]


@pytest.fixture
def settings(
    db: AsyncEngine, database_url: str, tmp_path: Path, emulator: RunningEmulator
) -> Settings:
    telegram = {**telegram_settings(emulator), "mtproto": {"enabled": True}}
    return make_settings(database_url, tmp_path, telegram=telegram)


async def test_a_listed_channel_gets_its_figures_from_the_mtproto_provider(
    client: httpx.AsyncClient, control: TelegramEmulatorControl
) -> None:
    runtime = runtime_of(client)
    assert [type(p) for p in runtime.stats_providers] == [MTProtoViewsProvider]
    owner = await publisher(client, control)
    chat = await channel_with_bot(control, owner.user, subscribers=1_998)
    for views in [300, 500]:
        await control.post(chat.id, text="Today's market summary and what comes next.", views=views)
    channel = await list_channel(client, owner, chat)

    async def stored() -> int:
        since = clock.utcnow() - dt.timedelta(days=1)
        async with runtime.session(write=False) as session:
            return len(await repository.posts_since(session, chat.id, since))

    await eventually(stored, lambda count: count == 2)  # the bot saw both posts
    clock.advance(dt.timedelta(hours=25))

    await stats.refresh(runtime, chat.id)
    figures = (await client.get(f"/v1/channels/{channel['id']}/stats")).json()

    assert figures["source"] == "mtproto"
    assert figures["avgViews"] == 400
    assert figures["avgViews24h"] == 400
    assert figures["err24Percent"] == 20.0  # 400 / 2,000 subscribers
    assert figures["erPercent"] == 0.0  # the emulator's posts have no forwards or reactions
    assert figures["sources"]["avgViews24h"]["source"] == "mtproto"
