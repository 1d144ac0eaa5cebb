"""Channel queries: channels, prices, administrators, the bot's chats and observed posts."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Collection, Sequence
from typing import Any

import orjson
from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Select,
    bindparam,
    delete,
    exists,
    func,
    or_,
    select,
    union,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from chainfluence.kit.db import DirectRead
from chainfluence.kit.dialect import upsert
from chainfluence.kit.pagination import PagedRead, PageParams
from chainfluence.models import (
    BotChat,
    Channel,
    ChannelAdmin,
    ChannelPost,
    ChannelPrice,
    ChannelSubscriberReading,
    Deal,
    PostViewSnapshot,
    User,
)
from chainfluence.models.deals import FINAL_DEAL_STATUSES
from chainfluence.ports import ProviderReport


async def get(session: AsyncSession, channel_id: int) -> Channel | None:
    """A channel that is not deleted."""
    channel = await session.get(Channel, channel_id)
    return channel if channel is not None and channel.deleted_at is None else None


async def get_including_deleted(session: AsyncSession, channel_id: int) -> Channel | None:
    return await session.get(Channel, channel_id, populate_existing=True)


async def get_for_update(
    session: AsyncSession, channel_id: int, *, include_deleted: bool = False
) -> Channel | None:
    statement = (
        select(Channel)
        .where(Channel.id == channel_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if not include_deleted:
        statement = statement.where(Channel.deleted_at.is_(None))
    return (await session.execute(statement)).scalar_one_or_none()


# --- managers -------------------------------------------------------------------------------


# Who may act for a channel besides its owner: an administrator (as last synced, kept current
# by `chat_member` updates) holding the rights an ad needs — post, edit and delete — as the
# creator does. An administrator without them cannot publish or take down a post, so cannot
# answer for one either.
ACTING_ADMIN = (
    ChannelAdmin.can_post_messages
    & ChannelAdmin.can_edit_messages
    & ChannelAdmin.can_delete_messages
)


def acting_admin_of(user_id: int | ColumnElement[int]) -> Select[int]:
    """Ids of the channels `user_id` administers with the rights to act for them."""
    return select(ChannelAdmin.channel_id).where(ChannelAdmin.user_id == user_id, ACTING_ADMIN)


def managed_ids(user_id: int | ColumnElement[int]) -> Select[tuple[int]]:
    """Ids of the channels `user_id` owns or may act for (see `ACTING_ADMIN`)."""
    owned = select(Channel.id).where(Channel.owner_id == user_id)
    return select(union(owned, acting_admin_of(user_id)).subquery().c[0])


async def mine_page(
    connection: AsyncConnection, user_id: int, page: PageParams
) -> tuple[list[tuple[Any, ...]], int]:
    """A page of the channels `user_id` manages (`LIST_COLUMNS` and `prices_json`, for
    `service.list_item`), active or not, newest first, and their total."""
    return await _mine(connection.dialect.name).read(connection, page, user_id=user_id)


@functools.cache
def _mine(dialect: str) -> PagedRead:
    statement = (
        select(Channel)
        .where(Channel.deleted_at.is_(None), Channel.id.in_(managed_ids(bindparam("user_id"))))
        .order_by(Channel.created_at.desc(), Channel.id.desc())
    )
    return PagedRead(statement, (*LIST_COLUMNS, prices_json(dialect)))


async def managed_channel(
    connection: AsyncConnection, channel_id: int, user_id: int
) -> tuple[Any, ...] | None:
    """The channel, unless deleted, as (owner_id, category, subscribers, engagement_rate,
    `prices_json`, whether `user_id` may act for it: its owner or an acting administrator), in
    one SELECT on a plain connection (`kit.db.DirectRead`)."""
    return await _managed_channel(connection.dialect.name).first(
        connection, channel_id=channel_id, user_id=user_id
    )


@functools.cache
def _managed_channel(dialect: str) -> DirectRead:
    user_id: BindParameter[int] = bindparam("user_id")
    # This channel's own admin row, not `managed_ids`, which unions every channel of the user.
    acting = exists(acting_admin_of(user_id).where(ChannelAdmin.channel_id == Channel.id))
    return DirectRead(
        select(
            Channel.owner_id,
            Channel.category,
            Channel.subscribers,
            Channel.engagement_rate,
            prices_json(dialect),
            or_(Channel.owner_id == user_id, acting).label("managed"),
        ).where(Channel.id == bindparam("channel_id"), Channel.deleted_at.is_(None))
    )


async def admin_row(session: AsyncSession, channel_id: int, user_id: int) -> ChannelAdmin | None:
    return await session.get(ChannelAdmin, (channel_id, user_id), populate_existing=True)


def may_act(admin: ChannelAdmin | None) -> bool:
    """Python's side of `ACTING_ADMIN`."""
    return admin is not None and (
        admin.can_post_messages and admin.can_edit_messages and admin.can_delete_messages
    )


async def is_acting_admin(session: AsyncSession, channel_id: int, user_id: int) -> bool:
    return may_act(await admin_row(session, channel_id, user_id))


async def admins(session: AsyncSession, channel_id: int) -> Sequence[ChannelAdmin]:
    statement = (
        select(ChannelAdmin)
        .where(ChannelAdmin.channel_id == channel_id)
        .order_by(ChannelAdmin.is_creator.desc(), ChannelAdmin.user_id)
    )
    return (await session.execute(statement)).scalars().all()


async def replace_admins(
    session: AsyncSession, channel_id: int, rows: Collection[dict[str, Any]]
) -> None:
    await session.execute(delete(ChannelAdmin).where(ChannelAdmin.channel_id == channel_id))
    session.add_all(ChannelAdmin(channel_id=channel_id, **row) for row in rows)
    await session.flush()


async def registered_user_ids(session: AsyncSession, ids: Collection[int]) -> set[int]:
    if not ids:
        return set()
    statement = select(User.id).where(User.id.in_(list(ids)))
    return set((await session.execute(statement)).scalars().all())


async def upsert_admin(session: AsyncSession, channel_id: int, row: dict[str, Any]) -> None:
    values = {"channel_id": channel_id, **row}
    statement = upsert(
        session,
        ChannelAdmin.__table__,  # type: ignore[arg-type]
        values,
        index_elements=["channel_id", "user_id"],
        update=[k for k in values if k not in ("channel_id", "user_id")],
    )
    await session.execute(statement)


async def remove_admin(session: AsyncSession, channel_id: int, user_id: int) -> None:
    await session.execute(
        delete(ChannelAdmin).where(
            ChannelAdmin.channel_id == channel_id, ChannelAdmin.user_id == user_id
        )
    )


# --- prices ---------------------------------------------------------------------------------


async def prices_of(
    session: AsyncSession, channel_ids: Collection[int]
) -> dict[int, list[ChannelPrice]]:
    result: dict[int, list[ChannelPrice]] = {cid: [] for cid in channel_ids}
    if not channel_ids:
        return result
    statement = select(ChannelPrice).where(ChannelPrice.channel_id.in_(list(channel_ids)))
    for price in (await session.execute(statement)).scalars():
        result[price.channel_id].append(price)
    return result


def prices_json(dialect: str) -> Any:
    """A column of a channel row: its prices as one JSON array of
    `[format, price_nano, enabled, description, cpm_nano]` arrays (null when it has none), so a
    list reads its channels and their prices in one statement."""
    if dialect == "postgresql":
        row: Any = func.json_build_array(*_PRICE_FIELDS)
        rows: Any = func.json_agg(row)
    else:
        row = func.json_array(*_PRICE_FIELDS)
        rows = func.json_group_array(row)
    return (
        select(rows)
        .where(ChannelPrice.channel_id == Channel.id)
        .correlate(Channel)
        .scalar_subquery()
        .label("pricing")
    )


def decode_prices(value: Any) -> Sequence[Sequence[Any]]:
    """`prices_json`'s value as rows: decoded by the driver on PostgreSQL, text on SQLite."""
    return orjson.loads(value) if isinstance(value, str | bytes) else value or ()


_PRICE_FIELDS = (
    ChannelPrice.format,
    ChannelPrice.price_nano,
    ChannelPrice.enabled,
    ChannelPrice.description,
    ChannelPrice.cpm_nano,
)

# What a channel list reads and answers, followed by `prices_json`.
LIST_COLUMNS: tuple[Any, ...] = (
    Channel.id,
    Channel.owner_id,
    Channel.username,
    Channel.title,
    Channel.description,
    Channel.category,
    Channel.language,
    Channel.subscribers,
    Channel.avg_views,
    Channel.engagement_rate,
    Channel.posts_per_week,
    Channel.trust_score,
    Channel.min_price_nano,
    Channel.min_price_cpm_nano,
    Channel.rating_sum,
    Channel.rating_count,
    Channel.is_verified,
    Channel.is_active,
    Channel.deactivated_reason,
    Channel.stats_updated_at,
    Channel.created_at,
    Channel.updated_at,
)


async def delete_prices(session: AsyncSession, channel_id: int) -> None:
    await session.execute(delete(ChannelPrice).where(ChannelPrice.channel_id == channel_id))


async def open_deal_count(session: AsyncSession, channel_id: int) -> int:
    statement = (
        select(func.count())
        .select_from(Deal)
        .where(Deal.channel_id == channel_id, Deal.status.not_in(list(FINAL_DEAL_STATUSES)))
    )
    return int((await session.execute(statement)).scalar_one())


# --- the bot's chats ------------------------------------------------------------------------


async def bot_chat(session: AsyncSession, chat_id: int) -> BotChat | None:
    return await session.get(BotChat, chat_id, populate_existing=True)


async def save_bot_chat(session: AsyncSession, values: dict[str, Any]) -> None:
    statement = upsert(
        session,
        BotChat.__table__,  # type: ignore[arg-type]
        values,
        index_elements=["chat_id"],
        update=[k for k in values if k != "chat_id"],
    )
    await session.execute(statement)


# --- observed posts -------------------------------------------------------------------------


async def save_post(session: AsyncSession, values: dict[str, Any], *, update: list[str]) -> None:
    statement = upsert(
        session,
        ChannelPost.__table__,  # type: ignore[arg-type]
        values,
        index_elements=["channel_id", "message_id"],
        update=update,
    )
    await session.execute(statement)


def snapshot_rows(channel_id: int, report: ProviderReport) -> list[dict[str, Any]]:
    """The report's view readings as rows of the series (posts it read no views of left out)."""
    return [
        {
            "channel_id": channel_id,
            "message_id": post.message_id,
            "taken_at": report.fetched_at,
            "age_seconds": max(0, int((report.fetched_at - post.posted_at).total_seconds())),
            "views": post.views,
            "forwards": post.forwards,
            "reactions": post.reactions,
            "source": report.source,
        }
        for post in report.posts
        if post.views is not None
    ]


async def add_snapshots(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Store view readings; a reading already stored (same post and time) is kept."""
    for row in rows:
        statement = upsert(
            session,
            PostViewSnapshot.__table__,  # type: ignore[arg-type]
            row,
            index_elements=["channel_id", "message_id", "taken_at"],
            update=[],
        )
        await session.execute(statement)


async def record_subscribers(
    session: AsyncSession, channel_id: int, taken_at: dt.datetime, subscribers: int
) -> None:
    """Keep a subscriber reading when the count changed or a day after the last one kept."""
    last = (
        await session.execute(
            select(ChannelSubscriberReading)
            .where(ChannelSubscriberReading.channel_id == channel_id)
            .order_by(ChannelSubscriberReading.taken_at.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    if (
        last is not None
        and last.subscribers == subscribers
        and taken_at - last.taken_at < dt.timedelta(days=1)
    ):
        return
    session.add(
        ChannelSubscriberReading(channel_id=channel_id, taken_at=taken_at, subscribers=subscribers)
    )


async def subscriber_history(
    session: AsyncSession, channel_id: int, since: dt.datetime
) -> Sequence[ChannelSubscriberReading]:
    statement = (
        select(ChannelSubscriberReading)
        .where(
            ChannelSubscriberReading.channel_id == channel_id,
            ChannelSubscriberReading.taken_at >= since,
        )
        .order_by(ChannelSubscriberReading.taken_at)
    )
    return (await session.execute(statement)).scalars().all()


async def snapshots_since(
    session: AsyncSession, channel_id: int, since: dt.datetime
) -> Sequence[PostViewSnapshot]:
    """The view readings of the channel's posts taken since `since`, oldest first."""
    statement = (
        select(PostViewSnapshot)
        .where(PostViewSnapshot.channel_id == channel_id, PostViewSnapshot.taken_at >= since)
        .order_by(PostViewSnapshot.taken_at)
    )
    return (await session.execute(statement)).scalars().all()


async def posts_since(
    session: AsyncSession, channel_id: int, since: dt.datetime
) -> Sequence[ChannelPost]:
    statement = (
        select(ChannelPost)
        .where(ChannelPost.channel_id == channel_id, ChannelPost.posted_at >= since)
        .order_by(ChannelPost.posted_at)
    )
    return (await session.execute(statement)).scalars().all()


async def newer_post_exists(
    session: AsyncSession, channel_id: int, *, after_message_id: int, until: dt.datetime
) -> bool:
    """Whether the bot saw a post in the channel after `after_message_id`, dated up to `until`.

    For the top-hours rule (formats 1/24, 2/48, 3/72): the ad must stay the newest post. Message
    ids grow with every post in a channel, so "after" is by id; albums count once per photo.
    """
    statement = select(
        exists().where(
            ChannelPost.channel_id == channel_id,
            ChannelPost.message_id > after_message_id,
            ChannelPost.posted_at <= until,
        )
    )
    return bool((await session.execute(statement)).scalar_one())


async def prune_posts(session: AsyncSession, older_than: dt.datetime) -> None:
    await session.execute(delete(ChannelPost).where(ChannelPost.posted_at < older_than))


# --- stats sweep ----------------------------------------------------------------------------


async def stale_channel_ids(
    session: AsyncSession, *, older_than: dt.datetime, limit: int
) -> Sequence[int]:
    """Active channels whose stats are missing or older than `older_than`, stalest first."""
    statement = (
        select(Channel.id)
        .where(
            Channel.deleted_at.is_(None),
            Channel.is_active.is_(True),
            or_(Channel.stats_updated_at.is_(None), Channel.stats_updated_at < older_than),
        )
        .order_by(Channel.stats_updated_at.asc().nulls_first(), Channel.id)
        .limit(limit)
    )
    return (await session.execute(statement)).scalars().all()
