"""The plain Bot API client (`telegram.botapi`) against the emulator over HTTP: answers, Telegram's
errors by kind, 429s slept through or handed up, a file downloaded."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from chainfluence.telegram import botapi
from chainfluence.telegram.botapi import BotApi
from chainfluence_sandbox.telegram import RunningEmulator, TelegramEmulatorControl
from tests.factories import TEST_BOT_TOKEN


@pytest.fixture
async def bot(emulator: RunningEmulator) -> AsyncIterator[BotApi]:
    client = BotApi(TEST_BOT_TOKEN, base_url=emulator.base_url, max_wait=5)
    try:
        yield client
    finally:
        await client.close()


async def test_a_call_answers_telegrams_result(
    bot: BotApi, control: TelegramEmulatorControl
) -> None:
    owner = await control.create_user("Olga", username="olga_owner")
    chat = await control.create_channel("Ad Friendly", owner_id=owner.id, username="ad_friendly")

    found = await bot.call("getChat", chat_id="@ad_friendly")
    me = await bot.call("getMe")

    assert (found["id"], found["type"], found["title"]) == (chat.id, "channel", "Ad Friendly")
    assert me["id"] == bot.id == int(TEST_BOT_TOKEN.split(":")[0])


async def test_telegrams_errors_come_as_their_kind(
    bot: BotApi, control: TelegramEmulatorControl
) -> None:
    with pytest.raises(botapi.BadRequest, match="chat not found"):
        await bot.call("getChat", chat_id="@nobody_here")

    await control.fail_next(method="getMe", error_code=502, description="Bad Gateway")
    with pytest.raises(botapi.ServerError):
        await bot.call("getMe")

    await control.fail_next(method="getMe", error_code=403, description="Forbidden: no")
    with pytest.raises(botapi.Forbidden) as forbidden:
        await bot.call("getMe")
    assert forbidden.value.message == "Forbidden: no"


async def test_a_flood_limit_is_slept_through_and_the_call_repeated(
    bot: BotApi, control: TelegramEmulatorControl
) -> None:
    before = botapi.BOT_API_FLOOD.labels("getMe")._value.get()
    await control.fail_next(2, method="getMe", retry_after=1)

    me = await bot.call("getMe")

    assert me["id"] == bot.id
    assert botapi.BOT_API_FLOOD.labels("getMe")._value.get() == before + 2


async def test_a_wait_longer_than_allowed_is_handed_to_the_caller(
    bot: BotApi, control: TelegramEmulatorControl
) -> None:
    await control.fail_next(method="getMe", retry_after=60)

    with pytest.raises(botapi.RetryAfter) as raised:
        await bot.call("getMe")

    assert raised.value.retry_after == 60
    assert (await bot.call("getMe"))["id"] == bot.id


async def test_an_unreachable_server_is_a_network_error() -> None:
    client = BotApi(TEST_BOT_TOKEN, base_url="http://127.0.0.1:9", timeout=2)
    try:
        with pytest.raises(botapi.NetworkError):
            await client.call("getMe")
    finally:
        await client.close()
