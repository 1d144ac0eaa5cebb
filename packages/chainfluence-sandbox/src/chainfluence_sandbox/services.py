"""The local stand-ins ``chainfluence serve`` starts in sandbox mode, in-process.

For each external service the settings leave unconfigured in sandbox mode, start its emulator
and hand back settings that point at it: the TON chain (a toncenter-v2 endpoint on a loopback
port, with the platform wallet funded, its state kept next to the SQLite database so a restart
finds the same chain as the database remembers) and the Telegram Bot API (with a seeded demo
world). The running emulators, the demo world and the sandbox wallets' keys stay on the services
object for the sandbox helper routes (``chainfluence_sandbox.api``). It is what the sandbox plugin
(``chainfluence_sandbox.plugin``) hands ``serve`` as its ``chainfluence.plugins.LocalServices``.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Final

from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chainfluence.config import Settings, TelegramSettings, TonNetwork

if TYPE_CHECKING:
    from chainfluence_sandbox.keyring import SandboxKeyring
    from chainfluence_sandbox.telegram import BotAccount, DemoWorld, EmulatorState, RunningEmulator
    from chainfluence_sandbox.ton import RunningTonEmulator, TonChain

__all__ = [
    "SandboxServices",
    "fund_platform_wallet",
    "populate_telegram",
    "sandbox_services",
    "state_file",
]

log = logging.getLogger(__name__)

# What the emulator mints to the sandbox platform wallet: enough gas for any number of payouts.
PLATFORM_WALLET_FUNDS_NANO: Final = 1_000_000 * 10**9
DEMO_PEOPLE: Final = (
    "demo publisher 7000000002, advertiser 7000000003, channel @crypto_daily_sandbox"
)


@dataclass
class SandboxServices:
    settings: Settings
    lines: list[str] = field(default_factory=list)  # for the start-up banner
    # Set for each emulator that runs (sandbox mode with that service unconfigured).
    telegram: RunningEmulator | None = None
    bot: BotAccount | None = None
    world: DemoWorld | None = None
    ton: RunningTonEmulator | None = None
    keyring: SandboxKeyring | None = None
    # Where the clock's offset is kept between restarts (see chainfluence_sandbox.clock).
    clock_path: Path | None = None
    # `chainfluence sandbox up`: the helpers act through the API at this URL (other processes)
    # and read deals with this sessionmaker; under `serve` both are the serving app's own.
    api_url: str | None = None
    sessionmaker: async_sessionmaker[AsyncSession] | None = None

    @property
    def running(self) -> bool:
        """Whether any emulator runs, i.e. whether the sandbox helper routes have work to do."""
        return self.telegram is not None or self.ton is not None

    def describe(self, url: str) -> list[str]:
        """The banner's lines about the emulators, for an API served at ``url``."""
        lines = list(self.lines)
        if self.running and self.settings.is_sandbox:
            lines.append(f"  Helpers  : {url}/docs#/sandbox (log in, wallets, pay, move the clock)")
            lines.append(
                f"  Pages    : {url}/app/wallet, {url}/app/pay/<dealId>, opened with "
                "#tgWebAppData=<initData of POST /v1/sandbox/login/<userId>> "
                "(clients/pages/README.md)"
            )
        return lines

    def install_routes(self, app: FastAPI) -> None:
        """The sandbox helper routes, when an emulator runs (the app mounts them in sandbox mode
        only)."""
        if self.running:
            from chainfluence_sandbox.api import install_sandbox_routes

            install_sandbox_routes(app, self)


def state_file(settings: Settings, kind: str) -> Path | None:
    """Where the sandbox keeps its ``kind`` state: next to the SQLite database file, so both
    survive a restart together (and vanish together); None for other databases (memory only)."""
    if not settings.database.is_sqlite:
        return None
    database = make_url(settings.database.url).database
    if not database or database == ":memory:":
        return None
    path = Path(database)
    return path.with_name(f"{path.stem}.{kind}.json")


async def _start_telegram(services: SandboxServices, stack: contextlib.AsyncExitStack) -> None:
    """The Bot API emulator with a demo world, the sandbox bot, and a service chat for probes."""
    from chainfluence_sandbox.telegram import run_telegram_emulator

    emulator = await stack.enter_async_context(run_telegram_emulator())
    telegram = populate_telegram(services, emulator.state, emulator.base_url)
    services.settings = services.settings.model_copy(update={"telegram": telegram})
    services.telegram = emulator
    services.lines.append(
        f"  Telegram : Bot API emulator at {emulator.base_url} (control API "
        f"{emulator.base_url}/docs); {DEMO_PEOPLE}"
    )


def populate_telegram(
    services: SandboxServices, state: EmulatorState, base_url: str
) -> TelegramSettings:
    """Seed the emulator's world: the sandbox bot, the demo people and channels, and a service
    chat for post probes. Sets ``services.bot`` and ``services.world``; returns the Telegram
    settings that point an app at this emulator (served at ``base_url``)."""
    from chainfluence.config import SANDBOX_BOT_TOKEN
    from chainfluence_sandbox.telegram import ChatType, seed_demo
    from chainfluence_sandbox.telegram.actions import add_member

    bot = state.add_bot(
        username="chainfluence_sandbox_bot", first_name="Chainfluence", token=SANDBOX_BOT_TOKEN
    )
    world = seed_demo(state, bot=bot)
    operator = state.add_user(first_name="Chainfluence", last_name="Ops", username="cf_ops")
    service_chat = state.add_chat(
        chat_type=ChatType.SUPERGROUP, title="Chainfluence post checks", owner_id=operator.id
    )
    add_member(state, service_chat, bot.id, by_user_id=operator.id)
    bot.updates.clear()
    services.bot, services.world = bot, world
    return services.settings.telegram.model_copy(
        update={
            "bot_token": SecretStr(SANDBOX_BOT_TOKEN),
            "bot_username": "chainfluence_sandbox_bot",
            "api_base_url": base_url,
            "emulator_url": base_url,
            "service_chat_id": service_chat.id,
            "mini_app_url": "https://t.me/chainfluence_sandbox_bot/app",
        }
    )


def fund_platform_wallet(settings: Settings, chain: TonChain) -> None:
    """Mint gas to the platform wallet ``settings`` name, unless it has some already."""
    from chainfluence.ton.wallet import platform_wallet_for

    wallet = platform_wallet_for(settings)
    if wallet is not None and chain.balance(wallet.address) == 0:
        chain.fund(wallet.address, PLATFORM_WALLET_FUNDS_NANO)


@contextlib.asynccontextmanager
async def sandbox_services(settings: Settings) -> AsyncIterator[SandboxServices]:
    """Start the emulators ``settings`` needs; yields settings pointing at them."""
    services = SandboxServices(settings=settings)
    if settings.is_sandbox:
        from chainfluence_sandbox.clock import restore_offset

        # Before any emulator starts: they read the clock as they load their state.
        services.clock_path = state_file(settings, "sandbox-clock")
        restore_offset(services.clock_path)
    async with contextlib.AsyncExitStack() as stack:
        ton = settings.ton
        if settings.is_sandbox and ton.network is TonNetwork.sandbox and ton.api_url is None:
            from chainfluence_sandbox.keyring import SandboxKeyring
            from chainfluence_sandbox.ton import TonChain, run_ton_emulator

            state_path = state_file(settings, "ton-chain")
            chain = TonChain(state_path=state_path)
            emulator = await stack.enter_async_context(run_ton_emulator(chain))
            services.ton = emulator
            services.keyring = SandboxKeyring(state_file(settings, "sandbox-wallets"))
            fund_platform_wallet(settings, chain)
            services.settings = services.settings.model_copy(
                update={"ton": ton.model_copy(update={"api_url": emulator.api_url})}
            )
            services.lines.append(
                f"  TON      : local chain emulator at {emulator.api_url} "
                f"(control API {emulator.base_url}/docs)"
            )
            if state_path is None:
                log.warning("the local TON chain is kept in memory only: a restart resets it")
        if settings.is_sandbox and settings.telegram.bot_token is None:
            await _start_telegram(services, stack)
        yield services
