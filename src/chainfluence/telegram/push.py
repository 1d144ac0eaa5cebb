"""`BotPushSender`: the `PushSender` the notification job uses when a bot is configured.

The send limits and 429 retries are the bot's request middlewares; here Telegram's answers are
sorted into what the job needs to know: the person can't be reached (blocked the bot, never
started it, deleted their account) or it is worth trying again later.
"""

from __future__ import annotations

import html
import logging

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import BufferedInputFile

from chainfluence.config import TelegramSettings
from chainfluence.kit.errors import TooManyRequests
from chainfluence.ports import (
    PushMessage,
    RecipientUnreachable,
    TransientPushError,
)
from chainfluence.telegram.links import open_app_keyboard

log = logging.getLogger(__name__)

# Telegram's limit is 4096 characters after entity parsing (1024 for a caption); leave room for
# the title.
MAX_BODY = 3500
MAX_CAPTION_BODY = 700


def render(message: PushMessage, *, limit: int = MAX_BODY) -> str:
    body = message.body.strip()
    if len(body) > limit:
        body = body[: limit - 1].rstrip() + "…"
    title = f"<b>{html.escape(message.title)}</b>"
    return f"{title}\n{html.escape(body)}" if body else title


class BotPushSender:
    def __init__(self, bot: Bot, settings: TelegramSettings) -> None:
        self.bot = bot
        self.settings = settings

    async def send_push(self, message: PushMessage) -> None:
        keyboard = open_app_keyboard(
            self.settings, "Open", message.start_param, pay_url=message.pay_url
        )
        try:
            if message.document is not None:
                name, data = message.document
                await self.bot.send_document(
                    chat_id=message.chat_id,
                    document=BufferedInputFile(data, filename=name),
                    caption=render(message, limit=MAX_CAPTION_BODY),
                    parse_mode="HTML",
                    reply_markup=keyboard,
                )
            else:
                await self.bot.send_message(
                    chat_id=message.chat_id,
                    text=render(message),
                    parse_mode="HTML",
                    reply_markup=keyboard,
                )
        except TelegramForbiddenError as exc:
            # "bot was blocked by the user", "bot can't initiate conversation with a user",
            # "user is deactivated".
            raise RecipientUnreachable(exc.message) from exc
        except TelegramBadRequest as exc:
            if "chat not found" in exc.message.lower():
                raise RecipientUnreachable(exc.message) from exc
            raise
        except (TelegramRetryAfter, TelegramServerError, TelegramNetworkError) as exc:
            raise TransientPushError(str(exc)) from exc
        except TooManyRequests as exc:
            # Our own send windows stayed full: try again later rather than wait here.
            raise TransientPushError(exc.message) from exc
        except TelegramUnauthorizedError as exc:
            log.error("the bot token was refused by Telegram: %s", exc.message)
            raise TransientPushError(exc.message) from exc
