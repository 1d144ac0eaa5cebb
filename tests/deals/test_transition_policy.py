"""The deal's transition policy is passed explicitly: no import order decides what a move does.

A caller in a fresh interpreter that reaches the deals package only through its public API
(`state_machine.transition` with `lifecycle.DEAL_POLICY`) gets the refund order with the move to
`refunding`; without a policy the move is refused and nothing changes.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from chainfluence.config import Settings
from chainfluence.deals.state_machine import (
    MONEY_STATUSES,
    TransitionPolicy,
    transition,
)
from chainfluence.models import Deal, DealStatus, EscrowAction, EscrowActionKind
from chainfluence.models import EscrowActionStatus as OrderStatus
from tests.conftest import runtime_of
from tests.factories import create_channel, create_deal, fund_deal, login

ADVERTISER, PUBLISHER = 6201, 6202
CHANNEL = -1006200000001
ESCROW = "EQ" + "A" * 46

# Run in a fresh interpreter: only the deals package's public API and the runtime that opens
# sessions; the arguments are the settings (JSON), the deal id and the publisher's user id.
FRESH_CALLER = """
import asyncio, json, sys

from chainfluence.config import Settings
from chainfluence.deals.state_machine import Action, Actor, Role, transition
from chainfluence.bootstrap import build_runtime


async def main() -> None:
    settings = Settings(_env_file=None, **json.loads(sys.argv[1]))
    deal_id, publisher = int(sys.argv[2]), int(sys.argv[3])
    runtime = build_runtime(settings)
    actor = Actor(Role.publisher, publisher)
    without = "moved"
    try:
        async with runtime.session() as session:
            await transition(session, None, deal_id, Action.decline, actor)
    except TypeError as exc:
        without = str(exc)
    from chainfluence.deals.lifecycle import DEAL_POLICY

    async with runtime.session() as session:
        deal = await transition(session, DEAL_POLICY, deal_id, Action.decline, actor)
        status = deal.status.value
    await runtime.close()
    print(json.dumps({"without_policy": without, "status": status}))


asyncio.run(main())
"""


def test_transition_takes_the_policy_as_a_required_argument() -> None:
    parameter = inspect.signature(transition).parameters["policy"]
    assert parameter.default is inspect.Parameter.empty
    assert parameter.annotation in ("TransitionPolicy", TransitionPolicy)
    assert {s.value for s in MONEY_STATUSES} == {"verified", "refunding", "splitting"}


def test_a_policy_without_an_effect_for_a_money_status_cannot_be_built() -> None:
    async def nothing(*_: object) -> None:
        return None

    with pytest.raises(ValueError, match="missing: refunding, splitting, verified"):
        TransitionPolicy(effects={})
    with pytest.raises(ValueError, match=r"missing: refunding$"):
        TransitionPolicy(effects={DealStatus.verified: nothing, DealStatus.splitting: nothing})


async def test_a_fresh_interpreter_moving_a_funded_deal_to_refunding_orders_the_refund(
    client: httpx.AsyncClient, settings: Settings, database_url: str, tmp_path: Path
) -> None:
    runtime = runtime_of(client)
    advertiser = await login(client, ADVERTISER)
    publisher = await login(client, PUBLISHER)
    await create_channel(runtime, owner_id=PUBLISHER, channel_id=CHANNEL)
    deal_id = await create_deal(
        client, advertiser=advertiser, acceptor=publisher, channel_id=CHANNEL
    )
    await fund_deal(client, deal_id, ESCROW)

    caller_settings = {
        "database": {"url": database_url},
        "auth": {"jwt_secret": settings.auth.jwt_secret.get_secret_value()},
        "uploads": {"dir": str(tmp_path / "uploads")},
        "rate_limit": {"enabled": False},
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        FRESH_CALLER,
        json.dumps(caller_settings),
        str(deal_id),
        str(PUBLISHER),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, err.decode()
    result = json.loads(out.decode().strip().splitlines()[-1])

    assert result == {
        "without_policy": "transition() needs a TransitionPolicy, not NoneType",
        "status": "refunding",
    }
    async with runtime.session(write=False) as session:
        deal = await session.get(Deal, deal_id, populate_existing=True)
        assert deal is not None
        assert deal.status is DealStatus.refunding
        orders = (
            (await session.execute(select(EscrowAction).where(EscrowAction.deal_id == deal_id)))
            .scalars()
            .all()
        )
    assert [(o.kind, o.status, o.escrow_address) for o in orders] == [
        (EscrowActionKind.refund, OrderStatus.pending, ESCROW)
    ]
