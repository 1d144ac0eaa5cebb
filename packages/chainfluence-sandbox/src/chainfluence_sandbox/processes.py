"""The emulators as their own processes: `chainfluence sandbox telegram | ton | up`.

`chainfluence serve` runs the emulators inside the app's process. To play the production shape
(`chainfluence api` ×N and `chainfluence worker` ×N on PostgreSQL and Redis) with no network, the
emulators run as a service instead, and the api/worker processes are pointed at them with the
settings each command prints (and writes to `--env-file`):

- `sandbox telegram`: the Telegram Bot API emulator with the sandbox bot and the demo world;
- `sandbox ton`: the local TON chain (toncenter v2), the platform wallet funded;
- `sandbox up`: both, on one port (`/telegram`, `/ton`), plus the sandbox helper routes
  (`/v1/sandbox/...`: log in, wallets, pay, move the clock) and the sandbox's clock, which
  api/worker follow through `CHAINFLUENCE_SANDBOX__URL`.

The helpers need the emulators' state (the Telegram users who sign initData, the wallets' keys,
the chain), so they live where that state lives: in the sandbox process. Like a person's apps,
they act through the public API over HTTP (`--api-url`, any api replica or a load balancer);
they read the marketplace's database only to learn who a deal's advertiser and channel owner
are (the same `CHAINFLUENCE_DATABASE__URL` as the api).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import typer
from fastapi import FastAPI

from chainfluence.config import Settings
from chainfluence.kit.db import create_engine, create_sessionmaker
from chainfluence.kit.http import install_error_handlers
from chainfluence.kit.serving import serve_in_background
from chainfluence_sandbox.api import install_sandbox_routes
from chainfluence_sandbox.clock import restore_offset
from chainfluence_sandbox.keyring import SandboxKeyring
from chainfluence_sandbox.services import (
    DEMO_PEOPLE,
    SandboxServices,
    fund_platform_wallet,
    populate_telegram,
    state_file,
)
from chainfluence_sandbox.telegram import EmulatorState, RunningEmulator, create_telegram_emulator
from chainfluence_sandbox.ton import RunningTonEmulator, TonChain, create_ton_emulator

__all__ = ["run_sandbox_up", "run_telegram_service", "run_ton_service"]

log = logging.getLogger(__name__)


class SandboxRefused(Exception):
    """What a `sandbox` command cannot do, said in one sentence (no traceback)."""


def telegram_env(services: SandboxServices) -> dict[str, str]:
    telegram = services.settings.telegram
    assert telegram.bot_token is not None
    assert telegram.api_base_url is not None
    return {
        "CHAINFLUENCE_TELEGRAM__BOT_TOKEN": telegram.bot_token.get_secret_value(),
        "CHAINFLUENCE_TELEGRAM__BOT_USERNAME": telegram.bot_username or "",
        "CHAINFLUENCE_TELEGRAM__API_BASE_URL": telegram.api_base_url,
        "CHAINFLUENCE_TELEGRAM__EMULATOR_URL": telegram.emulator_url or telegram.api_base_url,
        "CHAINFLUENCE_TELEGRAM__SERVICE_CHAT_ID": str(telegram.service_chat_id),
        "CHAINFLUENCE_TELEGRAM__MINI_APP_URL": telegram.mini_app_url,
    }


def _refuse_outside_sandbox(settings: Settings) -> None:
    if not settings.is_sandbox:
        raise SandboxRefused(
            "The emulators are sandbox only: unset CHAINFLUENCE_MODE=production to run them."
        )


def _announce(title: str, lines: list[str], env: dict[str, str], env_file: Path | None) -> None:
    settings = "\n".join(f"{key}={value}" for key, value in env.items())
    typer.echo(
        "\n".join(
            [
                title,
                *lines,
                "Point `chainfluence api` and `chainfluence worker` (sandbox mode) at it with:",
                settings,
            ]
        )
    )
    if env_file is not None:
        # Written whole once serving, so a supervisor may wait for the file to appear.
        partial = env_file.with_name(env_file.name + ".partial")
        partial.write_text(settings + "\n")
        partial.replace(env_file)


@contextlib.asynccontextmanager
async def _serving(app: FastAPI, host: str, port: int) -> AsyncIterator[str]:
    try:
        async with serve_in_background(app, host=host, port=port, log_level="warning") as url:
            yield url
    except OSError as exc:
        if exc.errno in (98, 48):  # EADDRINUSE on Linux, macOS
            raise SandboxRefused(
                f"Port {port} on {host} is taken: choose another with --port."
            ) from None
        raise


async def wait_for_shutdown() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()


def _public(url: str, public_url: str | None) -> str:
    return (public_url or url).rstrip("/")


async def run_telegram_service(
    settings: Settings, *, host: str, port: int, public_url: str | None, env_file: Path | None
) -> None:
    _refuse_outside_sandbox(settings)
    app, state = create_telegram_emulator()
    async with _serving(app, host, port) as url:
        base = _public(url, public_url)
        state.config.public_base_url = base
        services = SandboxServices(settings=settings)
        telegram = populate_telegram(services, state, base)
        services.settings = settings.model_copy(update={"telegram": telegram})
        try:
            _announce(
                f"Telegram Bot API emulator at {base} (control API {base}/docs)",
                [f"  {DEMO_PEOPLE}"],
                telegram_env(services),
                env_file,
            )
            await wait_for_shutdown()
        finally:
            await state.close()


async def run_ton_service(
    settings: Settings,
    *,
    host: str,
    port: int,
    public_url: str | None,
    env_file: Path | None,
    state: Path | None,
) -> None:
    _refuse_outside_sandbox(settings)
    chain = TonChain(state_path=state)
    fund_platform_wallet(settings, chain)
    app, chain = create_ton_emulator(chain)
    async with _serving(app, host, port) as url:
        emulator = RunningTonEmulator(chain=chain, base_url=_public(url, public_url))
        _announce(
            f"TON chain emulator: toncenter v2 at {emulator.api_url}, control API "
            f"{emulator.base_url}/docs",
            [] if state else ["  The chain is kept in memory only (--state FILE keeps it)."],
            {"CHAINFLUENCE_TON__API_URL": emulator.api_url},
            env_file,
        )
        await wait_for_shutdown()


def create_sandbox_app(services: SandboxServices, telegram: FastAPI, ton: FastAPI) -> FastAPI:
    """The sandbox service: helper routes under /v1/sandbox, the emulators under /telegram and
    /ton, their docs pages at /telegram/docs and /ton/docs."""
    app = FastAPI(
        title="Chainfluence sandbox",
        description="The local Telegram and TON emulators and the sandbox helpers, as a service.",
    )
    install_error_handlers(app)
    install_sandbox_routes(app, services)
    app.mount("/telegram", telegram)
    app.mount("/ton", ton)
    return app


async def run_sandbox_up(
    settings: Settings,
    *,
    host: str,
    port: int,
    public_url: str | None,
    api_url: str,
    env_file: Path | None,
) -> None:
    _refuse_outside_sandbox(settings)
    services = SandboxServices(settings=settings, api_url=api_url.rstrip("/"))
    # Before the chain loads: it reads the clock as it loads its state.
    services.clock_path = state_file(settings, "sandbox-clock")
    restore_offset(services.clock_path)
    chain = TonChain(state_path=state_file(settings, "ton-chain"))
    fund_platform_wallet(settings, chain)
    ton_app, chain = create_ton_emulator(chain)
    telegram_app, state = create_telegram_emulator(EmulatorState())
    services.keyring = SandboxKeyring(state_file(settings, "sandbox-wallets"))
    engine = create_engine(settings.database.url, pool_size=2, max_overflow=2)
    services.sessionmaker = create_sessionmaker(engine)
    app = create_sandbox_app(services, telegram_app, ton_app)
    try:
        async with _serving(app, host, port) as url:
            base = _public(url, public_url)
            state.config.public_base_url = f"{base}/telegram"
            services.telegram = RunningEmulator(base_url=f"{base}/telegram", state=state)
            services.ton = RunningTonEmulator(chain=chain, base_url=f"{base}/ton")
            telegram = populate_telegram(services, state, services.telegram.base_url)
            services.settings = settings.model_copy(
                update={
                    "telegram": telegram,
                    "ton": settings.ton.model_copy(update={"api_url": services.ton.api_url}),
                }
            )
            env = {
                **telegram_env(services),
                "CHAINFLUENCE_TON__API_URL": services.ton.api_url,
                "CHAINFLUENCE_SANDBOX__URL": base,
            }
            try:
                _announce(
                    f"Chainfluence sandbox at {base}",
                    [
                        f"  Helpers  : {base}/docs (log in, wallets, pay, move the clock); they "
                        f"act through the API at {services.api_url}",
                        f"  Telegram : Bot API emulator at {base}/telegram (control API "
                        f"{base}/telegram/docs); {DEMO_PEOPLE}",
                        f"  TON      : chain emulator at {services.ton.api_url} (control API "
                        f"{base}/ton/docs)",
                        f"  Clock    : {base}/v1/sandbox/clock, followed by every process "
                        "given CHAINFLUENCE_SANDBOX__URL",
                    ],
                    env,
                    env_file,
                )
                await wait_for_shutdown()
            finally:
                # Release long polls first: the server waits for open requests before it stops.
                await state.close()
    finally:
        await engine.dispose()
