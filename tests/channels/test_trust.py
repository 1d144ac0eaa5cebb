"""Channel trust score through the sandbox: emulated channels whose views follow an organic
curve, a bot wall or a bought spike are read over the Telethon code path at 1 h and 25 h of age;
the stats API shows the score with the reasons, the catalogue filters and sorts by it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from chainfluence.channels import repository, stats
from chainfluence.config import Settings
from chainfluence.kit import time as clock
from chainfluence_sandbox.telegram import RunningEmulator, TelegramEmulatorControl
from chainfluence_sandbox.telegram.schemas import ChatOut
from tests.channels.world import Publisher, channel_with_bot, list_channel, publisher
from tests.conftest import make_settings, runtime_of, telegram_settings
from tests.factories import eventually

pytestmark = [pytest.mark.usefixtures("db"), pytest.mark.usefixtures("bot_polling")]

POSTS = 3


@pytest.fixture
def settings(
    db: AsyncEngine, database_url: str, tmp_path: Path, emulator: RunningEmulator
) -> Settings:
    telegram = {**telegram_settings(emulator), "mtproto": {"enabled": True}}
    return make_settings(database_url, tmp_path, telegram=telegram)


async def _channel(
    client: httpx.AsyncClient,
    control: TelegramEmulatorControl,
    owner: Publisher,
    name: str,
    subscribers: int,
    **curve: Any,
) -> tuple[ChatOut, dict[str, Any]]:
    chat = await channel_with_bot(
        control, owner.user, title=name.title(), username=f"{name}_news", subscribers=subscribers
    )
    await control.set_view_curve(chat.id, **curve)
    listed = await list_channel(client, owner, chat)
    for number in range(POSTS):
        await control.post(chat.id, text=f"Post {number}: today's market summary and outlook.")
    runtime = runtime_of(client)

    async def stored() -> int:
        since = clock.utcnow() - dt.timedelta(days=1)
        async with runtime.session(write=False) as session:
            return len(await repository.posts_since(session, chat.id, since))

    await eventually(stored, lambda count: count == POSTS)
    return chat, listed


async def test_a_bot_wall_and_a_bought_spike_score_clearly_lower_than_organic_views(
    client: httpx.AsyncClient, control: TelegramEmulatorControl
) -> None:
    runtime = runtime_of(client)
    owner = await publisher(client, control)
    channels = {
        "organic": await _channel(
            client,
            control,
            owner,
            "organic",
            10_000,
            kind="organic",
            reach=4_000,
            forward_per_mille=10,
        ),
        "botwall": await _channel(
            client, control, owner, "botwall", 10_000, kind="bot_wall", reach=5_000
        ),
        "spike": await _channel(
            client,
            control,
            owner,
            "spike",
            20_000,
            kind="spike",
            reach=1_200,
            spike_at_hours=6,
            spike_views=9_000,
            forward_per_mille=10,
        ),
    }

    async def read_all() -> dict[str, dict[str, Any]]:
        figures = {}
        for name, (chat, listed) in channels.items():
            await stats.refresh(runtime, chat.id)
            answer = await client.get(f"/v1/channels/{listed['id']}/stats")
            assert answer.status_code == 200, answer.text
            figures[name] = answer.json()
        return figures

    clock.advance(dt.timedelta(hours=1))
    young = await read_all()
    clock.advance(dt.timedelta(hours=24))
    read = await read_all()

    # Too little data: no number, and why.
    assert young["organic"]["trustScore"] is None
    assert "has 0" in young["organic"]["sources"]["trust"]["missing"]
    organic, wall, spike = read["organic"], read["botwall"], read["spike"]
    assert organic["source"] == "mtproto"
    assert organic["trustScore"] == 100
    assert organic["trustReasons"] == []
    assert set(organic["sources"]["trust"]["checked"]) == {
        "botWall",
        "velocityStep",
        "errBand",
        "forwardRate",
        "subscriberJump",
    }
    assert wall["trustScore"] == 50  # -40 bot wall, -10 no forwards
    assert {r["signal"]: r["points"] for r in wall["trustReasons"]} == {
        "botWall": -40,
        "forwardRate": -10,
    }
    assert "median 100%" in wall["trustReasons"][0]["detail"]
    assert spike["trustScore"] == 65  # every post jumped: -35
    assert [(r["signal"], r["points"]) for r in spike["trustReasons"]] == [("velocityStep", -35)]
    assert spike["trustReasons"][0]["detail"].startswith("3 of 3 posts")

    ids = {name: listed["id"] for name, (_, listed) in channels.items()}
    best_first = (await client.get("/v1/channels", params={"sort": "-trust"})).json()
    assert [c["id"] for c in best_first] == [ids["organic"], ids["spike"], ids["botwall"]]
    assert [c["trustScore"] for c in best_first] == [100, 65, 50]
    worst_first = (await client.get("/v1/channels", params={"sort": "trust"})).json()
    assert [c["id"] for c in worst_first] == [ids["botwall"], ids["spike"], ids["organic"]]
    trusted = (await client.get("/v1/channels", params={"minTrust": 60})).json()
    assert {c["id"] for c in trusted} == {ids["organic"], ids["spike"]}
    refused = await client.get("/v1/channels", params={"minTrust": 101})
    assert refused.status_code == 422
