"""The bot's job: an update the webhook queued (`bot.updates`), handled in the worker."""

from __future__ import annotations

from typing import Any

from chainfluence.bot import updates
from chainfluence.jobs import JobContext, job


@job(updates.JOB_NAME)
async def handle_update(ctx: JobContext, update: dict[str, Any]) -> None:
    await updates.handle_update(ctx.runtime, update)
