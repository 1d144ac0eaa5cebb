"""One whole deal on the production job runner: BullMQ on the real Redis, PostgreSQL, and the
production timings — sweeps every 15 s (jobs) and 10 s (deals), the chain watcher every 3 s, the
platform wallet every 5 s, a 2 s retry backoff — instead of the rest of the suite's 0.05 s loops.

The project clock still jumps over the scheduled hour and the hold (as the other deal tests do);
what follows each jump is left to the runner: a due deal waits for the next sweep, its job goes
through Redis, and the payout through the wallet's and the watcher's real periods.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from chainfluence.bootstrap import build_runtime
from chainfluence.config import DealSettings, JobSettings
from chainfluence.jobs.redis import BullMQQueue
from chainfluence.kit import time as clock
from chainfluence.models import ChainTransaction, EscrowAction
from chainfluence.ton.escrow import EscrowOp
from chainfluence.ton.wallet import platform_wallet_for
from tests.conftest import runtime_of
from tests.deals.world import PUBLISHER_ID, TON, World, running

pytestmark = pytest.mark.slow


@contextlib.asynccontextmanager
async def _on_bullmq(stopped_world: World, redis_url: str) -> AsyncIterator[World]:
    """The world's app on the production shape: an API that only enqueues, and a worker that
    consumes the queue, runs the sweeps, the chain watcher and the platform wallet."""
    world = stopped_world
    settings = world.settings
    assert settings.database.url.startswith("postgresql")
    world.settings = settings.model_copy(
        update={
            "redis": settings.redis.model_copy(update={"url": redis_url}),
            "jobs": JobSettings(queue_name=f"deal-{uuid.uuid4().hex[:10]}"),
            "ton": settings.ton.model_copy(
                update={
                    "watch_interval_seconds": 3.0,
                    "wallet_interval_seconds": 5.0,
                    "delivery_timeout_seconds": 180,
                }
            ),
            "deals": DealSettings(test_hold_seconds=300, probes_per_hold=2),
        }
    )
    worker = build_runtime(world.settings)
    async with running(world, drain=False) as live_world:
        queue = worker.queue
        assert isinstance(queue, BullMQQueue)
        assert not runtime_of(live_world.client).consuming
        try:
            await worker.start_consuming()
            yield live_world
        finally:
            await queue.obliterate()
            await worker.close()


async def _stalled_at(world: World, db: AsyncEngine, deal_id: int) -> str:
    """Where the payout path stands, for a wait that ran out: the deal's payout orders (status,
    attempts, the wallet's seqno and validity, their history), the escrow transactions the
    watcher recorded, what the chain itself holds (the escrow's and the platform wallet's
    transactions), the job queue and the project clock."""
    lines: list[str] = []
    async with db.connect() as connection:
        orders = (
            await connection.execute(
                select(EscrowAction)
                .where(EscrowAction.deal_id == deal_id)
                .order_by(EscrowAction.id)
            )
        ).all()
        recorded = (
            await connection.execute(
                select(ChainTransaction.kind, ChainTransaction.lt, ChainTransaction.aborted)
                .where(ChainTransaction.deal_id == deal_id)
                .order_by(ChainTransaction.lt)
            )
        ).all()
    escrow = None
    for order in orders:
        escrow = order.escrow_address
        lines.append(
            f"payout order {order.id} ({order.kind}): {order.status}, {order.attempts} attempt(s), "
            f"seqno {order.wallet_seqno}, valid until {order.valid_until}, "
            f"broadcast at {order.broadcast_at}, error {order.error!r}, history {order.history}"
        )
    if not orders:
        lines.append("no payout order")
    lines.append(f"recorded escrow transactions: {[(r.kind, r.lt, r.aborted) for r in recorded]}")
    if escrow is not None:
        on_chain = [
            (s.tx.in_msg.op if s.tx.in_msg else None, s.tx.aborted, s.tx.exit_code)
            for s in world.chain.transactions(escrow)
        ]
        lines.append(f"the escrow's transactions on chain (op, aborted, exit code): {on_chain}")
    wallet = platform_wallet_for(world.settings)
    assert wallet is not None
    lines.append(
        f"platform wallet transactions on chain: {len(world.chain.transactions(wallet.address))}"
    )
    queue = runtime_of(world.client).queue
    if isinstance(queue, BullMQQueue):
        lines.append(f"job queue: {await queue.counts()}")
    lines.append(f"project clock {clock.utcnow().isoformat()} (offset {clock.offset()})")
    return "\n".join(lines)


async def _until(
    world: World,
    db: AsyncEngine,
    deal_id: int,
    status: str,
    *,
    timeout: float,
    waits: dict[str, float],
    step: str,
) -> dict[str, Any]:
    """`world.until`, timed into `waits[step]`; running out says how long each step took so
    far and where the payout path stands."""
    started = time.monotonic()
    try:
        deal = await world.until(deal_id, status, timeout=timeout)
    except AssertionError as exc:
        waits[step] = time.monotonic() - started
        so_far = ", ".join(f"{name}: {seconds:.1f} s" for name, seconds in waits.items())
        raise AssertionError(
            f"{exc}\nwaits so far: {so_far}\n{await _stalled_at(world, db, deal_id)}"
        ) from exc
    waits[step] = time.monotonic() - started
    return deal


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_deal_on_bullmq_and_postgresql_at_production_timings(
    stopped_world: World, redis_url: str, db: AsyncEngine
) -> None:
    waits: dict[str, float] = {}
    async with _on_bullmq(stopped_world, redis_url) as world:
        deal_id = await world.make_deal(amount="10")
        request = await world.pay(deal_id)
        funded = await _until(
            world, db, deal_id, "in_escrow", timeout=30, waits=waits, step="deposit → in_escrow"
        )
        await world.agree_creative(deal_id)
        await world.pass_time(dt.timedelta(hours=1, seconds=5), settle=0)
        live = await _until(
            world, db, deal_id, "live", timeout=60, waits=waits, step="scheduled time → live"
        )
        await world.pass_time(dt.timedelta(seconds=310), settle=0)
        released = await _until(
            world, db, deal_id, "released", timeout=120, waits=waits, step="hold over → released"
        )

    print("\n" + "\n".join(f"{step}: {seconds:.1f} s" for step, seconds in waits.items()))
    fee = int(released["platformFeeNano"])
    events = [e["event"] for e in released["timeline"]]
    assert funded["depositedNano"] == str(10 * TON)
    assert live["postId"] is not None
    assert events.count("publish") == 1
    assert events.count("release_confirmed") == 1
    assert world.payouts(request["rawAddress"], EscrowOp.RELEASE) == 1
    assert world.received(world.publisher_key.address) == 10 * TON - fee
    assert world.received(world.fee_recipient) == fee
    assert len(await world.control.messages(world.channel.id, sent_by_bot=True)) == 1


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_an_unanswered_edit_refunds_on_bullmq_at_production_timings(
    stopped_world: World, redis_url: str
) -> None:
    async with _on_bullmq(stopped_world, redis_url) as world:
        deal_id = await world.make_deal(amount="10")
        await world.pay(deal_id)
        await world.until(deal_id, "in_escrow", timeout=30)
        await world.agree_creative(deal_id)
        await world.pass_time(dt.timedelta(hours=1, seconds=5), settle=0)
        live = await world.until(deal_id, "live", timeout=60)
        edited = "Something else entirely"
        await world.control.edit_post(
            world.channel.id, live["postId"], text=edited, by_user_id=PUBLISHER_ID
        )
        await world.pass_time(dt.timedelta(seconds=310), settle=0)
        paused = await world.until(deal_id, "edit_pending", timeout=60)
        # Past the edit window (2 h by default) the sweep's job, through Redis, refunds.
        await world.pass_time(dt.timedelta(hours=2, seconds=5), settle=0)
        refunded = await world.until(deal_id, "refunded", timeout=120)

    events = [e["event"] for e in refunded["timeline"]]
    assert paused["pendingEdit"]["newText"] == edited
    assert events.count("edit_expired") == 1
    assert events.count("refund_confirmed") == 1
    assert refunded["closeReason"] == "The advertiser did not accept the edit of the post in time."
    assert world.payouts(refunded["escrowAddress"], EscrowOp.REFUND) == 1
    assert world.received(world.publisher_key.address) == 0
