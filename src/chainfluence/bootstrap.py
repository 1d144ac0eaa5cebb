"""The wiring: the one place that builds a process and plugs the domains into it.

Entry points (the API's lifespan, the worker, `chainfluence serve`, the CLI's commands) call
`build_runtime`. It builds the engine, the job queue, the Telegram bot (the plain Bot API client;
aiogram's bot and dispatcher are only described, and built on first use), the
stats providers, the TON client, watcher and platform wallet, and registers every domain's job
handlers (`register_handlers`); the job registry itself knows no domain. Domains receive narrow
ports (`chainfluence.ports`) and never import this module.

Adding a domain with jobs: put its `@jobs.job` / `@jobs.periodic` handlers in `<domain>/jobs.py`
and add the module to `JOB_MODULES`. Adding a provider or a chain hook: build it in
`build_runtime` and hand it to the service that needs it.
"""

from __future__ import annotations

import importlib

from redis.asyncio import Redis
from sqlalchemy import make_url

from chainfluence import plugins
from chainfluence.campaigns import repository as campaign_lists
from chainfluence.channels import catalogue
from chainfluence.config import Settings
from chainfluence.deals.lifecycle import DealEscrowSink
from chainfluence.escrow.watchlist import DealWatchList, escrow_state_init
from chainfluence.events import outbox
from chainfluence.events.broker import ConnectionSlots, EventBroker
from chainfluence.evidence.service import push_attachment
from chainfluence.jobs.inprocess import InProcessQueue
from chainfluence.jobs.queue import Executor
from chainfluence.jobs.redis import BullMQQueue
from chainfluence.kit.db import create_engine, create_sessionmaker
from chainfluence.kit.ratelimit import RateLimiter
from chainfluence.kit.totals import Totals
from chainfluence.offers.service import close_for_campaign
from chainfluence.runtime import BotParts, Runtime
from chainfluence.telegram.botapi import BotApi, SendLimits
from chainfluence.ton.services import build_chain_services

__all__ = ["JOB_MODULES", "build_runtime", "register_handlers"]

# Every module that registers jobs or sweeps: a worker must know them all.
JOB_MODULES = (
    "chainfluence.campaigns.jobs",
    "chainfluence.channels.jobs",
    "chainfluence.deals.jobs",
    "chainfluence.events.jobs",
    "chainfluence.notifications.jobs",
    "chainfluence.offers.jobs",
    "chainfluence.ton.jobs",
    "chainfluence.wallets.jobs",
    "chainfluence.bot.jobs",
)


def register_handlers() -> None:
    """Import every domain's job module, registering its handlers (once per process)."""
    for name in JOB_MODULES:
        importlib.import_module(name)


def _bot_parts(runtime: Runtime) -> BotParts:
    """aiogram's bot, its dispatcher and the push sender: imported here, when first needed."""
    from chainfluence.bot.dispatcher import build_dispatcher
    from chainfluence.telegram.bot import build_bot
    from chainfluence.telegram.push import BotPushSender

    settings = runtime.settings
    bot = build_bot(settings, runtime.rate_limiter)
    if bot is None:
        raise RuntimeError("the bot's parts are built only when a token is configured")
    return BotParts(bot, build_dispatcher(runtime), BotPushSender(bot, settings.telegram))


def build_runtime(settings: Settings) -> Runtime:
    register_handlers()
    outbox.install()
    catalogue.install()
    campaign_lists.install()
    engine = create_engine(
        settings.database.url,
        pool_size=settings.database.pool_size,
        max_overflow=settings.database.max_overflow,
        echo=settings.database.echo,
    )
    redis_url = settings.redis.url
    runtime = Runtime(
        settings=settings,
        engine=engine,
        sessionmaker=create_sessionmaker(engine),
        rate_limiter=RateLimiter(redis_url=redis_url),
        redis=Redis.from_url(redis_url) if redis_url else None,
    )
    runtime.totals = Totals(
        redis=runtime.redis, namespace=make_url(settings.database.url).database or "default"
    )
    runtime.events = EventBroker(runtime.redis)
    runtime.event_streams = ConnectionSlots(
        runtime.redis,
        limit=settings.events.max_streams_per_user,
        stale_seconds=3 * settings.events.heartbeat_seconds,
    )
    executor = Executor(
        runtime=runtime,
        max_attempts=settings.jobs.max_attempts,
        backoff_seconds=settings.jobs.backoff_seconds,
    )
    if redis_url:
        runtime.queue = BullMQQueue(
            executor,
            redis_url=redis_url,
            queue_name=settings.jobs.queue_name,
            concurrency=settings.jobs.concurrency,
            sweep_interval=settings.jobs.sweep_interval_seconds,
        )
    else:
        runtime.queue = InProcessQueue(
            executor, sweep_interval=settings.jobs.sweep_interval_seconds
        )
    token = settings.telegram.bot_token
    if token is not None:
        runtime.bot = BotApi(
            token.get_secret_value(),
            base_url=settings.telegram.api_base_url,
            send_limits=SendLimits(
                runtime.rate_limiter,
                per_chat=settings.telegram.send_limit_per_chat,
                overall=settings.telegram.send_limit_global,
            ),
        )
        runtime.bot_parts = lambda: _bot_parts(runtime)
    # The domains' hooks into each other that would otherwise import each other.
    runtime.close_campaign_offers = close_for_campaign
    # A finished deal's news carries its evidence pack.
    runtime.push_attachment = push_attachment
    runtime.stats_providers = plugins.views_providers(settings, engine)
    # The chain layer knows no deal: the escrow domain says what to watch, the deals what it means.
    runtime.chain = build_chain_services(
        settings,
        engine=engine,
        session_factory=runtime.session,
        sink=DealEscrowSink(),
        watch_list=DealWatchList(),
        state_init_of=escrow_state_init,
    )
    return runtime
