"""Fixtures for the sandbox emulators: one Telegram emulator per test session, reset per test.

The production aiogram client talks to it over real HTTP (`AiohttpSession` pointed at the
emulator with `TelegramAPIServer.from_base`); people act through `TelegramEmulatorControl`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession

from chainfluence_sandbox.telegram import BotAccount, RunningEmulator, TelegramEmulatorControl
from chainfluence_sandbox.telegram.schemas import ChatOut, UserOut
from tests.conftest import BOT_USERNAME

# The emulator itself and `emulator`, `control`, `bot_account` are in tests/conftest.py.


@pytest.fixture(scope="session")
async def session_bot(telegram_emulator: RunningEmulator) -> AsyncIterator[Bot]:
    account = telegram_emulator.state.bot(BOT_USERNAME)
    bot = Bot(account.token, session=AiohttpSession(api=telegram_emulator.api_server))
    yield bot
    await bot.session.close()


@pytest.fixture
def bot(emulator: RunningEmulator, session_bot: Bot) -> Bot:
    return session_bot


@dataclass
class ChannelWorld:
    owner: UserOut
    channel: ChatOut


@pytest.fixture
async def owner(control: TelegramEmulatorControl) -> UserOut:
    return await control.create_user("Olga", last_name="Petrova", username="olga_owner")


@pytest.fixture
async def channel(
    control: TelegramEmulatorControl, owner: UserOut, bot_account: BotAccount
) -> ChatOut:
    """A public channel where the bot is an administrator with the rights apps preselect."""
    created = await control.create_channel(
        "Ad Friendly", owner_id=owner.id, username="ad_friendly", subscribers=1_000
    )
    await control.add_bot_as_admin(created.id)
    bot_account.updates.clear()
    return created


@pytest.fixture
async def subscriber(control: TelegramEmulatorControl, bot_account: BotAccount) -> UserOut:
    """A person who has started the bot."""
    user = await control.create_user("Sam", username="sam_reader")
    await control.start_bot(user.id)
    bot_account.updates.clear()
    return user
