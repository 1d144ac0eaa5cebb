"""/v1/notifications: the inbox, read state, and isolation between users."""

from __future__ import annotations

import httpx

from chainfluence.models import NotificationType, RelatedType
from chainfluence.notifications.service import notify
from tests.conftest import runtime_of
from tests.factories import login


async def _notify(client: httpx.AsyncClient, user_id: int, title: str, **kwargs: object) -> int:
    async with runtime_of(client).session() as session:
        notification = await notify(
            session,
            user_id=user_id,
            type=kwargs.pop("type", NotificationType.deal_accepted),  # type: ignore[arg-type]
            title=title,
            body="body of " + title,
            **kwargs,  # type: ignore[arg-type]
        )
        return notification.id


async def test_inbox_lists_newest_first_with_total_and_unread_filter(
    client: httpx.AsyncClient,
) -> None:
    headers = await login(client, 1001)
    ids = [await _notify(client, 1001, f"n{i}") for i in range(3)]
    await client.patch(f"/v1/notifications/{ids[0]}/read", headers=headers)

    everything = await client.get("/v1/notifications", headers=headers)
    unread = await client.get("/v1/notifications", params={"unread": "true"}, headers=headers)
    page = await client.get("/v1/notifications", params={"limit": 1, "offset": 1}, headers=headers)

    assert [n["title"] for n in everything.json()] == ["n2", "n1", "n0"]
    assert everything.headers["X-Total-Count"] == "3"
    assert [n["title"] for n in unread.json()] == ["n2", "n1"]
    assert unread.headers["X-Total-Count"] == "2"
    assert [n["title"] for n in page.json()] == ["n1"]
    assert set(everything.json()[0]) >= {
        "id", "type", "title", "body", "relatedId", "readAt", "createdAt",
    }  # fmt: skip


async def test_unread_count_read_unread_and_read_all(client: httpx.AsyncClient) -> None:
    headers = await login(client, 1001)
    first, second, _ = [await _notify(client, 1001, f"n{i}") for i in range(3)]

    read = await client.patch(f"/v1/notifications/{first}/read", headers=headers)
    count_after_read = (await client.get("/v1/notifications/unread-count", headers=headers)).json()
    unread = await client.patch(f"/v1/notifications/{first}", json={"read": False}, headers=headers)
    marked = await client.patch(f"/v1/notifications/{second}", json={"read": True}, headers=headers)
    read_all = await client.post("/v1/notifications/read-all", headers=headers)
    count_after_all = (await client.get("/v1/notifications/unread-count", headers=headers)).json()
    read_all_again = await client.post("/v1/notifications/read-all", headers=headers)

    assert read.status_code == 200
    assert read.json()["readAt"] is not None
    assert count_after_read == {"count": 2}
    assert unread.json()["readAt"] is None
    assert unread.json()["read"] is False
    assert marked.json()["read"] is True
    assert read_all.json() == {"count": 2}
    assert count_after_all == {"count": 0}
    assert read_all_again.json() == {"count": 0}


async def test_a_user_cannot_read_or_mark_another_users_notification(
    client: httpx.AsyncClient,
) -> None:
    alice = await login(client, 1001)
    bob = await login(client, 1002)
    alices = await _notify(client, 1001, "for alice")

    bob_marks = await client.patch(f"/v1/notifications/{alices}/read", headers=bob)
    bob_patches = await client.patch(
        f"/v1/notifications/{alices}", json={"read": True}, headers=bob
    )
    bob_inbox = await client.get("/v1/notifications", headers=bob)
    bob_read_all = await client.post("/v1/notifications/read-all", headers=bob)
    alice_view = (await client.get("/v1/notifications", headers=alice)).json()

    for response in (bob_marks, bob_patches):
        assert response.status_code == 404
        assert response.json()["code"] == "notification_not_found"
    assert bob_inbox.json() == []
    assert bob_read_all.json() == {"count": 0}
    assert alice_view[0]["readAt"] is None


async def test_related_ids_follow_the_id_rules(client: httpx.AsyncClient) -> None:
    headers = await login(client, 1001)
    await _notify(client, 1001, "deal", related=(RelatedType.deal, 42))
    await _notify(
        client,
        1001,
        "channel",
        related=(RelatedType.channel, -1001234567890),
        type=NotificationType.channel_deactivated,
    )

    channel, deal = (await client.get("/v1/notifications", headers=headers)).json()

    assert deal["relatedId"] == 42
    assert deal["relatedType"] == "deal"
    assert channel["relatedId"] == "-1001234567890"
    assert channel["relatedType"] == "channel"


async def test_invalid_notification_id_is_422_not_500(client: httpx.AsyncClient) -> None:
    headers = await login(client, 1001)

    response = await client.patch("/v1/notifications/abc/read", headers=headers)

    assert response.status_code == 422
