"""The aiogram `Bot` built from settings, with our request middlewares.

api.telegram.org by default; a custom Bot API server (self-hosted, or the sandbox emulator) when
`telegram.api_base_url` is set. Without a configured token there is no bot: notifications stay
in-app and channel checks answer 503 (`chainfluence serve` in sandbox mode supplies the
emulator's token and address before the runtime is built).
"""

from __future__ import annotations

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from chainfluence.config import Settings
from chainfluence.kit.ratelimit import RateLimiter
from chainfluence.telegram.botapi import SendLimits
from chainfluence.telegram.middlewares import RetryAfterMiddleware, SendLimitMiddleware

# Seconds for one Bot API call (long polls add their own timeout on top).
REQUEST_TIMEOUT = 30


def build_bot(settings: Settings, limiter: RateLimiter) -> Bot | None:
    token = settings.telegram.bot_token
    if token is None:
        return None
    session = AiohttpSession(timeout=REQUEST_TIMEOUT)
    if settings.telegram.api_base_url:
        session.api = TelegramAPIServer.from_base(settings.telegram.api_base_url)
    # Outermost first: the send limit is taken once per call, retries happen inside it.
    session.middleware(
        SendLimitMiddleware(
            SendLimits(
                limiter,
                per_chat=settings.telegram.send_limit_per_chat,
                overall=settings.telegram.send_limit_global,
            )
        )
    )
    session.middleware(RetryAfterMiddleware())
    return Bot(token.get_secret_value(), session=session)
