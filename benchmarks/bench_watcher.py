"""Chain watcher cost: API calls and wall time per cycle, and deposit detection latency, for 10,
1,000 and 100,000 open escrows, polling addresses versus scanning blocks.

The local TON chain runs in its own process (``python -m chainfluence_sandbox.ton``) and the
watcher talks to it over HTTP with the production client, as it would to toncenter. Escrows are
seeded cheaply as deal rows in PostgreSQL with escrow addresses nothing was deployed to (an
address with no transactions costs a poll all the same); the one escrow each measurement pays is a
real one, paid with its StateInit from a sandbox wallet through the emulator's control API.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
from pytoniq_core.boc.address import Address
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from benchmarks.harness import header, postgres_database
from chainfluence.deals.observations import ChainObservations
from chainfluence.escrow.watchlist import DealWatchList
from chainfluence.formats import AdFormat
from chainfluence.kit.db import create_engine, create_sessionmaker, session_scope
from chainfluence.kit.time import utcnow
from chainfluence.models import ChainTransaction, Channel, Deal, DealStatus, User
from chainfluence.ton.client import TonClient
from chainfluence.ton.escrow import EscrowTerms, escrow_address, escrow_state_init
from chainfluence.ton.transactions import raw_address
from chainfluence.ton.watcher import ChainWatcher, CycleStats, WatchMode

SIZES = tuple(
    int(n) for n in os.environ.get("CHAINFLUENCE_BENCH_ESCROWS", "10,1000,100000").split(",")
)
TON = 1_000_000_000
ADVERTISER_ID, PUBLISHER_ID, CHANNEL_ID = 9_000_000_001, 9_000_000_002, -1_009_000_000_001
LOOP_INTERVAL = 0.2  # seconds between watcher cycles while measuring latency
CONCURRENCY = 32  # in-flight API calls of the per-address poller


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def ton_emulator_process() -> Iterator[str]:
    """The local chain in a child process; yields its base URL."""
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "chainfluence_sandbox.ton",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(process.stderr.read().decode() if process.stderr else "exited")
            try:
                if httpx.get(f"{url}/api/v2/getMasterchainInfo", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the TON emulator did not start in 30 s")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def _random_address() -> str:
    return f"0:{secrets.token_hex(32)}"


async def _seed_parties(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with session_scope(sessionmaker) as session:
        for user_id in (ADVERTISER_ID, PUBLISHER_ID):
            session.add(User(id=user_id, first_name="bench", member_since=utcnow()))
        await session.flush()
        session.add(Channel(id=CHANNEL_ID, owner_id=PUBLISHER_ID, title="bench channel"))


async def _seed_escrows(sessionmaker: async_sessionmaker[AsyncSession], count: int) -> None:
    """``count`` open escrows (pending deals with an escrow address), in batches."""
    now = utcnow()
    for start in range(0, count, 10_000):
        rows = [
            {
                "channel_id": CHANNEL_ID,
                "publisher_id": PUBLISHER_ID,
                "advertiser_id": ADVERTISER_ID,
                "format": AdFormat.test,
                "status": DealStatus.pending,
                "price_nano": 10 * TON,
                "platform_fee_nano": TON // 2,
                "deposited_nano": 0,
                "escrow_address": _random_address(),
                "created_at": now,
                "updated_at": now,
            }
            for _ in range(min(10_000, count - start))
        ]
        async with session_scope(sessionmaker) as session:
            await session.execute(insert(Deal), rows)


async def _real_escrow(
    sessionmaker: async_sessionmaker[AsyncSession], advertiser: str
) -> tuple[int, EscrowTerms, str]:
    """A deal whose escrow is real (so paying it deploys the contract); the newest, polled last."""
    async with session_scope(sessionmaker) as session:
        deal = Deal(
            channel_id=CHANNEL_ID,
            publisher_id=PUBLISHER_ID,
            advertiser_id=ADVERTISER_ID,
            format=AdFormat.test,
            status=DealStatus.pending,
            price_nano=10 * TON,
            platform_fee_nano=TON // 2,
            deposited_nano=0,
        )
        session.add(deal)
        await session.flush()
        terms = EscrowTerms(
            deal_id=deal.id,
            platform=Address(_random_address()),
            advertiser=Address(advertiser),
            publisher=Address(_random_address()),
            fee_recipient=Address(_random_address()),
            price_nano=10 * TON,
            fee_nano=TON // 2,
            refund_after=int(time.time()) + 86_400,
        )
        address = raw_address(escrow_address(terms))
        deal.escrow_address = address
        deal.advertiser_wallet = advertiser
        return deal.id, terms, address


async def _open_escrows(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    async with session_scope(sessionmaker, write=False) as session:
        statement = select(func.count()).where(Deal.escrow_address.is_not(None))
        return int((await session.execute(statement)).scalar_one())


async def _recorded(sessionmaker: async_sessionmaker[AsyncSession], address: str) -> bool:
    async with session_scope(sessionmaker, write=False) as session:
        statement = select(func.count()).where(ChainTransaction.account == address)
        return bool((await session.execute(statement)).scalar_one())


class _Loop:
    """The watcher cycling back to back (with a short pause), as its loop does, with events for
    "a cycle started" and "a cycle recorded something"."""

    def __init__(self, watcher: ChainWatcher) -> None:
        self.watcher = watcher
        self.started = asyncio.Event()
        self.recorded = asyncio.Event()
        self.recording: CycleStats | None = None

    async def run(self) -> None:
        while True:
            self.started.set()
            stats = await self.watcher.run_cycle()
            if stats is not None and stats.recorded:
                self.recording = stats
                self.recorded.set()
            await asyncio.sleep(LOOP_INTERVAL)


async def _detection_latency(
    watcher: ChainWatcher,
    sessionmaker: async_sessionmaker[AsyncSession],
    control: httpx.AsyncClient,
    wallet: str,
) -> tuple[float, CycleStats | None]:
    """Seconds from a deposit, paid as a cycle starts, to the end of the cycle recording it."""
    _deal_id, terms, address = await _real_escrow(sessionmaker, wallet)
    state_init = escrow_state_init(terms).serialize().to_boc()
    loop = _Loop(watcher)
    task = asyncio.create_task(loop.run())
    try:
        await loop.started.wait()
        paid_at = time.perf_counter()
        response = await control.post(
            f"/sandbox/wallets/{wallet}/transfer",
            json={
                "address": address,
                "amountNano": 10 * TON,
                "stateInit": base64.b64encode(state_init).decode(),
            },
        )
        response.raise_for_status()
        await loop.recorded.wait()
        latency = time.perf_counter() - paid_at
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert await _recorded(sessionmaker, address)
    return latency, loop.recording


async def run(*, duration: float, concurrency: int) -> None:
    del duration, concurrency  # this benchmark sizes itself by the escrow counts
    header("chain watcher: per-address polling vs block scanning (PostgreSQL, local chain)")
    logging.getLogger("chainfluence").setLevel(logging.WARNING)
    async with postgres_database() as database_url:
        engine = create_engine(database_url, pool_size=20)
        sessionmaker = create_sessionmaker(engine)
        try:
            with ton_emulator_process() as base_url:
                await _measure(engine, sessionmaker, base_url)
        finally:
            await engine.dispose()


async def _measure(
    engine: object, sessionmaker: async_sessionmaker[AsyncSession], base_url: str
) -> None:
    await _seed_parties(sessionmaker)
    client = TonClient(f"{base_url}/api/v2", max_concurrency=CONCURRENCY)
    watchers = {
        mode: ChainWatcher(
            engine=engine,
            session_factory=lambda: session_scope(sessionmaker),
            client=client,
            sink=ChainObservations(),
            watch_list=DealWatchList(),
            mode=mode,
            concurrency=CONCURRENCY,
        )
        for mode in (WatchMode.accounts, WatchMode.blocks)
    }
    await watchers[WatchMode.blocks].run_cycle()  # the block cursor starts at the chain's tip
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as control:
        created = await control.post("/sandbox/wallets", json={"balanceNano": 10_000 * TON})
        wallet = created.json()["address"]
        print(
            f"{'open escrows':>12}  {'mode':<9}{'idle cycle':>26}{'cycle recording a deposit':>34}"
            f"{'deposit → recorded':>22}"
        )
        for size in SIZES:
            started = time.perf_counter()
            # Each latency measurement opens one more (real) escrow: seed up to size − 2.
            await _seed_escrows(sessionmaker, size - 2 - await _open_escrows(sessionmaker))
            seed_seconds = time.perf_counter() - started
            for mode, watcher in watchers.items():
                if mode is WatchMode.blocks:
                    await watcher.run_cycle()  # scan the blocks the last payment made first
                idle = await watcher.run_cycle()
                assert idle is not None
                latency, recording = await _detection_latency(
                    watcher, sessionmaker, control, wallet
                )
                busy = (
                    f"{recording.api_calls:>7,} calls {recording.seconds * 1000:>9,.0f} ms"
                    if recording is not None
                    else "n/a"
                )
                print(
                    f"{size:>12,}  {mode.value:<9}"
                    f"{idle.api_calls:>8,} calls {idle.seconds * 1000:>9,.0f} ms"
                    f"{busy:>34}{latency:>20.2f} s"
                )
            print(
                f"{'':>12}  ({await _open_escrows(sessionmaker):,} open escrows, seeded in "
                f"{seed_seconds:.1f} s)"
            )
    await client.close()
    print(
        "Per-address polling makes one getTransactions call per open escrow per cycle, so its\n"
        "cycle time, and the time to notice a deposit, grow linearly with the open escrows. Block\n"
        "scanning makes one call per idle cycle and a few per new block (shards, headers to walk\n"
        "back, the block's transactions), whatever the number of escrows: only the database\n"
        "lookup of a block's accounts touches the escrow table, by index."
    )
