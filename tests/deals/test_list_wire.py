"""The deal list and GET /v1/deals/{id} build their JSON from plain rows: each deal equals what
the operator's list (GET /v1/admin/deals) renders through the response model, for deals in every
status and with every part a deal shows (escrow and wallets, creatives, the post, a pending edit,
a dispute and its outcome, the timeline)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx

from chainfluence.kit.time import utcnow
from chainfluence.models import (
    ActorType,
    Creative,
    CreativeStatus,
    Deal,
    DealEvent,
    DealStatus,
)
from tests.conftest import runtime_of
from tests.factories import create_deal, login
from tests.offers.world import list_channel

OWNER, MANAGER, ADVERTISER, OTHER = 7201, 7202, 7203, 7204
OPERATOR = 900001  # tests.conftest.make_settings
CHANNEL = -1007200000001
ADVERTISER_WALLET = "0:" + "cd" * 32
PUBLISHER_WALLET = "0:" + "ef" * 32
HASH = "0x" + "12" * 32


async def _shape(client: httpx.AsyncClient, deal_id: int, status: DealStatus, n: int) -> None:
    """Give the deal what a deal in `status` has (and a few things it might)."""
    now = utcnow().replace(microsecond=123456)
    posted = (now - dt.timedelta(hours=5)).replace(microsecond=0)
    async with runtime_of(client).session() as session:
        deal = await session.get(Deal, deal_id)
        assert deal is not None
        deal.status = status
        if status is DealStatus.pending:
            deal.deposited_nano = deal.price_nano // 3 if n else 0
            if n:
                deal.escrow_address = f"0:{0xAB00 + n:064x}"
            return
        deal.escrow_address = f"0:{0xAB00 + n:064x}"
        deal.advertiser_wallet = ADVERTISER_WALLET
        deal.publisher_wallet = PUBLISHER_WALLET
        deal.refund_after = now + dt.timedelta(days=9)
        deal.deposited_nano = deal.price_nano
        deal.deposit_tx_hash = "aa" * 32
        for version in (1, 2, 3):
            session.add(
                Creative(
                    deal_id=deal_id,
                    version=version,
                    author_id=ADVERTISER,
                    text=f"  Version {version} — попробуйте 🚀\n",
                    entities=[],
                    images=[f"file-{version}"] if version != 2 else [],
                    buttons=[],
                    status=CreativeStatus.submitted,
                    content_hash=HASH,
                )
            )
        if status is DealStatus.in_escrow:
            await session.flush()
            return
        deal.creative_version = 2  # approved, and not the latest draft
        deal.content_hash = HASH
        deal.post_message_id = 500 + n
        deal.post_message_ids = [500 + n]
        deal.posted_at = posted
        deal.hold_until = posted + dt.timedelta(hours=48)
        deal.top_until = posted + dt.timedelta(hours=2)
        session.add(
            DealEvent(
                deal_id=deal_id,
                event="publish",
                actor_type=ActorType.bot,
                from_status=DealStatus.in_escrow,
                to_status=DealStatus.live,
                details={"edit_window_hours": 12.5, "message_id": 500 + n, "note": " kept "},
            )
        )
        if status is DealStatus.edit_pending:
            checked = dt.datetime(2026, 5, 1, 12, 0, 1, tzinfo=dt.timezone(dt.timedelta(hours=3)))
            session.add(
                DealEvent(
                    deal_id=deal_id,
                    event="edit_detected",
                    actor_type=ActorType.system,
                    from_status=DealStatus.live,
                    to_status=DealStatus.edit_pending,
                    details={
                        "checked_at": checked.isoformat(),
                        "respond_by": (checked + dt.timedelta(hours=12)).isoformat(),
                        "old_text": "  the old text ",
                        "new_text": "the new text\n",
                        "old_hash": HASH,
                        "new_hash": None,
                    },
                )
            )
        if status in (DealStatus.disputed, DealStatus.splitting, DealStatus.split_paid):
            deal.disputed_from = DealStatus.live
            deal.dispute_reason = "  The post was hidden — пост скрыт  "
            deal.disputed_by = ADVERTISER
        if status in (DealStatus.splitting, DealStatus.split_paid):
            deal.dispute_outcome = {"publisherBps": 4000, "note": " half ", "by": 900001}
        if status in (DealStatus.released, DealStatus.split_paid, DealStatus.refunded):
            deal.payout_tx_hash = "bb" * 32
            session.add(
                DealEvent(
                    deal_id=deal_id,
                    event="payout_confirmed",
                    actor_type=ActorType.chain,
                    from_status=None,
                    to_status=status,
                    details={},
                    tx_hash="bb" * 32,
                )
            )
        if status is DealStatus.released:
            deal.released_at = now
        if status is DealStatus.refunded:
            deal.refunded_at = now
            deal.close_reason = " The post was deleted. "
        if status is DealStatus.cancelled:
            deal.cancelled_at = now
            deal.close_reason = "Declined by the publisher."
        await session.flush()


async def test_list_items_equal_the_deal_as_its_own_route_renders_it(
    client: httpx.AsyncClient,
) -> None:
    await list_channel(
        client,
        owner_id=OWNER,
        chat_id=CHANNEL,
        username="wire_channel",
        prices={"2/48": "10"},
        admins={MANAGER: True},
    )
    owner = await login(client, OWNER)
    advertiser = await login(client, ADVERTISER)
    shapes = [*DealStatus, DealStatus.pending, DealStatus.live]
    ids = []
    for n, status in enumerate(shapes):
        deal_id = await create_deal(
            client,
            advertiser=advertiser,
            acceptor=owner,
            channel_id=CHANNEL,
            amount=f"{10 + n}.000000007",
            proposed_at=utcnow() + dt.timedelta(days=2 + n),
        )
        await _shape(client, deal_id, status, n)
        ids.append(deal_id)
    # Someone else's deal is never listed.
    await list_channel(
        client, owner_id=OTHER, chat_id=CHANNEL - 1, username="other_channel", prices={"2/48": "10"}
    )
    await create_deal(
        client, advertiser=advertiser, acceptor=await login(client, OTHER), channel_id=CHANNEL - 1
    )

    singles: dict[int, Any] = {}
    for deal_id in ids:
        single = await client.get(f"/v1/deals/{deal_id}", headers=owner)
        assert single.status_code == 200, single.text
        singles[deal_id] = single.json()
    newest_first = [singles[deal_id] for deal_id in reversed(ids)]
    rendered = await client.get(
        "/v1/admin/deals",
        params={"channelId": str(CHANNEL), "limit": 200},
        headers=await login(client, OPERATOR),
    )
    as_operator = [
        (await client.get(f"/v1/deals/{deal_id}", headers=await login(client, OPERATOR))).json()
        for deal_id in reversed(ids)
    ]
    missing = await client.get(f"/v1/deals/{ids[-1] + 1000}", headers=owner)
    hidden = await client.get(f"/v1/deals/{ids[0]}", headers=await login(client, OTHER))
    manager = await login(client, MANAGER)
    as_publisher = await client.get("/v1/deals", params={"role": "publisher"}, headers=manager)
    page = await client.get("/v1/deals", params={"limit": 5, "offset": 3}, headers=owner)
    chosen = ["live", "disputed", "live", "refunded"]
    some = await client.get("/v1/deals", params={"status": chosen}, headers=owner)
    as_advertiser = await client.get(
        "/v1/deals", params={"role": "advertiser", "limit": 200}, headers=advertiser
    )

    assert rendered.json() == newest_first
    assert as_operator == newest_first
    assert (missing.status_code, hidden.status_code) == (404, 404)
    assert missing.json() == hidden.json()
    assert as_publisher.headers["content-type"] == "application/json"
    assert as_publisher.json() == newest_first
    assert as_publisher.headers["x-total-count"] == str(len(ids))
    assert (page.json(), page.headers["x-total-count"]) == (newest_first[3:8], str(len(ids)))
    assert some.json() == [d for d in newest_first if d["status"] in chosen]
    assert some.headers["x-total-count"] == "4"
    assert len(as_advertiser.json()) == len(ids) + 1
    assert as_advertiser.json()[1:] == newest_first
    # What the comparison covers: every status, and each part of a deal shown somewhere.
    assert {d["status"] for d in newest_first} == {s.value for s in DealStatus}
    live = singles[ids[_index(DealStatus.live)]]
    assert live["creativeText"] == "Version 2 — попробуйте 🚀"
    assert (live["creativeImages"], live["creativeVersion"]) == ([], 2)
    assert live["escrowAddressFriendly"]
    assert live["publisherWalletFriendly"]
    assert live["editNotice"]
    assert "12.5 h" in live["editNotice"]
    assert live["timeline"][-1]["details"]["note"] == " kept "
    in_escrow = singles[ids[_index(DealStatus.in_escrow)]]
    assert (in_escrow["creativeText"], in_escrow["creativeImages"]) == (
        "Version 3 — попробуйте 🚀", ["file-3"],
    )  # fmt: skip
    edit = singles[ids[_index(DealStatus.edit_pending)]]["pendingEdit"]
    assert edit["detectedAt"] == "2026-05-01T09:00:01Z"
    assert (edit["oldText"], edit["newText"], edit["newHash"]) == (
        "the old text", "the new text", None,
    )  # fmt: skip
    split = singles[ids[_index(DealStatus.split_paid)]]
    assert split["disputeOutcome"] == {"publisherBps": 4000, "note": " half ", "by": 900001}
    assert split["disputeReason"] == "The post was hidden — пост скрыт"
    assert split["disputedBy"] == str(ADVERTISER)
    assert singles[ids[-1]]["postedAt"] is not None
    assert singles[ids[-2]]["missingNano"] != "0"  # a part-paid pending deal
    anonymous = await client.get("/v1/deals")
    assert (anonymous.status_code, anonymous.json()["code"]) == (401, "not_authenticated")


def _index(status: DealStatus) -> int:
    return list(DealStatus).index(status)
