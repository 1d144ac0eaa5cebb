"""A channel's managers (its other Telegram administrators) act for the publisher on its deals."""

from __future__ import annotations

import httpx

from tests.conftest import runtime_of
from tests.factories import create_channel, create_deal, login

OWNER, MANAGER, ADVERTISER, STRANGER = 7101, 7102, 7103, 7104
CHANNEL = -1007100000001


async def test_a_manager_sees_the_channels_deals_and_acts_for_the_publisher(
    client: httpx.AsyncClient,
) -> None:
    await create_channel(
        runtime_of(client), owner_id=OWNER, channel_id=CHANNEL, admins={MANAGER: True}
    )
    owner = await login(client, OWNER)
    manager = await login(client, MANAGER)
    advertiser = await login(client, ADVERTISER)
    stranger = await login(client, STRANGER)
    deal_id = await create_deal(client, advertiser=advertiser, acceptor=owner, channel_id=CHANNEL)

    seen = await client.get(f"/v1/deals/{deal_id}", headers=manager)
    listed = await client.get("/v1/deals", params={"role": "publisher"}, headers=manager)
    hidden = await client.get(f"/v1/deals/{deal_id}", headers=stranger)
    declined = await client.post(
        f"/v1/deals/{deal_id}/reject", json={"reason": "Our schedule is full."}, headers=manager
    )

    assert seen.status_code == 200
    assert seen.json()["publisherId"] == str(OWNER)
    assert [d["id"] for d in listed.json()] == [deal_id]
    assert hidden.status_code == 404
    assert declined.status_code == 200, declined.text
    assert declined.json()["status"] == "cancelled"
    decline = next(e for e in declined.json()["timeline"] if e["event"] == "decline")
    assert decline["actorId"] == str(MANAGER)
