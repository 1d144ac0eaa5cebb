"""What a process holds for the chain: the TON client, the watcher and the platform wallet.

Built with the runtime when a TON endpoint is configured (in the sandbox, ``chainfluence serve``
starts the local chain first and points the settings at it). Consumer processes (``serve``,
``worker``) run the watcher and the wallet as loops; each cycle runs only where it holds the
role's lock, so any number of workers share one active watcher and one active sender.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine

from chainfluence.config import Settings
from chainfluence.ton.client import TonClient
from chainfluence.ton.events import EscrowEventSink, EscrowWatchList
from chainfluence.ton.wallet import PlatformWallet, StateInitSource, platform_wallet_for
from chainfluence.ton.watcher import ChainWatcher, SessionFactory, WatchMode

__all__ = ["ChainServices", "build_chain_services"]

log = logging.getLogger(__name__)


@dataclass
class ChainServices:
    client: TonClient
    watcher: ChainWatcher
    wallet: PlatformWallet | None
    watch_interval: float
    wallet_interval: float
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self) -> None:
        """Run the watcher and the wallet sender in this process (consumers only)."""
        if self._tasks:
            return
        self._stop.clear()
        self._tasks.append(
            asyncio.create_task(self.watcher.run_forever(self.watch_interval, self._stop))
        )
        if self.wallet is not None:
            self._tasks.append(
                asyncio.create_task(self.wallet.run_forever(self.wallet_interval, self._stop))
            )

    async def close(self, grace: float = 5.0) -> None:
        """Stop the loops: a cycle under way gets `grace` seconds to finish its transaction
        (cut off, it would only be redone; but on SQLite a connection cancelled while waiting for
        the write lock can keep that lock after the loop is gone)."""
        self._stop.set()
        if self._tasks:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.gather(*self._tasks, return_exceptions=True), grace)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        await self.client.close()


def build_chain_services(
    settings: Settings,
    *,
    engine: AsyncEngine,
    session_factory: SessionFactory,
    sink: EscrowEventSink,
    watch_list: EscrowWatchList,
    state_init_of: StateInitSource,
) -> ChainServices | None:
    """The chain side of a process; None when no TON endpoint is configured. The domains
    plug in what the chain layer does not know: which escrows to follow (``watch_list``), what
    their transactions mean for deals (``sink``) and the escrows' StateInits."""
    ton = settings.ton
    if ton.api_url is None:
        return None
    client = TonClient(
        ton.api_url,
        api_key=ton.api_key.get_secret_value() if ton.api_key else None,
        rate_limit=ton.api_rps,
    )
    watcher = ChainWatcher(
        engine=engine,
        session_factory=session_factory,
        client=client,
        sink=sink,
        watch_list=watch_list,
        mode=WatchMode(ton.watch_mode),
        cancelled_watch=dt.timedelta(days=ton.cancelled_watch_days),
    )
    offline = platform_wallet_for(settings)
    wallet = None
    if offline is not None:
        wallet = PlatformWallet(
            engine=engine,
            session_factory=session_factory,
            client=client,
            wallet=offline,
            state_init_of=state_init_of,
            message_ttl=ton.message_ttl_seconds,
            delivery_timeout=ton.delivery_timeout_seconds,
        )
    else:
        log.warning("no platform wallet mnemonic: payout orders will not be sent")
    return ChainServices(
        client=client,
        watcher=watcher,
        wallet=wallet,
        watch_interval=ton.watch_interval_seconds,
        wallet_interval=ton.wallet_interval_seconds,
    )
