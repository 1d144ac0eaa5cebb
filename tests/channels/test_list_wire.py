"""Channel lists (the catalogue, /channels/mine) build their JSON from plain rows: each item
equals the channel as GET /v1/channels/{id} renders it through the response model, field for
field, with its prices in the model's order."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import update

from chainfluence.models import Channel
from chainfluence_sandbox.telegram import TelegramEmulatorControl
from tests.channels.test_catalogue import catalogue  # noqa: F401 (fixture)
from tests.channels.world import channel_with_bot, list_channel, publisher
from tests.conftest import runtime_of

pytestmark = pytest.mark.usefixtures("db")


async def _singles(client: httpx.AsyncClient, items: list[dict[str, Any]]) -> list[Any]:
    return [(await client.get(f"/v1/channels/{item['id']}")).json() for item in items]


async def test_catalogue_items_equal_the_models_rendering(
    client: httpx.AsyncClient,
    catalogue: dict[str, str],  # noqa: F811
) -> None:
    every = await client.get("/v1/channels")
    by_cpm = await client.get("/v1/channels", params={"format": "1/24", "sort": "cpm"})
    second_page = await client.get("/v1/channels", params={"limit": 2, "offset": 2})

    assert every.headers["content-type"] == "application/json"
    assert every.headers["x-total-count"] == "4"
    assert len(every.json()) == 4
    assert every.json() == await _singles(client, every.json())
    assert [c["id"] for c in by_cpm.json()] == [catalogue["alpha"], catalogue["bravo"]]
    assert by_cpm.json() == await _singles(client, by_cpm.json())
    assert by_cpm.headers["x-total-count"] == "2"
    assert second_page.json() == every.json()[2:]
    assert second_page.headers["x-total-count"] == "4"
    alpha = next(c for c in every.json() if c["id"] == catalogue["alpha"])
    delta = next(c for c in every.json() if c["id"] == catalogue["delta"])
    assert [(p["format"], p["price"], p["cpm"]) for p in alpha["pricing"]] == [
        ("1/24", 10, 5),
        ("2/48", 15, 7.5),
    ]
    assert (delta["pricing"], delta["minPrice"], delta["cpm"]) == ([], None, None)


async def test_edge_values_and_my_inactive_channels(
    client: httpx.AsyncClient, control: TelegramEmulatorControl
) -> None:
    owner = await publisher(client, control)
    chat = await channel_with_bot(
        control, owner.user, title="Тест канала 🚀", username="edge_values", subscribers=3
    )
    other = await channel_with_bot(control, owner.user, title="Paused", username="paused_one")
    edge = await list_channel(client, owner, chat)
    paused = await list_channel(client, owner, other)
    patched = await client.patch(
        f"/v1/channels/{edge['id']}",
        json={
            "description": "  Ünïcode — and spaces  ",
            "pricing": [
                {"format": "eternal", "price": "0.000000001", "enabled": True},
                {
                    "format": "1/24",
                    "price": "123456789.123456789",
                    "enabled": False,
                    "description": "Pinned for a day",
                },
                {"format": "test", "price": 0.1, "enabled": True},
            ],
        },
        headers=owner.headers,
    )
    assert patched.status_code == 200, patched.text
    off = await client.patch(
        f"/v1/channels/{paused['id']}", json={"isActive": False}, headers=owner.headers
    )
    assert off.status_code == 200, off.text
    # Ratings come from finished deals; a 2-of-3-stars average is set here directly.
    async with runtime_of(client).session() as session:
        await session.execute(
            update(Channel)
            .where(Channel.id == int(edge["id"]))
            .values(rating_sum=2, rating_count=3)
        )

    mine = await client.get("/v1/channels/mine", headers=owner.headers)
    listed = await client.get("/v1/channels", params={"q": "edge_values"})

    assert mine.status_code == 200
    assert mine.headers["x-total-count"] == "2"
    assert mine.json() == await _singles(client, mine.json())
    assert [c["id"] for c in listed.json()] == [edge["id"]]
    assert listed.json() == await _singles(client, listed.json())
    item = listed.json()[0]
    assert item["title"] == "Тест канала 🚀"
    assert item["description"] == "Ünïcode — and spaces"
    assert item["rating"] == 0.67
    assert item["reviewCount"] == 3
    assert [(p["format"], p["price"], p["enabled"]) for p in item["pricing"]] == [
        ("1/24", 123456789.12345679, False),
        ("eternal", 1e-9, True),
        ("test", 0.1, True),
    ]
    assert item["pricing"][0]["description"] == "Pinned for a day"
    assert item["minPrice"] == 1e-9
    stopped = next(c for c in mine.json() if c["id"] == paused["id"])
    assert (stopped["isActive"], stopped["inactiveReason"]) == (False, "owner")
