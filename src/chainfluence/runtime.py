"""The runtime: what one process holds for its whole life (engine, queue, limiter, clients).

Built once by `chainfluence.bootstrap.build_runtime` for the API lifespan, the worker or
`chainfluence serve`. Domains never take it whole: they declare the narrow ports they use
(`chainfluence.ports`), which the runtime provides.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from chainfluence.config import Settings
from chainfluence.events import outbox
from chainfluence.jobs.queue import QUEUE_INFO_KEY, JobQueue
from chainfluence.kit.clock_follower import ClockFollower
from chainfluence.kit.db import session_scope
from chainfluence.kit.ratelimit import RateLimiter
from chainfluence.kit.totals import TOTALS_INFO_KEY, Totals

if TYPE_CHECKING:
    from aiogram import Bot, Dispatcher
    from redis.asyncio import Redis

    from chainfluence.events.broker import ConnectionSlots, EventBroker
    from chainfluence.notifications.push import PushSender
    from chainfluence.ports import CampaignEnd, PushAttachment, StatsProvider
    from chainfluence.telegram.botapi import BotApi
    from chainfluence.ton.services import ChainServices
    from chainfluence.ton.wallet import PlatformWallet

log = logging.getLogger(__name__)


class BotParts(NamedTuple):
    """aiogram's bot, the update dispatcher and the push sender over that bot."""

    bot: Bot
    dispatcher: Dispatcher
    push_sender: PushSender


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    rate_limiter: RateLimiter
    redis: Redis | None
    queue: JobQueue = field(init=False)
    # What a campaign's end does to its pending offers, set by the wiring.
    close_campaign_offers: CampaignEnd = field(init=False)
    # What a push carries besides its text (a finished deal's evidence pack), set by the wiring.
    push_attachment: PushAttachment | None = None
    # The Bot API client (None without a token): plain calls, no aiogram.
    bot: BotApi | None = None
    # Builds aiogram's bot, dispatcher and push sender (set by the wiring when a token is
    # configured). They are built on first use, so only a process that handles updates, publishes,
    # probes or pushes loads aiogram (about 130 MB); a plain API process never does.
    bot_parts: Callable[[], BotParts] | None = None
    _bot_parts: BotParts | None = field(default=None, init=False, repr=False)
    # Where post views come from besides what the bot observes (DESIGN §5); may be empty.
    stats_providers: list[StatsProvider] = field(default_factory=list)
    # TON client, chain watcher and platform wallet; None when no TON endpoint is configured.
    chain: ChainServices | None = None
    consuming: bool = False
    # Sandbox with the emulators in their own process: that process's clock, followed.
    clock_follower: ClockFollower | None = None
    # List totals kept between writes (kit/totals.py); None: every total is counted.
    totals: Totals | None = None
    # Live events (GET /v1/events): who waits for what, and the open streams per user.
    events: EventBroker = field(init=False)
    event_streams: ConnectionSlots = field(init=False)

    def _built_bot(self) -> BotParts | None:
        if self._bot_parts is None and self.bot_parts is not None:
            self._bot_parts = self.bot_parts()
        return self._bot_parts

    @property
    def dispatcher_bot(self) -> Bot | None:
        """aiogram's bot, which the dispatcher's handlers answer through, built on first use."""
        parts = self._built_bot()
        return parts.bot if parts is not None else None

    @property
    def dispatcher(self) -> Dispatcher | None:
        """The bot's update dispatcher (polling, or the updates the webhook took)."""
        parts = self._built_bot()
        return parts.dispatcher if parts is not None else None

    @property
    def push_sender(self) -> PushSender | None:
        """Pushes through the bot; None keeps notifications in-app."""
        parts = self._built_bot()
        return parts.push_sender if parts is not None else None

    @property
    def payout_sender(self) -> PlatformWallet | None:
        """The platform wallet, when this process has one."""
        return self.chain.wallet if self.chain is not None else None

    @contextlib.asynccontextmanager
    async def session(
        self, *, write: bool = True, autocommit: bool = False
    ) -> AsyncIterator[AsyncSession]:
        """A unit of work: commit on success, then send what it queued; roll back on error.
        `autocommit`: a reader's session without a transaction (see `kit.db.session_scope`)."""
        async with session_scope(
            self.sessionmaker,
            write=write,
            autocommit=autocommit,
            info={
                QUEUE_INFO_KEY: self.queue,
                outbox.ANNOUNCE_INFO_KEY: self.events.announce,
                TOTALS_INFO_KEY: self.totals,
            },
        ) as session:
            yield session

    async def follow_sandbox_clock(self) -> None:
        """Sandbox only: share the clock of `chainfluence sandbox up` (CHAINFLUENCE_SANDBOX__URL);
        a no-op otherwise. Call before serving or consuming."""
        sandbox = self.settings.sandbox
        if not self.settings.is_sandbox or sandbox.url is None or self.clock_follower is not None:
            return
        follower = ClockFollower(sandbox.url, interval=sandbox.clock_poll_seconds)
        await follower.start()
        self.clock_follower = follower

    async def start_consuming(self) -> None:
        """Run jobs and sweeps in this process (serve, worker)."""
        await self.queue.start()
        if self.chain is not None:
            await self.chain.start()
        self.consuming = True

    async def close(self, grace: float = 5.0) -> None:
        """Stop taking work, let what runs finish within `grace` seconds, release everything."""
        if self.chain is not None:
            await asyncio.gather(self.queue.close(grace), self.chain.close(grace))
        else:
            await self.queue.close(grace)
        if self.clock_follower is not None:
            await self.clock_follower.close()
        if self._bot_parts is not None:
            await self._bot_parts.bot.session.close()
        if self.bot is not None:
            await self.bot.close()
        for provider in self.stats_providers:
            await provider.close()
        await self.events.close()
        if self.redis is not None:
            await self.redis.aclose()
        await self.engine.dispose()
