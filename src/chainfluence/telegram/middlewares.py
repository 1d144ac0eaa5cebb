"""aiogram request middlewares, around every Bot API call: Telegram's send limits, shared by all
our processes, and 429 `retry_after` honoured by sleeping and retrying. (The update side, around
every handler, is `chainfluence.bot.middlewares`.)
"""

from __future__ import annotations

import asyncio
import logging

from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import (
    CopyMessage,
    ForwardMessage,
    SendMediaGroup,
    SendMessage,
    SendPhoto,
    TelegramMethod,
)
from aiogram.methods.base import Response, TelegramType

from chainfluence.telegram.botapi import BOT_API_FLOOD, SendLimits

log = logging.getLogger(__name__)

SEND_METHODS = (SendMessage, SendPhoto, SendMediaGroup, CopyMessage, ForwardMessage)


class RetryAfterMiddleware(BaseRequestMiddleware):
    """On 429, sleep `retry_after` and repeat the call, a bounded number of times.

    A 429 means Telegram did not perform the call, so repeating it cannot duplicate a message.
    A wait longer than `max_wait` is not slept through here: the error goes up to the caller
    (a job retries later; a request answers 503) instead of holding a worker for minutes.
    """

    def __init__(self, *, max_retries: int = 3, max_wait: float = 30.0) -> None:
        self.max_retries = max_retries
        self.max_wait = max_wait

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        attempt = 0
        while True:
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                BOT_API_FLOOD.labels(type(method).__name__).inc()
                attempt += 1
                if attempt > self.max_retries or exc.retry_after > self.max_wait:
                    raise
                log.warning(
                    "Telegram flood limit on %s: retrying in %s s (attempt %s)",
                    type(method).__name__,
                    exc.retry_after,
                    attempt,
                )
                await asyncio.sleep(exc.retry_after)


class SendLimitMiddleware(BaseRequestMiddleware):
    """Keep aiogram's sends within Telegram's limits, in the same shared windows as the plain
    Bot API client's (`botapi.SendLimits`, which counts them)."""

    def __init__(self, limits: SendLimits) -> None:
        self.limits = limits

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        if isinstance(method, SEND_METHODS):
            count = len(method.media) if isinstance(method, SendMediaGroup) else 1
            await self.limits.wait(bot.id, method.chat_id, count)
        return await make_request(bot, method)
