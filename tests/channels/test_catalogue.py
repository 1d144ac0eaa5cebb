"""The public catalogue: every filter and sort, price and CPM per format, pagination.

Channels are listed for real (verified through the emulator) and their figures come from a real
stats refresh over the emulator's posts, so each row is what the product itself would show.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from chainfluence.kit import time as clock
from chainfluence.models import Channel
from chainfluence_sandbox.telegram import TelegramEmulatorControl
from tests.channels.world import channel_with_bot, list_channel, publisher
from tests.conftest import runtime_of
from tests.factories import login

pytestmark = pytest.mark.usefixtures("db")


@dataclass(frozen=True)
class Spec:
    name: str
    category: str
    language: str
    subscribers: int
    views: int  # per post (average views)
    prices: dict[str, float]
    description: str


SPECS = [
    # name        category   lang  subs    views   prices                         description
    Spec("alpha", "crypto", "en", 10_000, 2_000, {"1/24": 10, "2/48": 15}, "Bitcoin daily"),
    Spec("bravo", "crypto", "ru", 50_000, 5_000, {"1/24": 40}, "Market news"),
    Spec("charlie", "tech", "en", 5_000, 2_500, {"2/48": 5}, "Gadgets and CODE reviews"),
    Spec("delta", "news", "en", 100_000, 1_000, {}, "Headlines 100%_real"),
]


@pytest.fixture
async def catalogue(client: httpx.AsyncClient, control: TelegramEmulatorControl) -> dict[str, str]:
    """Four listed channels with prices and stats; name → channel id."""
    owner = await publisher(client, control)
    ids: dict[str, str] = {}
    for spec in SPECS:
        chat = await channel_with_bot(
            control,
            owner.user,
            title=f"{spec.name.title()} Channel",
            username=f"{spec.name}_channel",
            subscribers=spec.subscribers - 2,  # the creator and the bot are counted too
        )
        for _ in range(3):
            await control.post(chat.id, text="Post", views=spec.views)
        channel = await list_channel(client, owner, chat)
        ids[spec.name] = channel["id"]
        pricing = [
            {"format": fmt, "price": price, "enabled": True} for fmt, price in spec.prices.items()
        ]
        response = await client.patch(
            f"/v1/channels/{channel['id']}",
            json={
                "category": spec.category,
                "language": spec.language,
                "description": spec.description,
                "pricing": pricing,
            },
            headers=owner.headers,
        )
        assert response.status_code == 200, response.text
    clock.advance(dt.timedelta(days=1, hours=1))
    headers = await login(client, owner.user.id)
    for channel_id in ids.values():
        await client.post(f"/v1/channels/{channel_id}/refresh-stats", headers=headers)
    await runtime_of(client).queue.drain()  # type: ignore[attr-defined]
    return ids


async def _names(client: httpx.AsyncClient, ids: dict[str, str], **params: Any) -> list[str]:
    response = await client.get("/v1/channels", params=params)
    assert response.status_code == 200, response.text
    by_id = {v: k for k, v in ids.items()}
    return [by_id[c["id"]] for c in response.json()]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["delta", "bravo", "alpha", "charlie"]),
        ({"sort": "subscribers"}, ["charlie", "alpha", "bravo", "delta"]),
        ({"category": "crypto"}, ["bravo", "alpha"]),
        ({"category": "crypto", "minSubscribers": 20_000}, ["bravo"]),
        ({"maxSubscribers": 10_000}, ["alpha", "charlie"]),
        ({"language": "EN"}, ["delta", "alpha", "charlie"]),
        ({"minAvgViews": 2_500, "sort": "avgViews"}, ["charlie", "bravo"]),
        ({"minEr": 20, "sort": "-er"}, ["charlie", "alpha"]),
        ({"category": "Crypto"}, ["bravo", "alpha"]),
        ({"category": " CRYPTO "}, ["bravo", "alpha"]),
        ({"q": "code"}, ["charlie"]),
        ({"q": "BRAVO"}, ["bravo"]),
        ({"q": "@alpha_chan"}, ["alpha"]),
        ({"q": "100%_"}, ["delta"]),
        ({"q": "%"}, ["delta"]),
        ({"q": "_"}, ["delta", "bravo", "alpha", "charlie"]),
        ({"format": "1/24"}, ["bravo", "alpha"]),
        ({"format": "2/48", "sort": "price"}, ["charlie", "alpha"]),
        ({"format": "1/24", "maxPrice": 20}, ["alpha"]),
        ({"format": "2/48", "minPrice": 10, "maxPrice": "15"}, ["alpha"]),
        ({"maxPrice": 9.99}, ["charlie"]),
        ({"sort": "price"}, ["charlie", "alpha", "bravo", "delta"]),
        ({"sort": "-price"}, ["bravo", "alpha", "charlie", "delta"]),
        # CPM = price × 1000 / avg views: alpha 5, bravo 8, charlie 2 (2/48 only), delta none.
        ({"sort": "cpm"}, ["charlie", "alpha", "bravo", "delta"]),
        ({"format": "1/24", "sort": "-cpm"}, ["bravo", "alpha"]),
        ({"format": "2/48", "sort": "cpm"}, ["charlie", "alpha"]),
        ({"minRating": 1}, []),
        ({"sort": "-createdAt"}, ["delta", "charlie", "bravo", "alpha"]),
    ],
)
async def test_filters_and_sorts(
    client: httpx.AsyncClient,
    catalogue: dict[str, str],
    params: dict[str, Any],
    expected: list[str],
) -> None:
    assert await _names(client, catalogue, **params) == expected


async def test_prices_and_cpm_are_shown_per_format(
    client: httpx.AsyncClient, catalogue: dict[str, str]
) -> None:
    alpha = (await client.get(f"/v1/channels/{catalogue['alpha']}")).json()

    assert alpha["avgViews"] == 2_000
    assert alpha["minPrice"] == 10
    assert alpha["cpm"] == 5
    assert [(p["format"], p["price"], p["cpm"]) for p in alpha["pricing"]] == [
        ("1/24", 10, 5),
        ("2/48", 15, 7.5),
    ]


async def test_pages_carry_the_total_count(
    client: httpx.AsyncClient, catalogue: dict[str, str]
) -> None:
    first = await client.get("/v1/channels", params={"limit": 3})
    second = await client.get("/v1/channels", params={"limit": 3, "offset": 3})
    past_the_end = await client.get("/v1/channels", params={"limit": 3, "offset": 10})
    no_match = await client.get("/v1/channels", params={"q": "no such channel"})

    assert first.headers["X-Total-Count"] == "4"
    assert len(first.json()) == 3
    assert [c["id"] for c in second.json()] == [catalogue["charlie"]]
    assert second.headers["X-Total-Count"] == "4"
    assert past_the_end.json() == []
    assert past_the_end.headers["X-Total-Count"] == "4"
    assert no_match.json() == []
    assert no_match.headers["X-Total-Count"] == "0"


async def test_search_takes_quotes_and_backslashes_literally(
    client: httpx.AsyncClient, control: TelegramEmulatorControl
) -> None:
    # The statement is built once per filter shape and the pattern written into its SQL at
    # execution (kit/dialect.py `pattern_param`): quotes, backslashes and LIKE wildcards in
    # `q` must reach the database as plain text, on every execution of the same shape.
    owner = await publisher(client, control)
    titles = {"quote": "Bob's shop", "path": "Path C:\\temp\\x", "sale": "50% off_now"}
    for name, title in titles.items():
        chat = await channel_with_bot(control, owner.user, title=title, username=f"{name}_chan")
        await list_channel(client, owner, chat)

    async def found(q: str) -> list[str]:
        response = await client.get("/v1/channels", params={"q": q})
        assert response.status_code == 200, response.text
        assert response.headers["X-Total-Count"] == str(len(response.json()))
        return sorted(channel["title"] for channel in response.json())

    assert await found("b's") == ["Bob's shop"]
    assert await found("'") == ["Bob's shop"]
    assert await found("c:\\temp\\") == ["Path C:\\temp\\x"]
    assert await found("\\") == ["Path C:\\temp\\x"]
    assert await found("% off_") == ["50% off_now"]
    assert await found("'' or ''1''=''1") == []
    assert await found("x'); DELETE FROM channels; --") == []
    assert await found("@quote_") == ["Bob's shop"]
    assert len(await found("_")) == 3


@pytest.mark.parametrize(
    "params",
    [
        {"sort": "popularity"},
        {"format": "1/12"},
        {"minSubscribers": -1},
        {"maxPrice": "1.0000000001"},
        {"category": "astrology"},
        {"q": "x" * 101},
    ],
)
async def test_bad_parameters_are_422(client: httpx.AsyncClient, params: dict[str, Any]) -> None:
    assert (await client.get("/v1/channels", params=params)).status_code == 422


async def _rate(
    db: AsyncEngine, catalogue: dict[str, str], ratings: dict[str, tuple[int, int]]
) -> None:
    """Give the named channels these (sum of stars, number of ratings)."""
    async with db.begin() as connection:
        for name, (total, count) in ratings.items():
            await connection.execute(
                update(Channel)
                .where(Channel.id == int(catalogue[name]))
                .values(rating_sum=total, rating_count=count)
            )


async def test_rating_sorts_put_unrated_channels_last_both_ways(
    client: httpx.AsyncClient, catalogue: dict[str, str], db: AsyncEngine
) -> None:
    # Average ratings alpha 4.5, bravo 4.0, charlie 5.0; delta has none.
    ratings = {"alpha": (9, 2), "bravo": (4, 1), "charlie": (10, 2)}
    await _rate(db, catalogue, ratings)

    assert await _names(client, catalogue, sort="rating") == ["bravo", "alpha", "charlie", "delta"]
    assert await _names(client, catalogue, sort="-rating") == [
        "charlie", "alpha", "bravo", "delta",
    ]  # fmt: skip
    assert await _names(client, catalogue, format="1/24", sort="-rating") == ["alpha", "bravo"]
    assert await _names(client, catalogue, minRating=4.5, sort="rating") == ["alpha", "charlie"]


async def test_min_rating_takes_an_average_equal_to_it(
    client: httpx.AsyncClient, catalogue: dict[str, str], db: AsyncEngine
) -> None:
    # Averages as shown: alpha 110/25 = 4.4, bravo 111/25 = 4.44, charlie 4/1; delta unrated.
    # 4.4 as a double is a hair above 4.4, and 4.4 × 25 rounds to 110.00000000000001: compared
    # as sum >= minRating × count, alpha's 4.4 would fall short of minRating=4.4.
    ratings = {"alpha": (110, 25), "bravo": (111, 25), "charlie": (4, 1)}
    await _rate(db, catalogue, ratings)
    assert (await client.get(f"/v1/channels/{catalogue['alpha']}")).json()["rating"] == 4.4

    assert await _names(client, catalogue, minRating=4.4, sort="rating") == ["alpha", "bravo"]
    assert await _names(client, catalogue, minRating=4.41, sort="rating") == ["bravo"]
    assert await _names(client, catalogue, minRating=0, sort="-rating") == [
        "bravo", "alpha", "charlie",
    ]  # fmt: skip
    assert await _names(client, catalogue, minRating=4.4, format="1/24") == ["bravo", "alpha"]
    for params, total in (
        ({"minRating": 4.4}, 2),
        ({"minRating": 4.44}, 1),
        ({"minRating": 0}, 3),
        ({"minRating": 4.4, "format": "1/24"}, 2),
    ):
        # A full page of one: the total is counted, not read off the page.
        response = await client.get("/v1/channels", params={**params, "limit": 1})
        assert response.status_code == 200, response.text
        assert response.headers["X-Total-Count"] == str(total), params
