"""`POST /telegram/webhook`: updates from Telegram, checked by their secret-token header.

The header is compared in constant time. Without a configured secret (and bot) the route does not
exist as far as callers can tell (404), so a deployment cannot accept unauthenticated updates.

An accepted update is queued for the worker (`bot.updates`), durable in Redis, and answered
200 then; without Redis it is handled here before answering. The API process itself never
loads aiogram for it.
"""

from __future__ import annotations

import hmac
import logging
from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Depends, Request, Response

from chainfluence.bot import updates
from chainfluence.dependencies import app_services
from chainfluence.kit.errors import BadRequest, NotFound, Unauthorized
from chainfluence.ports import Configured, Enqueuer, Messenger

log = logging.getLogger(__name__)

router = APIRouter(tags=["telegram"])
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name)


class _Ports(Configured, Messenger, Enqueuer, updates.UpdateRuntime, Protocol):
    """What the route needs of the process."""

    @property
    def redis(self) -> object | None: ...


async def _bot_runtime(request: Request) -> _Ports:
    ports: _Ports = app_services(request)
    return ports


@router.post("/telegram/webhook", include_in_schema=False)
async def webhook(request: Request, runtime: Annotated[_Ports, Depends(_bot_runtime)]) -> Response:
    settings = runtime.settings.telegram
    if runtime.bot is None or settings.webhook_secret is None:
        raise NotFound("No such route.", code="not_found")
    expected = settings.webhook_secret.get_secret_value().encode()
    given = request.headers.get(SECRET_HEADER, "").encode()
    if not hmac.compare_digest(given, expected):
        raise Unauthorized("Wrong or missing webhook secret.", code="bad_webhook_secret")
    payload: Any = await request.json()
    if not isinstance(payload, dict):
        raise BadRequest("An update is a JSON object.", code="bad_update")
    if runtime.redis is None:
        # The queue lives in this process's memory: handle the update before answering, so
        # that an answered update is a handled one (Telegram retries a failed delivery).
        await updates.handle_update(runtime, payload)
    else:
        await runtime.queue.enqueue(
            updates.JOB_NAME, {"update": payload}, dedup_key=updates.dedup_key(payload)
        )
    return Response(status_code=200)
