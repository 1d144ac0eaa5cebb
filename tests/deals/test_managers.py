"""A channel's managers (its other Telegram administrators, with the rights to post, edit and
delete) act for the publisher on its deals; anyone else, or anyone no longer so, does not
(issue 12, finding 4)."""

from __future__ import annotations

import httpx

from chainfluence_sandbox.telegram import TelegramEmulatorControl
from tests.factories import create_deal, eventually, login
from tests.offers.world import list_channel

OWNER, MANAGER, RIGHTLESS, ADVERTISER, STRANGER = 7101, 7102, 7105, 7103, 7104
CHANNEL = -1007100000001


async def _channel_with_deal(client: httpx.AsyncClient, *, status: str = "pending") -> int:
    await list_channel(
        client,
        owner_id=OWNER,
        chat_id=CHANNEL,
        username="managed_channel",
        prices={"2/48": "10"},
        admins={MANAGER: True, RIGHTLESS: False},
    )
    owner = await login(client, OWNER)
    advertiser = await login(client, ADVERTISER)
    return await create_deal(
        client, advertiser=advertiser, acceptor=owner, channel_id=CHANNEL, status=status
    )


async def _status(client: httpx.AsyncClient, deal_id: int) -> str:
    owner = await login(client, OWNER)
    status: str = (await client.get(f"/v1/deals/{deal_id}", headers=owner)).json()["status"]
    return status


async def test_a_manager_sees_the_channels_deals_and_acts_for_the_publisher(
    client: httpx.AsyncClient,
) -> None:
    deal_id = await _channel_with_deal(client)
    manager = await login(client, MANAGER)
    stranger = await login(client, STRANGER)

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


async def test_an_administrator_without_post_edit_delete_rights_is_no_manager(
    client: httpx.AsyncClient,
) -> None:
    deal_id = await _channel_with_deal(client, status="in_escrow")
    rightless = await login(client, RIGHTLESS)

    deal = await client.get(f"/v1/deals/{deal_id}", headers=rightless)
    timeline = await client.get(f"/v1/deals/{deal_id}/timeline", headers=rightless)
    listed = await client.get("/v1/deals", params={"role": "publisher"}, headers=rightless)
    managers = await client.get(f"/v1/channels/{CHANNEL}/managers", headers=rightless)
    mine = await client.get("/v1/channels/mine", headers=rightless)
    rejected = await client.post(f"/v1/deals/{deal_id}/reject", headers=rightless)

    assert (deal.status_code, timeline.status_code) == (404, 404)
    assert listed.json() == []
    assert managers.status_code == 403
    assert managers.json()["code"] == "not_channel_manager"
    assert "post, edit and delete" in managers.json()["message"]
    assert mine.json() == []
    assert rejected.status_code == 404
    assert await _status(client, deal_id) == "in_escrow"


async def test_a_manager_removed_in_telegram_cannot_move_money_before_any_sync(
    client: httpx.AsyncClient, control: TelegramEmulatorControl
) -> None:
    # No bot polling here: the removal's chat_member update is never handled, our copy is stale.
    deal_id = await _channel_with_deal(client, status="in_escrow")
    manager = await login(client, MANAGER)
    await control.demote(CHANNEL, MANAGER, by_user_id=OWNER)

    rejected = await client.post(f"/v1/deals/{deal_id}/reject", headers=manager)
    cancelled = await client.post(f"/v1/deals/{deal_id}/cancel", headers=manager)
    disputed = await client.post(
        f"/v1/deals/{deal_id}/dispute", json={"reason": "Not paid"}, headers=manager
    )

    for response in (rejected, cancelled, disputed):
        assert response.status_code == 403, response.text
        assert response.json()["code"] == "not_channel_manager"
    assert await _status(client, deal_id) == "in_escrow"


async def test_a_manager_whose_rights_are_cut_in_telegram_cannot_act(
    client: httpx.AsyncClient, control: TelegramEmulatorControl
) -> None:
    deal_id = await _channel_with_deal(client, status="in_escrow")
    manager = await login(client, MANAGER)
    await control.promote(CHANNEL, MANAGER, rights={"can_post_messages": True}, by_user_id=OWNER)

    rejected = await client.post(f"/v1/deals/{deal_id}/reject", headers=manager)

    assert rejected.status_code == 403, rejected.text
    assert "edit messages" in rejected.json()["message"]
    assert await _status(client, deal_id) == "in_escrow"


async def test_a_demotion_seen_by_the_bot_revokes_the_manager_at_once(
    client: httpx.AsyncClient, control: TelegramEmulatorControl, bot_polling: None
) -> None:
    deal_id = await _channel_with_deal(client)
    manager = await login(client, MANAGER)
    assert (await client.get(f"/v1/deals/{deal_id}", headers=manager)).status_code == 200

    await control.demote(CHANNEL, MANAGER, by_user_id=OWNER)

    deal = await eventually(
        lambda: client.get(f"/v1/deals/{deal_id}", headers=manager),
        lambda r: r.status_code == 404,
    )
    assert deal.status_code == 404
    assert (await client.get("/v1/channels/mine", headers=manager)).json() == []


async def test_a_promotion_seen_by_the_bot_makes_a_manager(
    client: httpx.AsyncClient, control: TelegramEmulatorControl, bot_polling: None
) -> None:
    deal_id = await _channel_with_deal(client)
    rightless = await login(client, RIGHTLESS)
    rights = {"can_post_messages": True, "can_edit_messages": True}

    await control.promote(
        CHANNEL, RIGHTLESS, rights={**rights, "can_delete_messages": True}, by_user_id=OWNER
    )

    deal = await eventually(
        lambda: client.get(f"/v1/deals/{deal_id}", headers=rightless),
        lambda r: r.status_code == 200,
    )
    assert deal.json()["publisherId"] == str(OWNER)
