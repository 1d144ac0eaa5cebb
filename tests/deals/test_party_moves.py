"""Every move a party (or an operator) may make, driven over HTTP at least once, guards included.

The moves each test makes are read back from the deals' timelines and compared with what it
declares; the declarations together must cover every party and operator cell of the hand-written
table (tests/deals/table_spec.py), funded variants included. Deals are real: made from offers,
paid on the local chain, published by the bot; refunds and payouts are checked on chain.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest

from chainfluence.ton.escrow import EscrowOp
from tests.conftest import runtime_of
from tests.deals.table_spec import ADVERTISER, OPERATOR, PUBLISHER, party_cells
from tests.deals.world import ADVERTISER_ID, OPERATOR_ID, PUBLISHER_ID, TON, World
from tests.factories import create_channel, create_deal, login

Cell = tuple[str, str, str, str]  # from, action, role, to

PENDING_MOVES: set[Cell] = {
    ("pending", "cancel", ADVERTISER, "cancelled"),
    ("pending", "cancel", PUBLISHER, "cancelled"),
    ("pending", "decline", PUBLISHER, "cancelled"),
    ("pending", "cancel", ADVERTISER, "refunding"),
    ("pending", "cancel", PUBLISHER, "refunding"),
    ("pending", "decline", PUBLISHER, "refunding"),
}
FUNDED_MOVES: set[Cell] = {
    ("in_escrow", "decline", PUBLISHER, "refunding"),
    ("in_escrow", "cancel", ADVERTISER, "refunding"),
    ("in_escrow", "publish", PUBLISHER, "live"),
    ("in_escrow", "dispute", ADVERTISER, "disputed"),
    ("in_escrow", "dispute", PUBLISHER, "disputed"),
    ("live", "dispute", ADVERTISER, "disputed"),
    ("live", "dispute", PUBLISHER, "disputed"),
    ("disputed", "resolve_release", OPERATOR, "verified"),
    ("disputed", "resolve_refund", OPERATOR, "refunding"),
    ("disputed", "resolve_split", OPERATOR, "splitting"),
}
VERIFIED_MOVES: set[Cell] = {
    ("verified", "dispute", ADVERTISER, "disputed"),
    ("verified", "dispute", PUBLISHER, "disputed"),
}
# Accepting and refusing are driven in tests/deals/test_edits.py, the disputes here.
EDIT_MOVES: set[Cell] = {
    ("edit_pending", "edit_accepted", ADVERTISER, "live"),
    ("edit_pending", "edit_refused", ADVERTISER, "refunding"),
    ("edit_pending", "dispute", ADVERTISER, "disputed"),
    ("edit_pending", "dispute", PUBLISHER, "disputed"),
}
ROLES_BY_ID = {str(ADVERTISER_ID): ADVERTISER, str(PUBLISHER_ID): PUBLISHER}


def test_these_tests_cover_every_party_and_operator_move_of_the_spec() -> None:
    assert party_cells() == PENDING_MOVES | FUNDED_MOVES | VERIFIED_MOVES | EDIT_MOVES


def _moves(events: list[dict[str, Any]], roles_by_id: dict[str, str]) -> set[Cell]:
    """The party and operator moves on a timeline, as (from, action, role, to)."""
    moves = set()
    for event in events:
        if event["fromStatus"] is None or event["toStatus"] is None:
            continue
        if event["actorType"] == "operator":
            role = OPERATOR
        elif event["actorType"] == "user":
            role = roles_by_id[event["actorId"]]
        else:
            continue
        moves.add((event["fromStatus"], event["event"], role, event["toStatus"]))
    return moves


async def _observed(world: World, deal_ids: list[int]) -> set[Cell]:
    moves: set[Cell] = set()
    for deal_id in deal_ids:
        moves |= _moves(await world.events(deal_id), ROLES_BY_ID)
    return moves


async def _refused(
    world: World, deal_id: int, path: str, user_id: int, expect: int, body: dict[str, Any]
) -> str:
    before = await world.deal(deal_id)
    response = await world.client.post(
        f"/v1/deals/{deal_id}{path}", json=body, headers=await world.headers(user_id)
    )
    after = await world.deal(deal_id)
    assert response.status_code == expect, response.text
    assert (after["status"], len(after["timeline"])) == (before["status"], len(before["timeline"]))
    message: str = response.json()["message"]
    return message


async def _partly_paid(world: World, amount_nano: int) -> tuple[int, str]:
    """A deal whose escrow got `amount_nano` of its price; with the escrow's raw address."""
    deal_id = await world.make_deal(amount="10")
    request = await world.pay(deal_id, amount_nano=amount_nano)
    for _ in range(400):
        if int((await world.deal(deal_id))["depositedNano"]) == amount_nano:
            return deal_id, str(request["rawAddress"])
        await world.pass_time(dt.timedelta(0), settle=0.05)
    raise AssertionError("the partial deposit was never recorded")


async def test_pending_moves_cancel_before_money_and_refund_a_partial_deposit(
    world: World,
) -> None:
    by_advertiser = await world.make_deal()
    by_publisher = await world.make_deal()
    declined = await world.make_deal()
    cancelled = [
        await world.api("POST", f"/v1/deals/{by_advertiser}/cancel", ADVERTISER_ID),
        await world.api("POST", f"/v1/deals/{by_publisher}/cancel", PUBLISHER_ID),
        await world.api(
            "POST", f"/v1/deals/{declined}/reject", PUBLISHER_ID, json={"reason": "Full."}
        ),
    ]
    # Part of the price arrived: whoever ends the deal, the escrow pays it back.
    partial = []
    for path, user_id in (
        ("/cancel", ADVERTISER_ID),
        ("/cancel", PUBLISHER_ID),
        ("/reject", PUBLISHER_ID),
    ):
        deal_id, escrow = await _partly_paid(world, 4 * TON)
        moved = await world.api("POST", f"/v1/deals/{deal_id}{path}", user_id)
        partial.append((deal_id, escrow, moved))
    refunded = [await world.until(deal_id, "refunded", timeout=30) for deal_id, *_ in partial]

    assert [deal["status"] for deal in cancelled] == ["cancelled"] * 3
    assert [deal["closeReason"] for deal in cancelled] == [
        "Cancelled by the advertiser.",
        "Cancelled by the publisher.",
        "Full.",
    ]
    # Each final status stamps its own time, and only its own.
    stamps = [
        (d["cancelledAt"] is not None, d["refundedAt"] is not None, d["releasedAt"] is not None)
        for d in [*cancelled, *refunded]
    ]
    assert stamps == [(True, False, False)] * 3 + [(False, True, False)] * 3
    assert [moved["status"] for *_, moved in partial] == ["refunding"] * 3
    assert [deal["depositedNano"] for deal in refunded] == [str(4 * TON)] * 3
    assert [world.payouts(escrow, EscrowOp.REFUND) for _, escrow, _ in partial] == [1, 1, 1]
    ids = [by_advertiser, by_publisher, declined, *(deal_id for deal_id, *_ in partial)]
    assert await _observed(world, ids) == PENDING_MOVES


async def test_funded_moves_each_guard_refuses_and_changes_nothing(world: World) -> None:
    # The advertiser cannot decline (that is the publisher's), the publisher cannot withdraw.
    declined = await world.funded_deal()
    not_advertisers = await _refused(world, declined, "/reject", ADVERTISER_ID, 403, {})
    not_publishers = await _refused(world, declined, "/cancel", PUBLISHER_ID, 403, {})
    await world.api("POST", f"/v1/deals/{declined}/reject", PUBLISHER_ID)

    withdrawn = await world.funded_deal()
    await world.api("POST", f"/v1/deals/{withdrawn}/cancel", ADVERTISER_ID)

    # Once a creative is approved the advertiser can no longer withdraw: a dispute instead.
    posted = await world.funded_deal()
    await world.agree_creative(posted)
    approved = await _refused(world, posted, "/cancel", ADVERTISER_ID, 409, {})
    published = await world.api("POST", f"/v1/deals/{posted}/post", PUBLISHER_ID)
    await world.api(
        "POST", f"/v1/deals/{posted}/dispute", ADVERTISER_ID, json={"reason": "Wrong link."}
    )
    await world.api(
        "POST",
        f"/v1/admin/disputes/{posted}/resolve",
        OPERATOR_ID,
        json={"outcome": "release", "note": "The link is the agreed one."},
    )

    refund_decided = await world.funded_deal()
    await world.api(
        "POST", f"/v1/deals/{refund_decided}/dispute", ADVERTISER_ID, json={"reason": "Silent."}
    )
    await world.api(
        "POST",
        f"/v1/admin/disputes/{refund_decided}/resolve",
        OPERATOR_ID,
        json={"outcome": "refund"},
    )

    split_decided = await world.funded_deal()
    await world.agree_creative(split_decided)
    await world.api(
        "POST", f"/v1/deals/{split_decided}/dispute", PUBLISHER_ID, json={"reason": "Late."}
    )
    await world.api(
        "POST",
        f"/v1/admin/disputes/{split_decided}/resolve",
        OPERATOR_ID,
        json={"outcome": "split", "publisherShareBps": 2500},
    )

    live_dispute = await world.funded_deal()
    await world.agree_creative(live_dispute)
    await world.api("POST", f"/v1/deals/{live_dispute}/post", PUBLISHER_ID)
    await world.api(
        "POST", f"/v1/deals/{live_dispute}/dispute", PUBLISHER_ID, json={"reason": "Unpaid."}
    )

    finals = {
        deal_id: await world.until(deal_id, status, timeout=30)
        for deal_id, status in (
            (declined, "refunded"),
            (withdrawn, "refunded"),
            (posted, "released"),
            (refund_decided, "refunded"),
            (split_decided, "split"),
        )
    }
    stamps = {
        status: (
            d["cancelledAt"] is not None,
            d["refundedAt"] is not None,
            d["releasedAt"] is not None,
        )
        for status, d in ((d["status"], d) for d in finals.values())
    }
    assert stamps == {
        "refunded": (False, True, False),
        "released": (False, False, True),
        "split": (False, False, False),
    }
    assert not_advertisers == "Only the publisher can decline this deal."
    assert not_publishers == "Only the advertiser can cancel this deal."
    assert approved == "A creative has been approved; open a dispute instead."
    assert published["success"] is True
    assert published["deal"]["status"] == "live"
    assert (await world.deal(live_dispute))["status"] == "disputed"
    fee = int(finals[posted]["platformFeeNano"])
    # The release pays price − fee; the split a quarter of the price less a quarter of the fee.
    assert world.received(world.publisher_key.address) == (10 * TON - fee) + (
        10 * TON * 2500 // 10_000 - fee * 2500 // 10_000
    )
    ids = [declined, withdrawn, posted, refund_decided, split_decided, live_dispute]
    assert await _observed(world, ids) == FUNDED_MOVES


@pytest.mark.parametrize(
    ("status", "first_id"),
    [("verified", 6201), ("edit_pending", 6211)],
)
async def test_either_party_disputes_a_verified_deal_or_a_pending_edit(
    client: httpx.AsyncClient, status: str, first_id: int
) -> None:
    # A verified deal's release is ordered as soon as it gets there, so a party's dispute in
    # between is a race in a running world; these deals are put in their status directly.
    advertiser_id, publisher_id = first_id, first_id + 1
    channel_id = -1006200000000 - first_id
    advertiser = await login(client, advertiser_id)
    publisher = await login(client, publisher_id)
    await create_channel(runtime_of(client), owner_id=publisher_id, channel_id=channel_id)
    roles = {str(advertiser_id): ADVERTISER, str(publisher_id): PUBLISHER}
    moves: set[Cell] = set()
    for headers in (advertiser, publisher):
        deal_id = await create_deal(
            client,
            advertiser=advertiser,
            acceptor=publisher,
            channel_id=channel_id,
            status=status,
        )
        response = await client.post(
            f"/v1/deals/{deal_id}/dispute", json={"reason": "Objection."}, headers=headers
        )
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "disputed"
        timeline = await client.get(f"/v1/deals/{deal_id}/timeline", headers=headers)
        moves |= _moves(timeline.json(), roles)

    disputes = {cell for cell in VERIFIED_MOVES | EDIT_MOVES if cell[:2] == (status, "dispute")}
    assert moves == disputes
