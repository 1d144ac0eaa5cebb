"""The inbox builds its JSON from plain rows: each item equals the notification as the routes
that answer one (PATCH /v1/notifications/{id}) render it through the response model."""

from __future__ import annotations

import httpx

from chainfluence.models import NotificationType, RelatedType
from tests.factories import login
from tests.notifications.test_router import _notify


async def test_inbox_items_equal_the_models_rendering(client: httpx.AsyncClient) -> None:
    headers = await login(client, 1001)
    await login(client, 2002)
    await _notify(client, 1001, "  Сделка принята 🚀  ", related=(RelatedType.deal, 42))
    read_id = await _notify(
        client,
        1001,
        "channel",
        related=(RelatedType.channel, -1001234567890),
        type=NotificationType.channel_deactivated,
    )
    await _notify(client, 1001, "plain")
    await _notify(client, 2002, "someone else's")
    assert (await client.patch(f"/v1/notifications/{read_id}/read", headers=headers)).is_success

    inbox = await client.get("/v1/notifications", headers=headers)
    unread = await client.get("/v1/notifications", params={"unread": "true"}, headers=headers)
    # Setting an item's read state to what it is changes nothing and answers the model.
    singles = [
        (
            await client.patch(
                f"/v1/notifications/{item['id']}", json={"read": item["read"]}, headers=headers
            )
        ).json()
        for item in inbox.json()
    ]

    assert inbox.headers["content-type"] == "application/json"
    assert (inbox.headers["x-total-count"], unread.headers["x-total-count"]) == ("3", "2")
    assert [n["title"] for n in inbox.json()] == ["plain", "channel", "Сделка принята 🚀"]
    assert inbox.json() == singles
    assert unread.json() == [singles[0], singles[2]]
    assert singles[1]["read"] is True
    assert singles[1]["readAt"].endswith("Z")
    assert (singles[1]["relatedId"], singles[2]["relatedId"]) == ("-1001234567890", 42)
    empty = await client.get("/v1/notifications", headers=await login(client, 3003))
    assert (empty.json(), empty.headers["x-total-count"]) == ([], "0")
    anonymous = await client.get("/v1/notifications")
    assert (anonymous.status_code, anonymous.json()["code"]) == (401, "not_authenticated")
