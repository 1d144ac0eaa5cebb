"""Starting and stopping the bot's update intake: long polling (serve) or a webhook (api).

`chainfluence serve` polls (`start_polling`); the API, when `telegram.webhook_url` is set, asks
Telegram to deliver there (`configure_webhook`, at start-up; every replica may call it, the
call is idempotent). Updates then arrive at `POST /telegram/webhook` (bot/webhook.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Protocol

from chainfluence.ports import Configured, Messenger, UpdateHandling

log = logging.getLogger(__name__)

# The updates we handle; anything else is not even delivered.
ALLOWED_UPDATES = [
    "message",
    "my_chat_member",
    # Administrators' promotions, demotions and removals: a manager's rights follow at once.
    "chat_member",
    "channel_post",
    "edited_channel_post",
]


class BotRuntime(Configured, Messenger, UpdateHandling, Protocol):
    """What starting the bot's intake needs: the settings, the Bot API client (setting the
    webhook loads no aiogram) and, for polling, aiogram's dispatcher and its bot."""


async def configure_webhook(runtime: BotRuntime) -> bool:
    """setWebhook when a webhook URL is configured; returns whether it did."""
    settings = runtime.settings.telegram
    if runtime.bot is None or not settings.webhook_url:
        return False
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    await runtime.bot.call(
        "setWebhook",
        url=settings.webhook_url,
        secret_token=secret,
        allowed_updates=ALLOWED_UPDATES,
    )
    log.info("Telegram webhook set to %s", settings.webhook_url)
    return True


@contextlib.asynccontextmanager
async def polling(runtime: BotRuntime, *, timeout: int = 30) -> AsyncIterator[None]:
    """Long-poll getUpdates for the duration of the block (no-op without a bot)."""
    if runtime.bot is None:
        yield
        return
    if runtime.settings.telegram.webhook_url:
        # Deliveries go to POST /telegram/webhook instead.
        await configure_webhook(runtime)
        yield
        return
    bot, dispatcher = runtime.dispatcher_bot, runtime.dispatcher
    if bot is None or dispatcher is None:
        yield
        return
    # A webhook left over from an `api` deployment would make getUpdates fail with 409.
    await bot.delete_webhook(drop_pending_updates=False)
    task = asyncio.create_task(
        dispatcher.start_polling(
            bot,
            polling_timeout=timeout,
            handle_signals=False,
            close_bot_session=False,
            allowed_updates=ALLOWED_UPDATES,
        )
    )
    try:
        yield
    finally:
        with contextlib.suppress(RuntimeError):
            await dispatcher.stop_polling()
        with contextlib.suppress(asyncio.CancelledError, asyncio.TimeoutError):
            await asyncio.wait_for(task, timeout=timeout + 10)
