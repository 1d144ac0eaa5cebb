"""The chain watcher: records every transaction of every open escrow once, and reports it.

Two ways to find the transactions, one way to record them (``recording.record``):

* **Block scanning** (the default where the endpoint has block methods): follow the masterchain
  from a persisted cursor, take the basechain shard blocks each masterchain block commits (walking
  back through ``prev_blocks`` to the ones committed in between), read their transactions and keep
  those of watched escrows. API calls per cycle depend on the number of new blocks only, not on
  how many escrows are open. Each masterchain block is one database transaction: its records, its
  events and the cursor move commit together.
* **Per-address polling**: for each open escrow, the transactions above the newest lt recorded
  for it. That lt is the cursor, written in the same transaction as the records. One API call per
  escrow per cycle: simple, and fine for few escrows.

A restart resumes from the cursor and never records a transaction twice (records are unique by
hash, reported only by the call that inserted them). The first block scan starts at the chain's
tip after one per-address catch-up, so nothing that happened earlier is missed either.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

from prometheus_client import Counter, Gauge
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from chainfluence.kit.loops import CycleLog, is_outage, one_line
from chainfluence.kit.time import utcnow
from chainfluence.ton import repository
from chainfluence.ton.client import BlockRef, ChainReader, TonApiError
from chainfluence.ton.events import EscrowEventSink, EscrowWatchList, WatchedEscrow
from chainfluence.ton.leader import exclusive
from chainfluence.ton.recording import record
from chainfluence.ton.transactions import ChainTx

__all__ = ["ChainWatcher", "CycleStats", "WatchMode"]

log = logging.getLogger(__name__)

WATCHER_CYCLES = Counter(
    "chainfluence_chain_watcher_cycles_total", "Chain watcher cycles by outcome", ["outcome"]
)
WATCHER_LEADER = Gauge(
    "chainfluence_chain_watcher_leader", "1 if this process ran the last cycle as the leader"
)
WATCHER_LAG_BLOCKS = Gauge(
    "chainfluence_chain_watcher_lag_blocks",
    "Masterchain blocks between the endpoint's tip and the watcher's cursor (leader only)",
)
WATCHER_LAG_SECONDS = Gauge(
    "chainfluence_chain_watcher_lag_seconds",
    "Seconds since the watcher was last caught up with the chain's tip (leader only)",
)

BLOCKS_CURSOR: Final = "blocks"
LOCK_NAME: Final = "chainfluence.chain_watcher"
_BASECHAIN: Final = 0
_MAX_WALK_BACK: Final = 10_000  # shard blocks between two masterchain blocks we would follow
# Answers meaning "this endpoint has no such method" (rather than "try again later").
_NOT_SERVED: Final = frozenset({400, 404, 405, 501})

SessionFactory = Callable[[], contextlib.AbstractAsyncContextManager[AsyncSession]]


class WatchMode(StrEnum):
    auto = "auto"  # blocks if the endpoint serves them, else accounts
    blocks = "blocks"
    accounts = "accounts"


class ChainWentBackwardsError(RuntimeError):
    """The endpoint's masterchain is behind our cursor: another network or a reset chain."""


@dataclass(slots=True)
class CycleStats:
    mode: WatchMode
    escrows: int = 0  # escrows polled (accounts) or watched escrows seen in blocks
    masterchain_blocks: int = 0
    shard_blocks: int = 0
    transactions_seen: int = 0
    recorded: int = 0
    api_calls: int = 0
    seconds: float = 0.0
    # Block scanning: the endpoint's masterchain tip and the cursor after the cycle.
    tip_seqno: int = 0
    cursor_seqno: int = 0
    errors: list[str] = field(default_factory=list)


class ChainWatcher:
    def __init__(
        self,
        *,
        engine: AsyncEngine,
        session_factory: SessionFactory,
        client: ChainReader,
        sink: EscrowEventSink,
        watch_list: EscrowWatchList,
        mode: WatchMode = WatchMode.auto,
        concurrency: int = 16,
        max_masterchain_blocks_per_cycle: int = 200,
        cancelled_watch: dt.timedelta = dt.timedelta(days=30),
    ) -> None:
        self.engine = engine
        self.session = session_factory
        self.client = client
        self.sink = sink
        self.watch_list = watch_list
        self.mode = mode
        self.concurrency = concurrency
        self.max_masterchain_blocks = max_masterchain_blocks_per_cycle
        self.cancelled_watch = cancelled_watch
        self._resolved_mode: WatchMode | None = None if mode is WatchMode.auto else mode
        self._caught_up_at: float | None = None

    async def run_cycle(self) -> CycleStats | None:
        """One pass, if no other watcher is active (None then)."""
        async with exclusive(self.engine, LOCK_NAME) as leader:
            if not leader:
                return None
            mode = await self._mode()
            stats = CycleStats(mode=mode)
            calls_before = self.client.calls
            started = time.perf_counter()
            try:
                if mode is WatchMode.blocks:
                    await self._scan_blocks(stats)
                else:
                    await self._poll_accounts(stats)
            finally:
                stats.api_calls = self.client.calls - calls_before
                stats.seconds = time.perf_counter() - started
            return stats

    async def run_forever(self, interval: float, stop: asyncio.Event | None = None) -> None:
        """Cycle every `interval` seconds until `stop` is set (a cycle under way finishes)."""
        stop = stop or asyncio.Event()
        cycles = CycleLog(log, "chain watcher cycle", outages=(TonApiError,))
        while not stop.is_set():
            try:
                stats = await self.run_cycle()
            except Exception as exc:
                cycles.failed(exc)
                WATCHER_CYCLES.labels("failed").inc()
            else:
                cycles.succeeded()
                WATCHER_LEADER.set(0 if stats is None else 1)
                if stats is not None:
                    WATCHER_CYCLES.labels("ok").inc()
                    self._observe_lag(stats)
                if stats is not None and stats.recorded:
                    log.info(
                        "chain watcher (%s): %d transaction(s) recorded, %d API calls, %.2fs",
                        stats.mode,
                        stats.recorded,
                        stats.api_calls,
                        stats.seconds,
                    )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval)

    def _observe_lag(self, stats: CycleStats) -> None:
        """Lag after a cycle this process ran as the leader: masterchain blocks still to scan,
        and seconds since the watcher was last caught up with the chain's tip."""
        now = time.time()
        behind = max(0, stats.tip_seqno - stats.cursor_seqno) if stats.tip_seqno else 0
        WATCHER_LAG_BLOCKS.set(behind)
        if behind == 0:
            self._caught_up_at = now
        WATCHER_LAG_SECONDS.set(now - (self._caught_up_at or now))

    async def _mode(self) -> WatchMode:
        if self._resolved_mode is None:
            try:
                tip, _init = await self.client.masterchain_info()
                await self.client.shards(tip.seqno)
                self._resolved_mode = WatchMode.blocks
            except TonApiError as exc:
                if exc.status not in _NOT_SERVED:
                    raise  # unreachable or failing: decide when it answers
                log.warning("the TON endpoint does not serve blocks (%s): polling addresses", exc)
                self._resolved_mode = WatchMode.accounts
        return self._resolved_mode

    # ---- per-address polling --------------------------------------------------------------------

    async def _poll_accounts(self, stats: CycleStats) -> None:
        async with self.session() as session:
            escrows = await self.watch_list.escrows(
                session, ended_since=utcnow() - self.cancelled_watch
            )
        stats.escrows = len(escrows)
        queue: asyncio.Queue[WatchedEscrow] = asyncio.Queue()
        for escrow in escrows:
            queue.put_nowait(escrow)

        async def worker() -> None:
            while True:
                try:
                    escrow = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                try:
                    await self._poll_one(escrow, stats)
                except Exception as exc:
                    # One escrow's failure (endpoint error, a sink refusing) must not hold up
                    # the others; its cursor did not move, so the next cycle retries it.
                    if not stats.errors:
                        log.warning(
                            "chain watcher: escrow %s failed: %s",
                            escrow.address,
                            one_line(exc),
                            exc_info=None if is_outage(exc, (TonApiError,)) else exc,
                        )
                    stats.errors.append(f"{escrow.address}: {exc}")

        await asyncio.gather(*(worker() for _ in range(max(1, self.concurrency))))
        if len(stats.errors) > 1:
            log.warning("chain watcher: %d escrows failed this cycle", len(stats.errors))

    async def _poll_one(self, escrow: WatchedEscrow, stats: CycleStats) -> None:
        txs = await self.client.get_transactions(escrow.address, after_lt=escrow.last_lt)
        if not txs:
            return
        stats.transactions_seen += len(txs)
        async with self.session() as session:
            for tx in txs:
                stats.recorded += await record(session, escrow, tx, self.sink)

    # ---- block scanning -------------------------------------------------------------------------

    async def _scan_blocks(self, stats: CycleStats) -> None:
        tip, init = await self.client.masterchain_info()
        async with self.session() as session:
            cursor = await repository.get_cursor(session, BLOCKS_CURSOR)
        if cursor is None:
            await self._start_scanning(tip, init, stats)
            return
        if cursor.get("init") != init.root_hash or cursor["mc_seqno"] > tip.seqno:
            raise ChainWentBackwardsError(
                f"the endpoint serves another chain than the one scanned so far (first block "
                f"{init.root_hash}, tip {tip.seqno}; cursor at {cursor['mc_seqno']}): "
                "was the network or the endpoint changed?"
            )
        last = min(tip.seqno, cursor["mc_seqno"] + self.max_masterchain_blocks)
        stats.tip_seqno = tip.seqno
        stats.cursor_seqno = cursor["mc_seqno"]
        for seqno in range(cursor["mc_seqno"] + 1, last + 1):
            cursor = await self._scan_masterchain_block(seqno, cursor, stats)
            stats.cursor_seqno = seqno

    async def _start_scanning(self, tip: BlockRef, init: BlockRef, stats: CycleStats) -> None:
        """First run: catch every open escrow up by address, then scan from the tip on."""
        shards = await self.client.shards(tip.seqno)
        await self._poll_accounts(stats)
        position = {
            "init": init.root_hash,
            "mc_seqno": tip.seqno,
            "shards": {s.shard_key: s.seqno for s in shards},
        }
        async with self.session() as session:
            await repository.set_cursor(session, BLOCKS_CURSOR, position, expected=None)
        log.info("chain watcher: block scanning starts at masterchain block %d", tip.seqno)

    async def _scan_masterchain_block(
        self, seqno: int, cursor: dict[str, Any], stats: CycleStats
    ) -> dict[str, Any]:
        known: dict[str, int] = dict(cursor["shards"])
        blocks: list[BlockRef] = []
        async for block in self._new_shard_blocks(await self.client.shards(seqno), known):
            blocks.append(block)
        txs: list[ChainTx] = []
        for block in blocks:
            txs.extend(await self.client.block_transactions(block))
        stats.masterchain_blocks += 1
        stats.shard_blocks += len(blocks)
        stats.transactions_seen += len(txs)
        position = {**cursor, "mc_seqno": seqno, "shards": {**known}}
        for block in blocks:
            position["shards"][block.shard_key] = max(
                block.seqno, position["shards"].get(block.shard_key, 0)
            )
        async with self.session() as session:
            escrows = {
                e.address: e
                for e in await self.watch_list.escrows(
                    session, addresses={tx.account for tx in txs}
                )
            }
            stats.escrows += len(escrows)
            for tx in sorted(txs, key=lambda t: t.lt):
                escrow = escrows.get(tx.account)
                if escrow is not None:
                    stats.recorded += await record(session, escrow, tx, self.sink)
            if not await repository.set_cursor(session, BLOCKS_CURSOR, position, expected=cursor):
                raise RuntimeError("another watcher moved the block cursor; this cycle stops")
        return position

    async def _new_shard_blocks(
        self, tips: list[BlockRef], known: dict[str, int]
    ) -> AsyncIterator[BlockRef]:
        """Basechain shard blocks not scanned yet, oldest first, up to the given tips."""

        def seen(block: BlockRef) -> bool:
            return block.seqno <= known.get(block.shard_key, -1)

        found: dict[tuple[str, int], BlockRef] = {}
        stack = [tip for tip in tips if tip.workchain == _BASECHAIN and not seen(tip)]
        while stack:
            block = stack.pop()
            if (block.shard_key, block.seqno) in found or seen(block):
                continue
            found[(block.shard_key, block.seqno)] = block
            if len(found) > _MAX_WALK_BACK:
                raise RuntimeError("too many unscanned shard blocks; is the cursor stale?")
            if known.get(block.shard_key) == block.seqno - 1:
                continue  # its predecessor is the last block we scanned in this shard
            header = await self.client.block_header(block)
            stack.extend(prev for prev in header.prev_blocks if not seen(prev))
        for block in sorted(found.values(), key=lambda b: (b.seqno, b.shard_key)):
            yield block
