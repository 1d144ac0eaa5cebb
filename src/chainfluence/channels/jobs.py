"""Channel jobs: refresh one channel's stats; the periodic sweep that keeps stats fresh."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from chainfluence.channels import repository, stats
from chainfluence.jobs import JobContext, job, periodic
from chainfluence.kit.time import utcnow
from chainfluence.ports import Configured, Enqueuer, Sessions


class _Ports(Sessions, Configured, Enqueuer, Protocol):
    """What this module needs of the process."""


# Channels refreshed per sweep: ~3 Bot API calls each, far below Telegram's limits.
SWEEP_BATCH = 50
POST_RETENTION = dt.timedelta(days=120)


@job("channels.refresh_stats", max_attempts=3)
async def refresh_stats(ctx: JobContext, *, channel_id: int) -> None:
    await stats.refresh(ctx.runtime, channel_id)


@periodic("channels.sweep_stats", every_seconds=600)
async def sweep_stats(runtime: _Ports) -> None:
    """Queue refreshes for the stalest channels (never refreshed first), a batch at a time."""
    older_than = utcnow() - dt.timedelta(seconds=runtime.settings.telegram.stats_max_age_seconds)
    async with runtime.session(write=False) as session:
        ids = await repository.stale_channel_ids(session, older_than=older_than, limit=SWEEP_BATCH)
    for channel_id in ids:
        await runtime.queue.enqueue(
            "channels.refresh_stats",
            {"channel_id": channel_id},
            dedup_key=f"channels.refresh_stats:{channel_id}",
        )


@periodic("channels.prune_posts", every_seconds=24 * 3600)
async def prune_posts(runtime: _Ports) -> None:
    """Observed posts older than any stats window or deal hold are no longer needed."""
    async with runtime.session() as session:
        await repository.prune_posts(session, utcnow() - POST_RETENTION)
