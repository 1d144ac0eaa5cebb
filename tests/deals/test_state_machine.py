"""The transition table, exhaustively: every (status, action, actor) outside it is refused and
changes nothing; and the party routes refuse the same way over HTTP.

Deals in each status are made through the offers API and then put in that status directly
(these tests are about refusals; reaching every status through the whole flow is what
tests/deals/test_end_to_end.py does, and every allowed party move is driven over HTTP in
tests/deals/test_party_moves.py). The expected answers come from the hand-written table in
tests/deals/table_spec.py, never from the product's own `RULES`.
"""

from __future__ import annotations

import itertools

import httpx
import pytest
from sqlalchemy import func, select

from chainfluence.deals.lifecycle import DEAL_POLICY
from chainfluence.deals.state_machine import (
    Action,
    Actor,
    InvalidTransition,
    Role,
    TransitionForbidden,
    transition,
)
from chainfluence.models import Deal, DealEvent, DealStatus
from tests.conftest import runtime_of
from tests.deals.table_spec import SPEC, allows
from tests.factories import create_channel, create_deal, login

ADVERTISER, PUBLISHER, STRANGER, OPERATOR = 6101, 6102, 6103, 900001
CHANNEL = -1006100000001


async def _deals_in_every_status(client: httpx.AsyncClient) -> dict[DealStatus, int]:
    advertiser = await login(client, ADVERTISER)
    publisher = await login(client, PUBLISHER)
    await create_channel(runtime_of(client), owner_id=PUBLISHER, channel_id=CHANNEL)
    deals = {}
    for status in DealStatus:
        deals[status] = await create_deal(
            client,
            advertiser=advertiser,
            acceptor=publisher,
            channel_id=CHANNEL,
            status=status.value,
        )
    return deals


async def _snapshot(client: httpx.AsyncClient, deal_id: int) -> tuple[DealStatus, int, object]:
    async with runtime_of(client).session(write=False) as session:
        deal = await session.get(Deal, deal_id)
        assert deal is not None
        events = await session.scalar(
            select(func.count()).select_from(DealEvent).where(DealEvent.deal_id == deal_id)
        )
        return deal.status, int(events or 0), deal.updated_at


ACTORS = {
    Role.advertiser: Actor(Role.advertiser, ADVERTISER),
    Role.publisher: Actor(Role.publisher, PUBLISHER),
    Role.operator: Actor(Role.operator, OPERATOR),
    Role.system: Actor(Role.system),
    Role.chain: Actor(Role.chain),
}


async def test_every_move_outside_the_table_is_refused_and_changes_nothing(
    client: httpx.AsyncClient,
) -> None:
    deals = await _deals_in_every_status(client)
    refused = {"409": 0, "403": 0}

    for status, action, role in itertools.product(DealStatus, Action, Role):
        if allows(status.value, action.value, role.value):
            continue  # allowed: tests/deals/test_party_moves.py and the flows make these
        deal_id = deals[status]
        before = await _snapshot(client, deal_id)
        wrong_status = (status.value, action.value) not in SPEC
        expected = InvalidTransition if wrong_status else TransitionForbidden
        with pytest.raises(expected):
            async with runtime_of(client).session() as session:
                await transition(session, DEAL_POLICY, deal_id, action, ACTORS[role])
        refused["409" if wrong_status else "403"] += 1
        assert await _snapshot(client, deal_id) == before, (status, action, role)

    # 12 statuses × 20 actions × 5 roles; the spec has 46 (status, action) rows, 55 allowed cells.
    assert refused == {"409": (12 * 20 - 46) * 5, "403": 46 * 5 - 55}


PARTY_ROUTES = {
    "cancel": ("/cancel", {}),
    "reject": ("/reject", {}),
    "dispute": ("/dispute", {"reason": "Not what we agreed."}),
    "accept edit": ("/edit/accept", {}),
    "refuse edit": ("/edit/refuse", {}),
}


ROUTE_ACTIONS = {
    "cancel": Action.cancel,
    "reject": Action.decline,
    "dispute": Action.dispute,
    "accept edit": Action.edit_accepted,
    "refuse edit": Action.edit_refused,
}


def _allowed(status: DealStatus, route: str, role: Role) -> bool:
    # The advertiser's cancel of a funded deal holds only until a creative is approved; these
    # deals have none approved, so the table alone decides.
    return allows(status.value, ROUTE_ACTIONS[route].value, role.value)


async def test_party_routes_refuse_what_the_table_refuses(client: httpx.AsyncClient) -> None:
    deals = await _deals_in_every_status(client)
    people = {
        Role.advertiser: await login(client, ADVERTISER),
        Role.publisher: await login(client, PUBLISHER),
        "stranger": await login(client, STRANGER),
    }

    for status, route, who in itertools.product(DealStatus, PARTY_ROUTES, people):
        path, body = PARTY_ROUTES[route]
        deal_id = deals[status]
        before = await _snapshot(client, deal_id)
        allowed = isinstance(who, Role) and _allowed(status, route, who)
        if allowed:
            continue  # moves the deal: covered by the flows
        response = await client.post(f"/v1/deals/{deal_id}{path}", json=body, headers=people[who])
        if who == "stranger":
            assert response.status_code == 404, (status, route, response.text)
        else:
            wrong_status = (status.value, ROUTE_ACTIONS[route].value) not in SPEC
            assert response.status_code == (409 if wrong_status else 403), (
                status,
                route,
                who,
                response.text,
            )
        assert response.json()["message"]
        assert await _snapshot(client, deal_id) == before
