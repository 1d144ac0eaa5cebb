"""What one move of a deal writes, pinned exactly: the timeline entry's details and transaction,
the close reason kept through the final confirmation, what the policy's effects are told, that
the policy's own table decides, and the words of each refusal.

Found by mutation testing (`make mutation`): these survived because no test read them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from chainfluence.deals.state_machine import (
    CHAIN,
    Action,
    Actor,
    InvalidTransition,
    Role,
    Transition,
    TransitionForbidden,
    TransitionPolicy,
    check,
    transition,
)
from chainfluence.kit.time import utcnow
from chainfluence.models import Deal, DealEvent, DealStatus
from tests.conftest import runtime_of
from tests.factories import create_channel, create_deal, fund_deal, login

ADVERTISER, PUBLISHER = 6301, 6302
CHANNEL = -1006300000001
ESCROW = "EQ" + "B" * 46
TX = "ab" * 32
REASON = "The publisher declined the deal."


def _recording_policy(
    seen: list[Transition], rules: dict[Any, Any] | None = None
) -> TransitionPolicy:
    async def record(session: Any, change: Transition, actor: Actor) -> None:
        seen.append(change)

    effects = {status: record for status in DealStatus}
    if rules is None:
        return TransitionPolicy(effects=effects)
    return TransitionPolicy(effects=effects, rules=rules)


async def _funded_deal(client: httpx.AsyncClient) -> int:
    runtime = runtime_of(client)
    advertiser = await login(client, ADVERTISER)
    publisher = await login(client, PUBLISHER)
    await create_channel(runtime, owner_id=PUBLISHER, channel_id=CHANNEL)
    deal_id = await create_deal(
        client, advertiser=advertiser, acceptor=publisher, channel_id=CHANNEL
    )
    await fund_deal(client, deal_id, ESCROW)
    return deal_id


async def _last_entry(client: httpx.AsyncClient, deal_id: int) -> DealEvent:
    async with runtime_of(client).session(write=False) as session:
        entries = (
            (
                await session.execute(
                    select(DealEvent).where(DealEvent.deal_id == deal_id).order_by(DealEvent.id)
                )
            )
            .scalars()
            .all()
        )
    return entries[-1]


async def test_a_move_writes_its_reason_details_and_transaction_and_keeps_the_close_reason(
    client: httpx.AsyncClient,
) -> None:
    deal_id = await _funded_deal(client)
    seen: list[Transition] = []
    policy = _recording_policy(seen)
    runtime = runtime_of(client)
    before = utcnow()

    async with runtime.session() as session:
        deal = await transition(
            session,
            policy,
            deal_id,
            Action.decline,
            Actor(Role.publisher, PUBLISHER),
            details={"note": "by hand"},
            reason=REASON,
        )
        assert deal.status is DealStatus.refunding
        assert deal.close_reason == REASON
    declined = await _last_entry(client, deal_id)
    assert declined.event == "decline"
    assert declined.details == {"note": "by hand", "reason": REASON}
    assert declined.tx_hash is None
    assert [(c.source, c.target) for c in seen] == [(DealStatus.in_escrow, DealStatus.refunding)]
    assert before <= seen[0].at <= utcnow()
    assert seen[0].rule.action is Action.decline

    async with runtime.session() as session:
        deal = await transition(
            session, policy, deal_id, Action.refund_confirmed, CHAIN, tx_hash=TX
        )
        assert deal.status is DealStatus.refunded
        # The confirmation gives no reason: the one the deal closed for stays.
        assert deal.close_reason == REASON
        assert isinstance(deal.refunded_at, dt.datetime)
    confirmed = await _last_entry(client, deal_id)
    assert confirmed.event == "refund_confirmed"
    assert confirmed.tx_hash == TX
    assert confirmed.details == {}
    assert [(c.source, c.target) for c in seen][1:] == [(DealStatus.refunding, DealStatus.refunded)]


async def test_the_policy_s_own_table_decides(client: httpx.AsyncClient) -> None:
    deal_id = await _funded_deal(client)
    seen: list[Transition] = []

    with pytest.raises(InvalidTransition):
        async with runtime_of(client).session() as session:
            await transition(
                session,
                _recording_policy(seen, rules={}),
                deal_id,
                Action.decline,
                Actor(Role.publisher, PUBLISHER),
            )

    async with runtime_of(client).session(write=False) as session:
        deal = await session.get(Deal, deal_id, populate_existing=True)
        assert deal is not None
        assert deal.status is DealStatus.in_escrow
    assert seen == []


@pytest.mark.parametrize(("policy", "name"), [(None, "NoneType"), ({}, "dict")])
async def test_a_move_without_a_policy_is_refused_naming_what_it_got(
    policy: Any, name: str
) -> None:
    with pytest.raises(TypeError) as refused:
        await transition(None, policy, 1, Action.cancel, CHAIN)  # type: ignore[arg-type]

    assert str(refused.value) == f"transition() needs a TransitionPolicy, not {name}"


def test_refusals_say_the_status_and_the_roles_in_words() -> None:
    funded = Deal(status=DealStatus.in_escrow, deposited_nano=1)
    pending = Deal(status=DealStatus.pending, deposited_nano=0)

    with pytest.raises(InvalidTransition) as wrong_status:
        check(funded, Action.hold_passed, CHAIN)
    with pytest.raises(TransitionForbidden) as wrong_role:
        check(pending, Action.cancel, Actor(Role.operator, 1))

    assert str(wrong_status.value.message) == "Cannot verify a deal that is in escrow."
    assert str(wrong_role.value.message) == "Only the advertiser or publisher can cancel this deal."
