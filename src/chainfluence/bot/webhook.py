"""`POST /telegram/webhook`: updates from Telegram, checked by their secret-token header.

The header is compared in constant time. Without a configured secret (and bot) the route does not
exist as far as callers can tell (404), so a deployment cannot accept unauthenticated updates.
"""

from __future__ import annotations

import hmac
import logging
from typing import Annotated, Any

from aiogram.types import Update
from fastapi import APIRouter, Depends, Request, Response

from chainfluence.dependencies import app_services
from chainfluence.kit.errors import NotFound, Unauthorized
from chainfluence.telegram.lifecycle import BotRuntime

log = logging.getLogger(__name__)

router = APIRouter(tags=["telegram"])
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name)


async def _bot_runtime(request: Request) -> BotRuntime:
    ports: BotRuntime = app_services(request)
    return ports


@router.post("/telegram/webhook", include_in_schema=False)
async def webhook(
    request: Request, runtime: Annotated[BotRuntime, Depends(_bot_runtime)]
) -> Response:
    settings = runtime.settings.telegram
    bot, dispatcher = runtime.bot, runtime.dispatcher
    if bot is None or dispatcher is None or settings.webhook_secret is None:
        raise NotFound("No such route.", code="not_found")
    expected = settings.webhook_secret.get_secret_value().encode()
    given = request.headers.get(SECRET_HEADER, "").encode()
    if not hmac.compare_digest(given, expected):
        raise Unauthorized("Wrong or missing webhook secret.", code="bad_webhook_secret")
    payload: Any = await request.json()
    update = Update.model_validate(payload, context={"bot": bot})
    # Processed before answering: Telegram then knows the update was handled (or retries it).
    await dispatcher.feed_update(bot, update)
    return Response(status_code=200)
