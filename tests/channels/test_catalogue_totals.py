"""X-Total-Count stays exact while totals are kept between writes: every write to a channel or
its prices (through the API or a job) makes the next full page count again.

Pages of one channel are full, so their totals come from the kept totals (kit/totals.py),
never from the page itself.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import event, update

from chainfluence.kit import time as clock
from chainfluence.kit.totals import Totals
from chainfluence.models import Channel
from chainfluence_sandbox.telegram import TelegramEmulatorControl
from tests.channels.test_catalogue import catalogue  # noqa: F401 (fixture)
from tests.channels.world import Publisher, channel_with_bot, list_channel
from tests.conftest import runtime_of
from tests.factories import login

pytestmark = pytest.mark.usefixtures("db")


async def _total(client: httpx.AsyncClient, **params: Any) -> int:
    response = await client.get("/v1/channels", params={"limit": 1, **params})
    assert response.status_code == 200, response.text
    assert len(response.json()) == 1  # a full page: its total is not the page's own
    return int(response.headers["X-Total-Count"])


async def test_totals_follow_every_write(
    client: httpx.AsyncClient,
    control: TelegramEmulatorControl,
    catalogue: dict[str, str],  # noqa: F811
) -> None:
    alpha = (await client.get(f"/v1/channels/{catalogue['alpha']}")).json()
    owner = Publisher(
        await control.user(int(alpha["ownerId"])), await login(client, int(alpha["ownerId"]))
    )
    headers = owner.headers
    assert runtime_of(client).totals is not None
    before = (
        await _total(client),
        await _total(client, format="1/24"),
        await _total(client, minSubscribers=20_000),
        await _total(client, category="crypto"),
    )
    again = (
        await _total(client),
        await _total(client, format="1/24"),
        await _total(client, minSubscribers=20_000),
        await _total(client, category="crypto"),
    )
    assert before == again == (4, 2, 2, 2)

    # Prices: alpha stops offering 1/24 (its price rows are deleted and written again).
    response = await client.patch(
        f"/v1/channels/{catalogue['alpha']}",
        json={"pricing": [{"format": "2/48", "price": 15, "enabled": True}]},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    assert await _total(client, format="1/24") == 1
    # Category: charlie moves to crypto.
    response = await client.patch(
        f"/v1/channels/{catalogue['charlie']}", json={"category": "crypto"}, headers=headers
    )
    assert response.status_code == 200, response.text
    assert await _total(client, category="crypto") == 3
    # The owner pauses bravo: out of the catalogue.
    response = await client.patch(
        f"/v1/channels/{catalogue['bravo']}", json={"isActive": False}, headers=headers
    )
    assert response.status_code == 200, response.text
    assert await _total(client) == 3
    assert await _total(client, category="crypto") == 2
    past_the_end = await client.get("/v1/channels", params={"limit": 1, "offset": 10})
    assert past_the_end.json() == []
    assert past_the_end.headers["X-Total-Count"] == "3"

    # The stats job (its own session, as the periodic refresh runs it) moves charlie over
    # 20,000 subscribers. (The owner's refresh button is rate-limited in real time.)
    chat = int(catalogue["charlie"])
    await control.update_chat(chat, subscribers=29_998)  # and the creator and the bot
    clock.advance(dt.timedelta(days=2))
    queue: Any = runtime_of(client).queue
    await queue.enqueue("channels.refresh_stats", {"channel_id": chat})
    await queue.drain()
    assert (await client.get(f"/v1/channels/{chat}")).json()["subscribers"] == 30_000
    assert await _total(client, minSubscribers=20_000) == 2  # delta and charlie

    # Listing one more (written with an upsert statement, not an ORM object).
    echo = await channel_with_bot(control, owner.user, title="Echo", username="echo_channel")
    owner = Publisher(owner.user, await login(client, owner.user.id))  # the clock moved
    await list_channel(client, owner, echo)
    assert await _total(client) == 4


@pytest.mark.parametrize("shared", [False, True], ids=["in-process", "redis"])
async def test_a_kept_total_holds_only_for_its_version(shared: bool, redis_url: str) -> None:
    redis = Redis.from_url(redis_url) if shared else None
    namespace = f"test-{uuid.uuid4().hex}"  # apart from every other run sharing this Redis
    totals = Totals(redis=redis, namespace=namespace)
    other = Totals(redis=redis, namespace=namespace + "-other")
    try:
        version, kept = await totals.get("catalogue", "k")
        assert kept is None
        await totals.put("catalogue", "k", version, 41)
        assert await totals.get("catalogue", "k") == (version, 41)
        assert (await other.get("catalogue", "k"))[1] is None

        # Counted before a write's bump: stale once the bump lands.
        await totals.bump("catalogue")
        newer, kept = await totals.get("catalogue", "k")
        assert (newer, kept) == (version + 1, None)
        await totals.put("catalogue", "k", version, 41)
        assert (await totals.get("catalogue", "k"))[1] is None
        await totals.put("catalogue", "k", newer, 42)
        assert (await totals.get("catalogue", "k"))[1] == 42
        assert (await totals.get("campaigns", "k"))[1] is None
    finally:
        if redis is not None:
            keys = [key async for key in redis.scan_iter(f"chainfluence:totals:{namespace}*")]
            if keys:
                await redis.delete(*keys)
            await redis.aclose()


async def test_kept_totals_expire() -> None:
    totals = Totals(redis=None, namespace="expiry", ttl=-1)
    version, _ = await totals.get("catalogue", "k")
    await totals.put("catalogue", "k", version, 7)
    assert (await totals.get("catalogue", "k"))[1] is None


async def test_a_statement_writing_channels_bumps_too(
    client: httpx.AsyncClient,
    catalogue: dict[str, str],  # noqa: F811
) -> None:
    """As reviews write ratings: an UPDATE statement on the table, no ORM object flushed."""
    assert await _total(client) == 4
    async with runtime_of(client).session() as session:
        await session.execute(
            update(Channel).where(Channel.id == int(catalogue["bravo"])).values(is_active=False)
        )
    assert await _total(client) == 3


async def test_a_format_and_price_range_total_follows_listing_and_prices(
    client: httpx.AsyncClient,
    control: TelegramEmulatorControl,
    catalogue: dict[str, str],  # noqa: F811
) -> None:
    """A format's total counts the prices of listed channels only (catalogue.py `_price_count`):
    exact as channels leave the catalogue (paused, deleted, unverified by a statement) and come
    back, and as their prices change."""
    alpha = (await client.get(f"/v1/channels/{catalogue['alpha']}")).json()
    owner = Publisher(
        await control.user(int(alpha["ownerId"])), await login(client, int(alpha["ownerId"]))
    )

    async def total(**params: Any) -> int:
        # A page of one: full (its total counted) unless nothing matches.
        response = await client.get("/v1/channels", params={"limit": 1, **params})
        assert response.status_code == 200, response.text
        total = int(response.headers["X-Total-Count"])
        assert len(response.json()) == min(total, 1)
        return total

    async def totals() -> tuple[int, ...]:
        return (
            await total(format="1/24"),
            await total(format="1/24", maxPrice=20),
            await total(format="2/48"),
            await total(format="2/48", minPrice=10, maxPrice=20),
        )

    async def patch(name: str, body: dict[str, Any]) -> None:
        response = await client.patch(
            f"/v1/channels/{catalogue[name]}", json=body, headers=owner.headers
        )
        assert response.status_code == 200, response.text

    # alpha 1/24 10 and 2/48 15, bravo 1/24 40, charlie 2/48 5, delta none.
    assert await totals() == (2, 1, 2, 1)
    # The owner pauses alpha, then takes it back.
    await patch("alpha", {"isActive": False})
    assert await totals() == (1, 0, 1, 0)
    await patch("alpha", {"isActive": True})
    assert await totals() == (2, 1, 2, 1)
    # Prices: bravo's 1/24 drops to 20 TON; alpha turns its 1/24 off and charges 12 for 2/48.
    await patch("bravo", {"pricing": [{"format": "1/24", "price": 20, "enabled": True}]})
    assert await totals() == (2, 2, 2, 1)
    await patch(
        "alpha",
        {
            "pricing": [
                {"format": "1/24", "price": 10, "enabled": False},
                {"format": "2/48", "price": 12, "enabled": True},
            ]
        },
    )
    assert await totals() == (1, 1, 2, 1)
    # charlie is deleted, then listed again by its owner (its prices come back with it).
    deleted = await client.delete(f"/v1/channels/{catalogue['charlie']}", headers=owner.headers)
    assert deleted.status_code == 200, deleted.text
    assert await totals() == (1, 1, 1, 1)
    relisted = await client.post(
        "/v1/channels", json={"username": "charlie_channel"}, headers=owner.headers
    )
    assert relisted.status_code == 201, relisted.text
    assert await totals() == (1, 1, 2, 1)
    # An UPDATE statement takes bravo's verification away (no ORM object flushed).
    async with runtime_of(client).session() as session:
        await session.execute(
            update(Channel).where(Channel.id == int(catalogue["bravo"])).values(is_verified=False)
        )
    assert await totals() == (0, 0, 2, 1)
    # A new channel listed with a 1/24 price.
    echo = await channel_with_bot(control, owner.user, title="Echo", username="echo_channel")
    owner = Publisher(owner.user, await login(client, owner.user.id))
    catalogue["echo"] = (await list_channel(client, owner, echo))["id"]
    await patch("echo", {"pricing": [{"format": "1/24", "price": 3, "enabled": True}]})
    assert await totals() == (1, 1, 2, 1)


async def test_a_stats_refresh_keeps_the_totals_that_read_no_stats(
    client: httpx.AsyncClient,
    control: TelegramEmulatorControl,
    catalogue: dict[str, str],  # noqa: F811
) -> None:
    """The unfiltered catalogue counts listed channels and a format's range its prices: a stats
    refresh (subscribers, views, and the prices' CPM with them) changes neither, so their kept
    totals stand (no count runs), while a subscriber filter counts again. Listing state does."""
    counted: list[str] = []

    def record(conn: Any, cursor: Any, sql: str, *args: Any) -> None:
        if sql.lstrip().upper().startswith("SELECT COUNT(*)"):
            counted.append(sql)

    async def counts(**params: Any) -> tuple[int, int]:
        counted.clear()
        return await _total(client, **params), len(counted)

    engine = runtime_of(client).engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        assert await counts() == (4, 1)
        assert await counts(format="1/24", maxPrice=20) == (1, 1)
        assert await counts(minSubscribers=20_000) == (2, 1)
        assert await counts() == (4, 0)  # kept

        chat = int(catalogue["charlie"])
        await control.update_chat(chat, subscribers=29_998)  # and the creator and the bot
        await control.post(chat, text="Post", views=9_000)
        clock.advance(dt.timedelta(days=2))
        queue: Any = runtime_of(client).queue
        await queue.enqueue("channels.refresh_stats", {"channel_id": chat})
        await queue.drain()
        assert (await client.get(f"/v1/channels/{chat}")).json()["subscribers"] == 30_000

        assert await counts() == (4, 0)
        assert await counts(format="1/24", maxPrice=20) == (1, 0)
        assert await counts(minSubscribers=20_000) == (3, 1)

        alpha = (await client.get(f"/v1/channels/{catalogue['alpha']}")).json()
        headers = await login(client, int(alpha["ownerId"]))
        response = await client.patch(
            f"/v1/channels/{catalogue['alpha']}", json={"isActive": False}, headers=headers
        )
        assert response.status_code == 200, response.text
        assert await counts() == (3, 1)
        assert await counts(format="1/24") == (1, 1)
    finally:
        event.remove(engine, "before_cursor_execute", record)
