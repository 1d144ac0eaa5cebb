"""The production shape under faults, end to end.

The sandbox (`chainfluence sandbox up`: both emulators, helpers, clock), `chainfluence api` ×2
behind a balancer and `chainfluence worker` ×2 run as OS processes on their own PostgreSQL
database and their own redis-server. The load driver plays deals concurrently through the HTTP
API (a mix that ends released, refunded after the post was deleted, cancelled unfunded, and split
by an operator after a dispute) while one worker and one api are killed with SIGKILL and
restarted, and Redis is restarted once; when is drawn from a printed seed
(`CHAINFLUENCE_CLUSTER_SEED=<seed> make cluster` replays the schedule).

It ends asserting every deal's final status; exactly one payout, refund or split per funded deal
on the chain emulator's ledger (read over its toncenter API); conservation of every escrow's
money to the nanoton; an in-app notification for every status change of every timeline; and no
5xx other than cut connections to a killed process. Then it prints a table.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from chainfluence.config import Settings
from chainfluence.ton.client import TonClient
from chainfluence.ton.escrow import EscrowOp
from chainfluence.ton.transactions import raw_address
from chainfluence.ton.wallet import platform_wallet_for
from tests.cluster.driver import (
    CANCELLED,
    REFUNDED,
    RELEASED,
    SPLIT,
    DealRun,
    Driver,
    Person,
)
from tests.cluster.shape import Shape, production_shape
from tests.conftest import _postgres_database

pytestmark = pytest.mark.cluster

DEALS = int(os.environ.get("CHAINFLUENCE_CLUSTER_DEALS", "120"))
PUBLISHERS = 12
ADVERTISERS = 40
# Deals are booked for this long after the start: time to make, fund and approve them all.
POST_AFTER = dt.timedelta(seconds=300)
# The shortest deposit deadline the app allows (deals.schedule.deposit_deadline).
DEPOSIT_DEADLINE_MIN = dt.timedelta(minutes=30)
KINDS = [RELEASED, RELEASED, RELEASED, REFUNDED, CANCELLED, SPLIT]
PAYOUT_OPS = {EscrowOp.RELEASE, EscrowOp.REFUND, EscrowOp.SPLIT}

# The in-app notification each status a timeline moves into must leave with the deal's parties
# (other than the one who made the move).
NOTIFIED = {
    "in_escrow": {"deposit_received"},
    "live": {"post_published"},
    "verified": {"post_verified", "dispute_resolved"},
    "refunding": {"post_violation", "deal_declined", "deal_cancelled", "dispute_resolved"},
    "cancelled": {"deal_cancelled", "deal_declined"},
    "disputed": {"dispute_opened"},
    "splitting": {"dispute_resolved"},
    "released": {"funds_released"},
    "refunded": {"funds_refunded"},
    "split": {"funds_released"},
}


@dataclass
class Fault:
    what: str
    at: float
    down_for: float
    done_at: float | None = None

    def describe(self) -> str:
        return f"{self.what} at {self.at:.1f} s, back {self.down_for:.1f} s later"


async def run_faults(shape: Shape, faults: list[Fault], start: float) -> None:
    for fault in sorted(faults, key=lambda f: f.at):
        await asyncio.sleep(max(0.0, start + fault.at - time.monotonic()))
        name = fault.what.split()[0]
        if name == "redis":
            await asyncio.to_thread(shape.redis.stop)
            await asyncio.sleep(fault.down_for)
            await asyncio.to_thread(shape.redis.start)
        else:
            process = next(p for p in shape.processes if p.name == name)
            await asyncio.to_thread(process.kill)
            await asyncio.sleep(fault.down_for)
            process.start()
        fault.done_at = time.monotonic() - start


def schedule(seed: int) -> list[Fault]:
    rng = random.Random(seed)
    return [
        Fault(f"worker-{rng.randint(1, 2)} kill -9", rng.uniform(20, 330), rng.uniform(2, 8)),
        Fault(f"api-{rng.randint(1, 2)} kill -9", rng.uniform(20, 330), rng.uniform(2, 8)),
        Fault("redis restart", rng.uniform(20, 330), rng.uniform(1, 4)),
    ]


@dataclass
class Ledger:
    payouts: int = 0
    deposited: int = 0
    to_publisher: int = 0
    to_advertiser: int = 0
    to_platform: int = 0
    delta: int = 0  # money in − money out − fees − balance left: 0 when nothing vanished


async def ledger(ton: TonClient, run: DealRun, escrow: str, platform: str) -> Ledger:
    book = Ledger()
    money_in = money_out = fees = 0
    for tx in await ton.get_transactions(escrow):
        message = tx.in_msg
        if message is not None and not message.is_external:
            money_in += message.value_nano
            if message.source == run.advertiser.wallet:
                book.deposited += message.value_nano
            if message.op in PAYOUT_OPS and not tx.aborted and tx.exit_code == 0:
                book.payouts += 1
        fees += tx.total_fees_nano
        for out in tx.out_msgs:
            money_out += out.value_nano
            fees += out.fwd_fee_nano
            if out.destination == run.publisher.wallet:
                book.to_publisher += out.value_nano
            elif out.destination == run.advertiser.wallet:
                book.to_advertiser += out.value_nano
            elif out.destination == platform:
                book.to_platform += out.value_nano
    balance = (await ton.get_account(escrow)).balance_nano
    book.delta = money_in - money_out - fees - balance
    return book


async def test_production_shape_plays_deals_through_kills_and_a_redis_restart(
    tmp_path: Path,
) -> None:
    seed = int(
        os.environ.get("CHAINFLUENCE_CLUSTER_SEED") or random.SystemRandom().randrange(10**6)
    )
    print(f"\ncluster seed {seed} (replay: CHAINFLUENCE_CLUSTER_SEED={seed} make cluster)")
    faults = schedule(seed)
    async with _postgres_database() as database_url:
        with production_shape(tmp_path / "cluster", database_url) as shape:
            report = await play(shape, faults, seed)
    print(report)


async def play(shape: Shape, faults: list[Fault], seed: int) -> str:
    driver = Driver(shape.api_url, shape.sandbox_url)
    try:
        publishers = await asyncio.gather(*(driver.publisher(n) for n in range(PUBLISHERS)))
        advertisers = await asyncio.gather(*(driver.advertiser(n) for n in range(ADVERTISERS)))
        await driver.login(driver.operator)
        clock = await driver.call(driver.sandbox, "GET", "/v1/sandbox/clock")
        post_at = dt.datetime.fromisoformat(clock["now"]) + POST_AFTER
        runs = []
        for number in range(DEALS):
            publisher, channel_id = publishers[number % PUBLISHERS]
            advertiser, _ = advertisers[number % ADVERTISERS]
            runs.append(
                DealRun(
                    number=number,
                    kind=KINDS[number % len(KINDS)],
                    publisher=publisher,
                    channel_id=channel_id,
                    advertiser=advertiser,
                    price_nano=1_000_000_000 + number * 1_000_001,
                )
            )
        campaigns = {adv.id: campaign for adv, campaign in advertisers}
        start = time.monotonic()

        async def staggered(run: DealRun) -> None:
            await asyncio.sleep(run.number * 0.15)
            await driver.play(run, campaigns[run.advertiser.id], post_at)

        fault_task = asyncio.create_task(run_faults(shape, faults, start))
        unfunded = [asyncio.create_task(staggered(r)) for r in runs if r.kind == CANCELLED]
        funded = [asyncio.create_task(staggered(r)) for r in runs if r.kind != CANCELLED]
        await asyncio.wait_for(asyncio.gather(*funded), timeout=1200)
        await asyncio.wait_for(fault_task, timeout=300)
        # The unfunded deals left to their deposit deadline: move every process's clock past it.
        await driver.call(driver.sandbox, "POST", "/v1/sandbox/clock/advance",
                          json={"seconds": DEPOSIT_DEADLINE_MIN.total_seconds() + 60})  # fmt: skip
        await asyncio.wait_for(asyncio.gather(*unfunded), timeout=600)
        wall = time.monotonic() - start
        return await check(shape, driver, runs, faults, seed, wall)
    finally:
        await driver.close()


async def check(
    shape: Shape, driver: Driver, runs: list[DealRun], faults: list[Fault], seed: int, wall: float
) -> str:
    problems: list[str] = [f"deal {run.number} (#{run.deal_id}): {run.error}" for run in runs
                           if run.error]  # fmt: skip
    platform_wallet = platform_wallet_for(Settings(_env_file=None))  # type: ignore[call-arg]
    assert platform_wallet is not None
    platform = raw_address(platform_wallet.address)
    ledgers: dict[int, Ledger] = {}
    deals: dict[int, dict[str, Any]] = {}
    async with TonClient(shape.ton_api_url) as ton:
        for run in runs:
            if run.deal_id is None:
                continue
            deal = await driver.deal(run)
            deals[run.number] = deal
            if deal["status"] != run.kind:
                problems.append(f"deal #{run.deal_id}: {deal['status']}, expected {run.kind}")
            escrow = deal["escrowAddress"]
            if run.kind == CANCELLED:
                if escrow is not None:
                    book = await ledger(ton, run, raw_address(escrow), platform)
                    if book.payouts or book.deposited:
                        problems.append(f"deal #{run.deal_id}: unfunded but {book}")
                continue
            if escrow is None:
                # The run failed before the deal had an escrow (its error is a problem already):
                # nothing on chain to weigh.
                problems.append(f"deal #{run.deal_id} ({run.kind}): {deal['status']}, no escrow")
                continue
            book = await ledger(ton, run, raw_address(escrow), platform)
            ledgers[run.number] = book
            if book.payouts != 1:
                problems.append(f"deal #{run.deal_id} ({run.kind}): {book.payouts} payouts")
            if book.delta != 0:
                problems.append(f"deal #{run.deal_id}: escrow money off by {book.delta} nanotons")
            fee = int(deal["platformFeeNano"])
            price = int(deal["amountNano"])
            if run.kind == RELEASED and (
                book.to_publisher != price - fee or book.to_platform != fee
            ):
                problems.append(f"deal #{run.deal_id}: released {book}, price {price} fee {fee}")
            if run.kind == REFUNDED and (
                book.to_publisher or book.to_platform or book.to_advertiser < book.deposited
            ):
                problems.append(f"deal #{run.deal_id}: refunded {book}")
            if run.kind == SPLIT and not (book.to_publisher > 0 and book.to_advertiser > 0):
                problems.append(f"deal #{run.deal_id}: split {book}")
        problems += await missing_notifications(driver, runs)

    finished = [run for run in runs if run.finished is not None]
    slowest = max(finished, key=lambda r: r.finished - r.started, default=None)  # type: ignore[operator]
    statuses = Counter(deal["status"] for deal in deals.values())
    payouts = sum(book.payouts for book in ledgers.values())
    lines = [
        "",
        f"cluster run, seed {seed}",
        f"{'deals':<16}{len(runs)} ({', '.join(f'{n} {s}' for s, n in sorted(statuses.items()))})",
        f"{'wall time':<16}{wall:.1f} s (deals and faults; the processes' start-up not counted)",
        f"{'payouts':<16}{payouts} on chain for {len(ledgers)} funded deals",
        f"{'conservation':<16}{sum(abs(b.delta) for b in ledgers.values())} nanotons off",
        f"{'errors':<16}{len(driver.stats.server_errors)} 5xx; "
        f"{driver.stats.connection_errors} cut connections to a killed process, "
        f"{driver.stats.timeouts} timeouts ({driver.stats.requests} requests)",
        f"{'slowest deal':<16}"
        + (
            f"#{slowest.deal_id} ({slowest.kind}) {slowest.finished - slowest.started:.1f} s"  # type: ignore[operator]
            if slowest
            else "none finished"
        ),
        f"{'faults':<16}" + "; ".join(f.describe() for f in faults),
    ]
    report = "\n".join(lines)
    problems += driver.stats.server_errors
    assert not problems, report + "\n\nproblems:\n" + "\n".join(problems[:60])
    return report


async def missing_notifications(driver: Driver, runs: list[DealRun]) -> list[str]:
    people: dict[int, Person] = {}
    for run in runs:
        people[run.advertiser.id] = run.advertiser
        people[run.publisher.id] = run.publisher
    received: dict[tuple[int, int], set[str]] = defaultdict(set)
    for person in people.values():
        for note in await driver.notifications(person):
            if note.get("relatedType") == "deal":
                received[(person.id, int(note["relatedId"]))].add(note["type"])
    problems = []
    for run in runs:
        if run.deal_id is None:
            continue
        timeline = await driver.call(
            driver.api, "GET", f"/v1/deals/{run.deal_id}/timeline", person=run.advertiser
        )
        for event in timeline:
            target = event["toStatus"]
            if target is None or target == event["fromStatus"] or target not in NOTIFIED:
                continue
            actor = int(event["actorId"]) if event.get("actorId") else None
            for party in (run.advertiser.id, run.publisher.id):
                if party == actor:
                    continue
                if not received[(party, run.deal_id)] & NOTIFIED[target]:
                    problems.append(
                        f"deal #{run.deal_id}: {party} has no notification of "
                        f"{event['event']} → {target}"
                    )
    return problems
