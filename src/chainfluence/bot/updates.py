"""Handling one update from Telegram: the webhook's body (or a queued copy of it) given to the
dispatcher.

`POST /telegram/webhook` does not run the handlers in the API process when there is a Redis
queue: it queues the update as the job `bot.handle_update` (`bot/jobs.py`), durable in Redis, and
the worker, which holds aiogram's bot and dispatcher, runs it. Without Redis (one process, the
queue in memory) the route hands the update to `handle_update` itself before answering, as
before: an answered update is then a handled one. Either way Telegram is answered 200 only once
the update is safe, and a failure answers 5xx so that Telegram delivers it again.
"""

from __future__ import annotations

from typing import Any, Protocol

from chainfluence.ports import UpdateHandling

JOB_NAME = "bot.handle_update"


class UpdateRuntime(UpdateHandling, Protocol):
    """What handling an update needs: aiogram's dispatcher and its bot (built on first use)."""


def dedup_key(payload: dict[str, Any]) -> str | None:
    """One queued job per update: Telegram may deliver an update again before it is handled."""
    update_id = payload.get("update_id")
    return f"tg-update:{update_id}" if isinstance(update_id, int) else None


async def handle_update(runtime: UpdateRuntime, payload: dict[str, Any]) -> None:
    """Validate the update with aiogram's types and feed it to the dispatcher."""
    from aiogram.types import Update

    bot, dispatcher = runtime.dispatcher_bot, runtime.dispatcher
    if bot is None or dispatcher is None:
        return
    update = Update.model_validate(payload, context={"bot": bot})
    await dispatcher.feed_update(bot, update)
