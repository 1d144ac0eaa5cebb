"""The marketplace world for deal tests (see tests/deals/world.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from chainfluence_sandbox.telegram import RunningEmulator, TelegramEmulatorControl
from chainfluence_sandbox.ton import RunningTonEmulator, TonChain
from tests.deals.world import World, build_world, onboard, running


@pytest.fixture
async def stopped_world(
    db: AsyncEngine,
    database_url: str,
    tmp_path: Path,
    emulator: RunningEmulator,
    control: TelegramEmulatorControl,
    chain: TonChain,
    ton_endpoint: RunningTonEmulator,
) -> World:
    """An onboarded world whose app is stopped: the test starts (and may kill) it itself."""
    built = await build_world(
        database_url=database_url,
        tmp_path=tmp_path,
        emulator=emulator,
        control=control,
        chain=chain,
        ton=ton_endpoint,
    )
    async with running(built):
        await onboard(built)
    return built


@pytest.fixture
async def world(stopped_world: World) -> AsyncIterator[World]:
    """An onboarded world with its app running."""
    async with running(stopped_world) as world:
        yield world
