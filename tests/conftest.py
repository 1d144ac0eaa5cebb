"""Shared fixtures: real SQLite and PostgreSQL databases, real Redis, the app over HTTP.

Tests that use the database run once per backend (`[sqlite]`, `[postgresql]`). PostgreSQL and
Redis must be reachable: an unreachable service fails the run, it never skips tests.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis import Redis
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from chainfluence.app import create_app
from chainfluence.config import Settings
from chainfluence.kit import time as clock
from chainfluence.kit.db import Base, create_engine
from chainfluence.migrations import migrate
from chainfluence.runtime import Runtime
from chainfluence_sandbox.telegram import (
    BotAccount,
    RunningEmulator,
    TelegramEmulatorControl,
    run_telegram_emulator,
)
from chainfluence_sandbox.ton import RunningTonEmulator, TonChain, run_ton_emulator
from chainfluence_sandbox.tvm import Emulator
from tests.factories import TEST_BOT_TOKEN

POSTGRES_ADMIN_URL = os.environ.get(
    "CHAINFLUENCE_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("CHAINFLUENCE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
BACKENDS = [
    b for b in os.environ.get("CHAINFLUENCE_TEST_DATABASES", "sqlite,postgresql").split(",") if b
]


@contextlib.asynccontextmanager
async def _postgres_database() -> AsyncIterator[str]:
    name = f"chainfluence_test_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        await admin.dispose()
        pytest.fail(
            f"PostgreSQL is required at {POSTGRES_ADMIN_URL} "
            f"(CHAINFLUENCE_TEST_POSTGRES_URL): {exc}",
            pytrace=False,
        )
    try:
        yield make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
async def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    """A fresh database per backend for the session, built by the migrations."""
    backend = request.param
    async with contextlib.AsyncExitStack() as stack:
        if backend == "sqlite":
            path = tmp_path_factory.mktemp("sqlite") / "test.sqlite3"
            url = f"sqlite+aiosqlite:///{path}"
        elif backend == "postgresql":
            url = await stack.enter_async_context(_postgres_database())
        else:
            raise pytest.UsageError(f"unknown test database backend {backend!r}")
        engine = create_engine(url)
        try:
            await migrate.upgrade(engine)
        finally:
            await engine.dispose()
        yield url


@pytest.fixture(scope="session")
async def db_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine for fixtures to inspect and clean the database (tests use the API)."""
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


async def _clean(engine: AsyncEngine) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    async with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            await conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                await conn.execute(text(f"DELETE FROM {table}"))
            with contextlib.suppress(Exception):
                await conn.execute(text("DELETE FROM sqlite_sequence"))


@pytest.fixture
async def db(db_engine: AsyncEngine) -> AsyncIterator[AsyncEngine]:
    """The database, emptied after the test."""
    yield db_engine
    await _clean(db_engine)


@pytest.fixture(autouse=True)
def _reset_clock() -> Iterator[None]:
    yield
    clock.reset()


MIDNIGHT_MARGIN = dt.timedelta(minutes=2)


@pytest.fixture
def clear_of_midnight() -> None:
    """For tests whose dates are days (a campaign's last day, an offer's date). Each compares
    "today" as the test read it with "today" as the app reads it a moment later, so one running
    across midnight UTC fails ("The deadline cannot be in the past."); and one that moves the
    clock to just past the next midnight expires the tokens it got in the first minute of a day.
    Started within two minutes of midnight (project clock), such a test waits until two minutes
    past it."""
    now = clock.utcnow()
    today = dt.datetime.combine(now.date(), dt.time(), dt.UTC)
    tomorrow = today + dt.timedelta(days=1)
    if tomorrow - now < MIDNIGHT_MARGIN:
        time.sleep((tomorrow + MIDNIGHT_MARGIN - now).total_seconds())
    elif now - today < MIDNIGHT_MARGIN:
        time.sleep((today + MIDNIGHT_MARGIN - now).total_seconds())


@pytest.fixture(scope="session")
def redis_url() -> str:
    client = Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except Exception as exc:
        pytest.fail(
            f"Redis is required at {REDIS_URL} (CHAINFLUENCE_TEST_REDIS_URL): {exc}", pytrace=False
        )
    finally:
        client.close()
    return REDIS_URL


def make_settings(database_url: str, tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database": {"url": database_url},
        "telegram": {"bot_token": TEST_BOT_TOKEN},
        "auth": {"jwt_secret": "test-secret-" + "x" * 40, "operators": [900001]},
        "uploads": {"dir": str(tmp_path / "uploads"), "max_bytes": 256 * 1024},
        "rate_limit": {"enabled": False},
        "jobs": {"backoff_seconds": 0.05, "sweep_interval_seconds": 3600},
        "public_url": "http://testserver",
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(values.get(key), dict):
            values[key] = {**values[key], **value}
        else:
            values[key] = value
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


# --- the Telegram Bot API emulator: one per session, a fresh world per test ---------------------
# Its bot has the tests' token, so initData signed by `tests.factories` and the app's bot agree.

BOT_USERNAME = "chainfluence_test_bot"
WEB_APP_URL = "https://app.chainfluence.test/"


@pytest.fixture(scope="session")
async def telegram_emulator() -> AsyncIterator[RunningEmulator]:
    async with run_telegram_emulator() as emulator:
        emulator.state.add_bot(
            username=BOT_USERNAME, first_name="Chainfluence", token=TEST_BOT_TOKEN
        )
        yield emulator


@pytest.fixture(scope="session")
async def session_control(
    telegram_emulator: RunningEmulator,
) -> AsyncIterator[TelegramEmulatorControl]:
    async with TelegramEmulatorControl(telegram_emulator.base_url) as control:
        yield control


@pytest.fixture
async def emulator(telegram_emulator: RunningEmulator) -> AsyncIterator[RunningEmulator]:
    """The shared emulator with a fresh world (the bot and its token survive the reset)."""
    await telegram_emulator.state.close()
    telegram_emulator.state.reset()
    yield telegram_emulator
    await telegram_emulator.state.close()


@pytest.fixture
def bot_account(emulator: RunningEmulator) -> BotAccount:
    return emulator.state.bot(BOT_USERNAME)


@pytest.fixture
def control(
    emulator: RunningEmulator, session_control: TelegramEmulatorControl
) -> TelegramEmulatorControl:
    return session_control


def telegram_settings(emulator: RunningEmulator) -> dict[str, Any]:
    """The app's bot talks to the emulator, and stats read post views from it."""
    return {
        "bot_token": TEST_BOT_TOKEN,
        "api_base_url": emulator.base_url,
        "emulator_url": emulator.base_url,
        "web_app_url": WEB_APP_URL,
    }


@pytest.fixture
def settings(
    db: AsyncEngine, database_url: str, tmp_path: Path, emulator: RunningEmulator
) -> Settings:
    return make_settings(database_url, tmp_path, telegram=telegram_settings(emulator))


@contextlib.asynccontextmanager
async def app_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The API over an in-memory HTTP transport, with its lifespan (runtime, job runner)."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            client.app = app  # type: ignore[attr-defined]
            yield client


def runtime_of(client: httpx.AsyncClient) -> Runtime:
    runtime: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
    return runtime


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(settings) as client:
        yield client


@pytest.fixture
async def bot_polling(client: httpx.AsyncClient) -> AsyncIterator[None]:
    """The app's bot long-polls the emulator (as under `chainfluence serve`) during the test."""
    from chainfluence.telegram.lifecycle import polling

    async with polling(runtime_of(client), timeout=1):
        yield


# --- the local TON chain: the real TVM with our escrow and wallet code, behind toncenter's API ---


@pytest.fixture(scope="session")
def tvm() -> Emulator:
    return Emulator()


@pytest.fixture
def chain(tvm: Emulator) -> TonChain:
    """A fresh local chain (auto-mining: every message is applied at once)."""
    return TonChain(emulator=tvm)


@pytest.fixture
async def ton_endpoint(chain: TonChain) -> AsyncIterator[RunningTonEmulator]:
    async with run_ton_emulator(chain) as running:
        yield running
