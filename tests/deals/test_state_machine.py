"""The transition table, exhaustively: every (status, action, actor) outside it is refused and
changes nothing; and the party routes refuse the same way over HTTP.

Deals in each status are made through the offers API and then put in that status directly
(these tests are about refusals; reaching every status through the whole flow is what
tests/deals/test_end_to_end.py does).
"""

from __future__ import annotations

import itertools

import httpx
import pytest
from sqlalchemy import func, select

from chainfluence.deals.state_machine import (
    RULES,
    Action,
    Actor,
    InvalidTransition,
    Role,
    TransitionForbidden,
    transition,
)
from chainfluence.models import Deal, DealEvent, DealStatus
from tests.conftest import runtime_of
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
        rule = RULES.get((status, action))
        if rule is not None and role in rule.roles:
            continue  # allowed: the flows exercise these
        deal_id = deals[status]
        before = await _snapshot(client, deal_id)
        expected = InvalidTransition if rule is None else TransitionForbidden
        with pytest.raises(expected):
            async with runtime_of(client).session() as session:
                await transition(session, deal_id, action, ACTORS[role])
        refused["409" if rule is None else "403"] += 1
        assert await _snapshot(client, deal_id) == before, (status, action, role)

    allowed = sum(len(rule.roles) for rule in RULES.values())
    assert refused["409"] + refused["403"] + allowed == len(DealStatus) * len(Action) * len(Role)
    assert refused["403"] > 0


PARTY_ROUTES = {
    "cancel": ("/cancel", {}),
    "reject": ("/reject", {}),
    "dispute": ("/dispute", {"reason": "Not what we agreed."}),
}


ROUTE_ACTIONS = {"cancel": Action.cancel, "reject": Action.decline, "dispute": Action.dispute}


def _allowed(status: DealStatus, route: str, role: Role) -> bool:
    # The advertiser's cancel of a funded deal holds only until a creative is approved; these
    # deals have none approved, so the table alone decides.
    rule = RULES.get((status, ROUTE_ACTIONS[route]))
    return rule is not None and role in rule.roles


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
            rule = RULES.get(
                (
                    status,
                    {"cancel": Action.cancel, "reject": Action.decline}.get(route, Action.dispute),
                )
            )
            assert response.status_code == (409 if rule is None else 403), (
                status,
                route,
                who,
                response.text,
            )
        assert response.json()["message"]
        assert await _snapshot(client, deal_id) == before
