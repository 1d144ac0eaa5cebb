"""Views of the ad post itself: readings at 1 h, 24 h and the end of the hold.

The bot does not see its own posts as channel updates, so a channel's stats refresh may never
ask for the ad post. Each published deal therefore has its own due time (`deals.views_due_at`):
a sweep queues `deals.read_views` for due deals, which asks the views providers (the bot's
MTProto session in production) for the post and stores what they answer in the post view series
(`post_view_snapshots`, with source and time), then sets the next mark due.

A reading counts for a mark when it falls in the mark's window (nothing is interpolated):
* 1 h: the post between 1 h and 2 h old;
* 24 h: between 24 h and 48 h old (as the channel figures' "views at 24 h");
* end of hold: taken in the 6 h after `hold_until`.
A mark whose window passed without a reading stays empty; the report says so. A deal refunded or
cancelled is not read any more; a released one is read until its marks are done.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chainfluence.channels import repository as channels
from chainfluence.deals import repository
from chainfluence.kit.time import utcnow
from chainfluence.models import Deal, DealStatus, PostViewSnapshot
from chainfluence.ports import Sessions, ViewsSources


class _Ports(Sessions, ViewsSources, Protocol):
    """What this module needs of the process."""


log = logging.getLogger(__name__)

# A reading that could not be taken is tried again after this, while its mark's window lasts.
RETRY = dt.timedelta(minutes=5)
HOUR = dt.timedelta(hours=1)
END_OF_HOLD_WINDOW = dt.timedelta(hours=6)
# Deals whose post is no longer read: the advertiser got the money back or nothing ran.
NOT_READ = frozenset({DealStatus.refunding, DealStatus.refunded, DealStatus.cancelled})


@dataclass(frozen=True, slots=True)
class Mark:
    name: str  # "1h", "24h", "endOfHold"
    due_at: dt.datetime
    until: dt.datetime  # the window: due_at <= reading < until

    def holds(self, reading: PostViewSnapshot, posted_at: dt.datetime) -> bool:
        if self.name == "endOfHold":
            return self.due_at <= reading.taken_at < self.until
        age = dt.timedelta(seconds=reading.age_seconds)
        return self.due_at - posted_at <= age < self.until - posted_at


def marks(deal: Deal) -> list[Mark]:
    """The readings a published deal's post gets, in due order (empty before publishing)."""
    posted = deal.posted_at
    if posted is None:
        return []
    found = [
        Mark("1h", posted + HOUR, posted + 2 * HOUR),
        Mark("24h", posted + 24 * HOUR, posted + 48 * HOUR),
    ]
    if deal.hold_until is not None:
        found.append(Mark("endOfHold", deal.hold_until, deal.hold_until + END_OF_HOLD_WINDOW))
    return sorted(found, key=lambda mark: mark.due_at)


def reading_for(
    mark: Mark, readings: Sequence[PostViewSnapshot], posted_at: dt.datetime
) -> PostViewSnapshot | None:
    """The first reading in the mark's window (readings oldest first), or None."""
    return next((r for r in readings if mark.holds(r, posted_at)), None)


def next_due(
    deal: Deal, readings: Sequence[PostViewSnapshot], now: dt.datetime
) -> dt.datetime | None:
    """When the next mark without a reading is due, or None when no window is left open."""
    if deal.posted_at is None or deal.status in NOT_READ:
        return None
    for mark in marks(deal):
        if now >= mark.until or reading_for(mark, readings, deal.posted_at) is not None:
            continue
        return mark.due_at
    return None


def ad_message_id(deal: Deal) -> int | None:
    """The message whose views stand for the post (an album's first message)."""
    ids = list(deal.post_message_ids or [])
    return deal.post_message_id or (ids[0] if ids else None)


async def readings(session: AsyncSession, deal: Deal) -> list[PostViewSnapshot]:
    """The ad post's view readings, oldest first."""
    return (await readings_of(session, [deal])).get(deal.id, [])


async def readings_of(
    session: AsyncSession, deals: Sequence[Deal]
) -> dict[int, list[PostViewSnapshot]]:
    """Each deal's ad post readings, oldest first, in one query."""
    posts = {
        (deal.channel_id, message_id): deal.id
        for deal in deals
        if (message_id := ad_message_id(deal)) is not None
    }
    found: dict[int, list[PostViewSnapshot]] = {}
    if not posts:
        return found
    statement = (
        select(PostViewSnapshot)
        .where(
            PostViewSnapshot.channel_id.in_({channel for channel, _ in posts}),
            PostViewSnapshot.message_id.in_({message for _, message in posts}),
        )
        .order_by(PostViewSnapshot.taken_at)
    )
    for snapshot in (await session.execute(statement)).scalars():
        deal_id = posts.get((snapshot.channel_id, snapshot.message_id))
        if deal_id is not None:
            found.setdefault(deal_id, []).append(snapshot)
    return found


async def read(runtime: _Ports, deal_id: int) -> None:
    """Take the ad post's due reading (outside any transaction), store it, set the next one."""
    now = utcnow()
    async with runtime.session(write=False) as session:
        deal = await repository.get(session, deal_id)
        if deal is None or deal.views_due_at is None or now < deal.views_due_at:
            return
        message_id = ad_message_id(deal)
        posted_at = deal.posted_at
        channel_id = deal.channel_id
        channel = await channels.get(session, channel_id)
        username = channel.username if channel else None
        reading_wanted = deal.status not in NOT_READ
    row: dict[str, Any] | None = None
    if reading_wanted and message_id is not None and posted_at is not None:
        row = await _ask(runtime, channel_id, username, message_id, posted_at)
    async with runtime.session() as session:
        deal = await repository.get_for_update(session, deal_id)
        if deal is None or deal.views_due_at is None:
            return
        if row is not None:
            await channels.add_snapshots(session, [row])
        now = utcnow()
        due = next_due(deal, await readings(session, deal), now)
        if row is None and due is not None and due <= now:
            due = now + RETRY  # nobody answered: try again while the window lasts
        deal.views_due_at = due


async def _ask(
    runtime: _Ports, channel_id: int, username: str | None, message_id: int, posted_at: dt.datetime
) -> dict[str, Any] | None:
    """The first provider's reading of the post, as a series row; None if none could read it."""
    since = posted_at - dt.timedelta(minutes=5)
    for provider in runtime.stats_providers:
        try:
            report = await provider.fetch(
                channel_id=channel_id, username=username, since=since, known_ids=[message_id]
            )
        except Exception:
            log.exception("views provider %s failed for the ad post %s", provider.name, message_id)
            continue
        if report is None:
            continue
        for row in channels.snapshot_rows(channel_id, report):
            if row["message_id"] == message_id:
                return row
    return None
