"""A real aiogram Dispatcher against the emulator: long polling and webhook with a reply."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiogram import Bot, Dispatcher
from aiogram.filters import CommandObject, CommandStart
from aiogram.methods import SendMessage
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Message
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from chainfluence.kit.serving import serve_in_background
from chainfluence_sandbox.telegram import TelegramEmulatorControl
from chainfluence_sandbox.telegram.schemas import ChatOut, UserOut

T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T]], done: Callable[[T], bool], timeout: float = 10.0
) -> T:
    for _ in range(int(timeout / 0.02)):
        value = await probe()
        if done(value):
            return value
        await asyncio.sleep(0.02)
    raise AssertionError("condition not reached in time")


def deal_dispatcher() -> Dispatcher:
    dp = Dispatcher()

    @dp.message(CommandStart(deep_link=True))
    async def open_deal(message: Message, command: CommandObject) -> None:
        button = InlineKeyboardButton(
            text="Open deal", url=f"https://t.me/chainfluence_test_bot/app?startapp={command.args}"
        )
        await message.answer(
            f"Deal {command.args}", reply_markup=InlineKeyboardMarkup(inline_keyboard=[[button]])
        )

    @dp.channel_post()
    async def observe(post: Message) -> None:
        observed.append(post.text or "")

    observed: list[str] = []
    dp["observed"] = observed
    return dp


async def test_dispatcher_long_polling_answers_a_deep_link_start(
    bot: Bot, control: TelegramEmulatorControl, subscriber: UserOut, channel: ChatOut
) -> None:
    dp = deal_dispatcher()
    polling = asyncio.create_task(
        dp.start_polling(bot, polling_timeout=1, handle_signals=False, close_bot_session=False)
    )
    try:
        await control.start_bot(subscriber.id, "deal_42")
        await control.post(channel.id, text="A person's post")
        replies = await eventually(
            lambda: control.messages(subscriber.id, sent_by_bot=True), lambda found: bool(found)
        )
        await eventually(lambda: _value(dp["observed"]), lambda seen: bool(seen))
    finally:
        await dp.stop_polling()
        await asyncio.wait_for(polling, timeout=10)

    [reply] = replies
    assert reply.text == "Deal deal_42"
    assert reply.buttons()[0]["url"].endswith("startapp=deal_42")
    assert dp["observed"] == ["A person's post"]


async def test_dispatcher_behind_a_webhook_replies_in_the_response(
    bot: Bot, control: TelegramEmulatorControl, subscriber: UserOut
) -> None:
    dp = deal_dispatcher()
    secret = "hook-secret"
    refused: list[str | None] = []

    async def hook(request: Request) -> Response:
        if request.headers.get("x-telegram-bot-api-secret-token") != secret:
            refused.append(request.headers.get("x-telegram-bot-api-secret-token"))
            return Response(status_code=401)
        result = await dp.feed_webhook_update(bot, json.loads(await request.body()))
        if isinstance(result, SendMessage):  # answer in the response, as Telegram allows
            body = {"method": "sendMessage", "chat_id": result.chat_id, "text": result.text}
            return JSONResponse(body)
        return JSONResponse({})

    @dp.message()
    async def echo(message: Message) -> SendMessage:
        return message.answer(f"echo: {message.text}")

    app = Starlette(routes=[Route("/telegram", hook, methods=["POST"])])
    async with serve_in_background(app) as url:
        await bot.set_webhook(f"{url}/telegram", secret_token=secret)
        try:
            await control.send_to_bot(subscriber.id, "hello")
            replies = await eventually(
                lambda: control.messages(subscriber.id, sent_by_bot=True), lambda found: bool(found)
            )
        finally:
            await bot.delete_webhook()

    assert [r.text for r in replies] == ["echo: hello"]
    assert refused == []


async def _value(value: T) -> T:
    return value
