"""The chain watcher on the local chain, through the production HTTP client: deposits recorded
once and classified, cursors that survive restarts, one active watcher, cost per cycle."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from chainfluence.deals.observations import ChainObservations
from chainfluence.escrow.watchlist import DealWatchList
from chainfluence.kit.serving import serve_in_background
from chainfluence.models import ChainTxKind, DealStatus
from chainfluence.runtime import Runtime
from chainfluence.ton.client import TonClient
from chainfluence.ton.escrow import EscrowExitCode, release_body
from chainfluence.ton.events import BounceEvent, DepositEvent, Funding, PayoutEvent
from chainfluence.ton.watcher import ChainWatcher, WatchMode
from chainfluence_sandbox.ton import SandboxWallet, TonChain, create_ton_emulator
from tests.ton.chain_harness import (
    TON,
    create_escrow_deal,
    load_deal,
    pay,
    recorded,
    timeline,
)

MODES = [WatchMode.blocks, WatchMode.accounts]


class RecordingSink(ChainObservations):
    """The default sink, also keeping the events; optionally failing (a crash) on the first."""

    def __init__(self, *, crash_once: bool = False) -> None:
        self.events: list[Any] = []
        self.crash_once = crash_once

    async def deposit(self, session: AsyncSession, event: DepositEvent) -> None:
        await super().deposit(session, event)
        if self.crash_once:
            self.crash_once = False
            raise RuntimeError("simulated crash before the commit")
        self.events.append(event)

    async def payout(self, session: AsyncSession, event: PayoutEvent) -> None:
        await super().payout(session, event)
        self.events.append(event)

    async def bounce(self, session: AsyncSession, event: BounceEvent) -> None:
        await super().bounce(session, event)
        self.events.append(event)


_clients: list[TonClient] = []


@pytest.fixture(autouse=True)
async def _close_clients() -> AsyncIterator[None]:
    yield
    while _clients:
        await _clients.pop().close()


def new_watcher(runtime: Runtime, mode: WatchMode, sink: Any = None) -> ChainWatcher:
    """A watcher as a freshly started process would build it (its own client and state)."""
    assert runtime.chain is not None
    client = TonClient(runtime.settings.ton.api_url or "")
    _clients.append(client)
    return ChainWatcher(
        engine=runtime.engine,
        session_factory=runtime.session,
        client=client,
        sink=sink or RecordingSink(),
        watch_list=DealWatchList(),
        mode=mode,
    )


@pytest.mark.parametrize("mode", MODES)
async def test_exact_payment_is_recorded_once_even_when_the_watcher_runs_twice(
    chain_runtime: Runtime, advertiser: SandboxWallet, mode: WatchMode
) -> None:
    sink = RecordingSink()
    watcher = new_watcher(chain_runtime, mode, sink)
    await watcher.run_cycle()  # the first block scan starts at the tip
    deal = await create_escrow_deal(chain_runtime, advertiser=advertiser, price_nano=10 * TON)

    await pay(advertiser, deal, 10 * TON)
    first = await watcher.run_cycle()
    second = await watcher.run_cycle()

    assert first is not None
    assert first.recorded == 1
    assert second is not None
    assert second.recorded == 0
    (record,) = await recorded(chain_runtime, deal)
    assert record.kind is ChainTxKind.deposit
    assert record.amount_nano == 10 * TON
    assert record.source == advertiser.raw_address
    assert record.details["categories"] == ["full"]
    (event,) = sink.events
    assert isinstance(event, DepositEvent)
    assert event.funding is Funding.full
    assert event.completes_funding
    assert event.tx_hash == record.hash
    deal_row = await load_deal(chain_runtime, deal)
    assert deal_row.deposited_nano == 10 * TON
    assert deal_row.deposit_tx_hash == record.hash
    assert [e.event for e in await timeline(chain_runtime, deal)] == ["chain.deposit"]


@pytest.mark.parametrize("mode", MODES)
async def test_crash_before_commit_then_restart_records_and_reports_the_deposit_once(
    chain_runtime: Runtime, advertiser: SandboxWallet, mode: WatchMode
) -> None:
    await new_watcher(chain_runtime, mode).run_cycle()
    deal = await create_escrow_deal(chain_runtime, advertiser=advertiser)
    await pay(advertiser, deal, 10 * TON, comment="deal payment")

    crashing = new_watcher(chain_runtime, mode, RecordingSink(crash_once=True))
    if mode is WatchMode.blocks:
        with pytest.raises(RuntimeError, match="simulated crash"):
            await crashing.run_cycle()
    else:
        stats = await crashing.run_cycle()  # one escrow failing does not stop the others
        assert stats is not None
        assert stats.errors
    assert await recorded(chain_runtime, deal) == []

    sink = RecordingSink()
    restarted = new_watcher(chain_runtime, mode, sink)
    await restarted.run_cycle()
    await restarted.run_cycle()

    (record,) = await recorded(chain_runtime, deal)
    assert record.comment == "deal payment"
    assert len(sink.events) == 1
    assert len(await timeline(chain_runtime, deal)) == 1


@pytest.mark.parametrize("mode", MODES)
async def test_restart_resumes_from_the_cursor_without_missing_or_repeating(
    chain_runtime: Runtime, advertiser: SandboxWallet, mode: WatchMode
) -> None:
    await new_watcher(chain_runtime, mode).run_cycle()
    deal = await create_escrow_deal(chain_runtime, advertiser=advertiser)
    await pay(advertiser, deal, 3 * TON)
    await new_watcher(chain_runtime, mode).run_cycle()
    # Down for a while: more payments meanwhile.
    await pay(advertiser, deal, 3 * TON)
    await pay(advertiser, deal, 4 * TON)

    sink = RecordingSink()
    await new_watcher(chain_runtime, mode, sink).run_cycle()

    assert [r.amount_nano for r in await recorded(chain_runtime, deal)] == [
        3 * TON,
        3 * TON,
        4 * TON,
    ]
    assert [(e.amount_nano, e.funding) for e in sink.events] == [
        (3 * TON, Funding.partial),
        (4 * TON, Funding.full),
    ]


async def test_payments_made_before_the_first_block_scan_are_caught_up(
    chain_runtime: Runtime, advertiser: SandboxWallet
) -> None:
    deal = await create_escrow_deal(chain_runtime, advertiser=advertiser)
    await pay(advertiser, deal, 10 * TON)

    stats = await new_watcher(chain_runtime, WatchMode.blocks).run_cycle()

    assert stats is not None
    assert stats.recorded == 1
    assert len(await recorded(chain_runtime, deal)) == 1


async def test_two_watchers_at_once_record_each_transaction_once(
    chain_runtime: Runtime, advertiser: SandboxWallet
) -> None:
    await new_watcher(chain_runtime, WatchMode.blocks).run_cycle()
    deals = [await create_escrow_deal(chain_runtime, advertiser=advertiser) for _ in range(3)]
    for deal in deals:
        await pay(advertiser, deal, 10 * TON)
    sinks = [RecordingSink(), RecordingSink()]

    results = await asyncio.gather(
        *(new_watcher(chain_runtime, WatchMode.blocks, sink).run_cycle() for sink in sinks)
    )

    assert sum(r.recorded for r in results if r is not None) == 3
    assert sum(len(s.events) for s in sinks) == 3
    for deal in deals:
        assert len(await recorded(chain_runtime, deal)) == 1


CASES = {
    # name: (deal status, payments [(payer, amount)], categories of the last deposit, funding)
    "partial": (DealStatus.pending, [("advertiser", 4)], ["partial"], Funding.partial),
    "full in two parts": (
        DealStatus.pending,
        [("advertiser", 4), ("advertiser", 6)],
        ["full"],
        Funding.full,
    ),
    "over": (DealStatus.pending, [("advertiser", 12)], ["over"], Funding.over),
    "late after cancel": (
        DealStatus.cancelled,
        [("advertiser", 10)],
        ["full", "late"],
        Funding.full,
    ),
    "unexpected sender": (
        DealStatus.pending,
        [("stranger", 10)],
        ["full", "unexpected_sender"],
        Funding.full,
    ),
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", CASES)
async def test_deposits_are_classified(
    chain_runtime: Runtime, chain: TonChain, advertiser: SandboxWallet, case: str, mode: WatchMode
) -> None:
    status, payments, categories, funding = CASES[case]
    payers = {
        "advertiser": advertiser,
        "stranger": SandboxWallet.create(chain, balance_nano=50 * TON),
    }
    await new_watcher(chain_runtime, mode).run_cycle()
    deal = await create_escrow_deal(chain_runtime, advertiser=advertiser, status=status)
    for payer, amount in payments:
        await pay(payers[payer], deal, amount * TON)

    sink = RecordingSink()
    await new_watcher(chain_runtime, mode, sink).run_cycle()

    last = sink.events[-1]
    assert isinstance(last, DepositEvent)
    assert [c.value for c in last.categories] == categories
    assert last.funding is funding
    assert last.deposited_total_nano == sum(a for _, a in payments) * TON
    assert last.sender == payers[payments[-1][0]].raw_address
    records = await recorded(chain_runtime, deal)
    assert records[-1].details["categories"] == categories


async def test_op_from_a_stranger_is_refused_and_reported_as_a_bounce(
    chain_runtime: Runtime, chain: TonChain, advertiser: SandboxWallet
) -> None:
    await new_watcher(chain_runtime, WatchMode.blocks).run_cycle()
    deal = await create_escrow_deal(chain_runtime, advertiser=advertiser)
    await pay(advertiser, deal, 10 * TON)
    stranger = SandboxWallet.create(chain, balance_nano=5 * TON)
    await stranger.transfer(deal.address, TON // 10, body=release_body(7), bounce=True)

    sink = RecordingSink()
    await new_watcher(chain_runtime, WatchMode.blocks, sink).run_cycle()

    bounce = sink.events[-1]
    assert isinstance(bounce, BounceEvent)
    assert bounce.exit_code == EscrowExitCode.UNAUTHORIZED
    assert bounce.sender == stranger.raw_address
    assert bounce.query_id == 7
    assert 0 < bounce.returned_nano < TON // 10
    kinds = [r.kind for r in await recorded(chain_runtime, deal)]
    assert kinds == [ChainTxKind.deposit, ChainTxKind.bounce]
    assert [e.event for e in await timeline(chain_runtime, deal)] == [
        "chain.deposit",
        "chain.bounce",
    ]


@pytest.mark.parametrize(("mode", "grows"), [(WatchMode.blocks, False), (WatchMode.accounts, True)])
async def test_api_calls_per_idle_cycle_grow_with_escrows_only_when_polling_addresses(
    chain_runtime: Runtime, advertiser: SandboxWallet, mode: WatchMode, grows: bool
) -> None:
    watcher = new_watcher(chain_runtime, mode)
    await watcher.run_cycle()
    for _ in range(2):
        await create_escrow_deal(chain_runtime, advertiser=advertiser)
    few = await watcher.run_cycle()
    for _ in range(6):
        await create_escrow_deal(chain_runtime, advertiser=advertiser)
    more = await watcher.run_cycle()

    assert few is not None
    assert more is not None
    if grows:
        assert (few.api_calls, more.api_calls) == (2, 8)
    else:
        assert few.api_calls == more.api_calls == 1  # getMasterchainInfo: no new block


async def test_auto_mode_scans_blocks_where_served_and_polls_addresses_elsewhere(
    chain_runtime: Runtime, chain: TonChain, advertiser: SandboxWallet
) -> None:
    emulator, _ = create_ton_emulator(chain)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        """An endpoint without block methods (some providers serve accounts only)."""
        if scope["type"] == "http" and "getMasterchainInfo" in scope["path"]:
            await JSONResponse({"ok": False, "error": "Not Found", "code": 404}, 404)(
                scope, receive, send
            )
            return
        await emulator(scope, receive, send)

    deal = await create_escrow_deal(chain_runtime, advertiser=advertiser)
    await pay(advertiser, deal, 10 * TON)

    async with serve_in_background(app) as base_url, TonClient(f"{base_url}/api/v2") as client:
        limited = ChainWatcher(
            engine=chain_runtime.engine,
            session_factory=chain_runtime.session,
            client=client,
            sink=RecordingSink(),
            watch_list=DealWatchList(),
        )
        polled = await limited.run_cycle()
    scanned = await new_watcher(chain_runtime, WatchMode.auto).run_cycle()

    assert polled is not None
    assert (polled.mode, polled.recorded) == (WatchMode.accounts, 1)
    assert scanned is not None
    assert scanned.mode is WatchMode.blocks
