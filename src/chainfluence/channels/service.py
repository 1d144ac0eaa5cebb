"""The channel service: list a channel, edit its listing and prices, delete it, its managers.

Listing asks Telegram first (see `verification`), then writes in the request's transaction; the
first stats refresh is queued to run after the commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from chainfluence import jobs
from chainfluence.categories import Category
from chainfluence.channels import repository, schemas
from chainfluence.channels.exceptions import (
    ChannelHasOpenDeals,
    ChannelListedByOther,
    ChannelNotFound,
    NotChannelOwner,
)
from chainfluence.channels.verification import (
    check_bot_rights,
    require_channel_manager,
    verify_for_listing,
)
from chainfluence.formats import AdFormat
from chainfluence.kit.dialect import upsert
from chainfluence.kit.money import ton_number
from chainfluence.kit.text import clean_text
from chainfluence.kit.time import utcnow
from chainfluence.models import Channel, ChannelPrice, User
from chainfluence.ports import BotApiCaller
from chainfluence.telegram.chats import Administrator

_FORMAT_ORDER = {fmt: index for index, fmt in enumerate(AdFormat)}


def telegram_reference(body: schemas.ChannelCreate) -> int | str:
    if body.username is not None:
        return f"@{body.username}"
    assert body.channel_id is not None
    chat_id = body.channel_id
    # Apps show a private channel's id without Bot API's "-100" prefix; accept both.
    return chat_id if chat_id < 0 else int(f"-100{chat_id}")


def admin_rows(admins: Sequence[Administrator]) -> list[dict[str, Any]]:
    now = utcnow()
    return [
        {
            "user_id": a.user_id,
            "username": a.username,
            "first_name": a.first_name,
            "is_creator": a.rights.status == "creator",
            "can_post_messages": a.rights.can_post_messages,
            "can_edit_messages": a.rights.can_edit_messages,
            "can_delete_messages": a.rights.can_delete_messages,
            "synced_at": now,
        }
        for a in admins
        if not a.is_bot
    ]


async def add_channel(
    session: AsyncSession, bot: BotApiCaller | None, *, user: User, body: schemas.ChannelCreate
) -> tuple[Channel, bool]:
    """List a channel (or re-list your deleted or deactivated one); returns it and whether it
    was newly listed or reactivated (False: it already was listed and active by you)."""
    verified = await verify_for_listing(bot, reference=telegram_reference(body), user_id=user.id)
    chat = verified.chat
    now = utcnow()
    title = clean_text(chat.title or "") or str(chat.id)
    # Insert-or-nothing first, so two people listing the same channel at once meet on one row.
    statement = upsert(
        session,
        Channel.__table__,  # type: ignore[arg-type]
        {
            "id": chat.id,
            "owner_id": user.id,
            "title": title,
            "username": chat.username,
            "description": clean_text(chat.description) if chat.description else None,
            "is_verified": True,
            "is_active": True,
            "rating_sum": 0,
            "rating_count": 0,
            "created_at": now,
            "updated_at": now,
        },
        index_elements=["id"],
        update=(),
    )
    inserted = (await session.execute(statement)).rowcount == 1  # type: ignore[attr-defined]
    channel = await repository.get_for_update(session, chat.id, include_deleted=True)
    assert channel is not None
    if not inserted:
        if channel.deleted_at is None and channel.owner_id != user.id:
            raise ChannelListedByOther(title)
        if channel.owner_id != user.id:
            # A listing its owner deleted: a verified administrator may take the channel over,
            # without the previous owner's prices.
            channel.owner_id = user.id
            await repository.delete_prices(session, channel.id)
    newly = inserted or channel.deleted_at is not None or not channel.is_active
    channel.title = title
    channel.username = chat.username
    channel.is_verified = True
    channel.is_active = True
    channel.deactivated_reason = None
    channel.deleted_at = None
    if body.category is not None:
        channel.category = body.category.value
    known = await repository.bot_chat(session, chat.id)
    if known is not None and known.promoted_by is not None:
        channel.bot_added_by = known.promoted_by
    channel.bot_status_at = now
    channel.subscribers = verified.subscribers
    sources = dict(channel.stats_sources or {})
    sources["subscribers"] = {"source": "bot_api", "fetchedAt": now.isoformat()}
    channel.stats_sources = sources
    await repository.replace_admins(session, channel.id, admin_rows(verified.admins))
    user.is_publisher = True
    await session.flush()
    await refresh_price_summary(session, channel)
    await jobs.enqueue(
        session,
        "channels.refresh_stats",
        {"channel_id": channel.id},
        dedup_key=f"channels.refresh_stats:{channel.id}",
    )
    return channel, newly


async def update_channel(
    session: AsyncSession,
    bot: BotApiCaller | None,
    *,
    user: User,
    channel_id: int,
    body: schemas.ChannelUpdate,
) -> Channel:
    channel = await repository.get_for_update(session, channel_id)
    if channel is None:
        raise ChannelNotFound()
    fields = body.model_fields_set
    reactivating = body.is_active is True and not channel.is_active
    # Reactivating re-checks Telegram: a listing must not come back without the bot's rights.
    channel = await require_channel_manager(
        session, bot, user_id=user.id, channel=channel, fresh=reactivating
    )
    if reactivating:
        await check_bot_rights(bot, channel)
        channel.is_active = True
        channel.is_verified = True
        channel.deactivated_reason = None
    elif body.is_active is False and channel.is_active:
        channel.is_active = False
        channel.deactivated_reason = "owner"
    if "category" in fields:
        channel.category = body.category.value if body.category else None
    if "description" in fields:
        channel.description = body.description or None
    if "language" in fields:
        channel.language = body.language
    if body.pricing is not None:
        await repository.delete_prices(session, channel.id)
        session.add_all(
            ChannelPrice(
                channel_id=channel.id,
                format=item.format,
                price_nano=item.price,
                enabled=item.enabled,
                description=item.description or None,
            )
            for item in body.pricing
        )
    channel.updated_at = utcnow()
    await session.flush()
    await refresh_price_summary(session, channel)
    return channel


async def delete_channel(session: AsyncSession, *, user: User, channel_id: int) -> None:
    channel = await repository.get_for_update(session, channel_id)
    if channel is None:
        raise ChannelNotFound()
    if channel.owner_id != user.id:
        raise NotChannelOwner("delete it")
    open_deals = await repository.open_deal_count(session, channel.id)
    if open_deals:
        raise ChannelHasOpenDeals(open_deals)
    now = utcnow()
    channel.deleted_at = now
    channel.is_active = False
    channel.deactivated_reason = "deleted"
    channel.updated_at = now
    await session.flush()


async def refresh_price_summary(session: AsyncSession, channel: Channel) -> None:
    """Recompute each price's CPM and the channel's cheapest price and its CPM.

    Called whenever prices or average views change, so the catalogue filters and sorts on
    stored columns. CPM = price × 1000 / average views, in nanotons, rounded down.
    """
    prices = (await repository.prices_of(session, [channel.id]))[channel.id]
    views = channel.avg_views
    for price in prices:
        price.cpm_nano = price.price_nano * 1000 // views if views else None
    enabled = [p for p in prices if p.enabled]
    cheapest = min(enabled, key=lambda p: (p.price_nano, _FORMAT_ORDER[p.format]), default=None)
    channel.min_price_nano = cheapest.price_nano if cheapest else None
    channel.min_price_cpm_nano = cheapest.cpm_nano if cheapest else None
    await session.flush()


def to_schema(channel: Channel, prices: Sequence[ChannelPrice]) -> schemas.Channel:
    ordered = sorted(prices, key=lambda p: _FORMAT_ORDER[p.format])
    return schemas.Channel(
        id=channel.id,
        owner_id=channel.owner_id,
        username=channel.username,
        title=channel.title,
        description=channel.description,
        category=Category(channel.category) if channel.category else None,
        language=channel.language,
        subscribers=channel.subscribers,
        avg_views=channel.avg_views,
        engagement_rate=channel.engagement_rate,
        posts_per_week=channel.posts_per_week,
        trust_score=channel.trust_score,
        pricing=[
            schemas.Price(
                format=p.format,
                price=p.price_nano,
                enabled=p.enabled,
                description=p.description,
                cpm=p.cpm_nano,
            )
            for p in ordered
        ],
        min_price=channel.min_price_nano,
        cpm=channel.min_price_cpm_nano,
        rating=channel.rating,
        review_count=channel.rating_count,
        is_verified=channel.is_verified,
        is_active=channel.is_active,
        inactive_reason=None if channel.is_active else channel.deactivated_reason,
        stats_updated_at=channel.stats_updated_at,
        created_at=channel.created_at,
        updated_at=channel.updated_at,
    )


def list_item(row: Sequence[Any]) -> dict[str, Any]:
    """A channel as `schemas.Channel` puts it on the wire, from a row of
    `repository.LIST_COLUMNS` and `repository.prices_json` (lists build these directly; tested
    equal to the model's rendering).

    Its times stay datetimes: they are aware UTC (kit.db), which `json_page` writes exactly as
    the model's `iso_utc` does, without a string built per value here."""
    (id_, owner_id, username, title, description, category, language, subscribers, avg_views,
     engagement_rate, posts_per_week, trust_score, min_price, cpm, rating_sum, rating_count,
     is_verified, is_active, deactivated_reason, stats_updated_at, created_at, updated_at,
     pricing) = row  # fmt: skip
    # A JSON array of [format, price_nano, enabled, description, cpm_nano]: decoded by the
    # driver on PostgreSQL, text on SQLite.
    prices = repository.decode_prices(pricing)
    if len(prices) > 1:
        prices = sorted(prices, key=_format_rank)
    # Response models strip their strings (kit.schemas.Schema); so does the wire shape.
    return {
        "id": str(id_),
        "ownerId": str(owner_id),
        "username": username.strip() if username is not None else None,
        "title": title.strip(),
        "description": description.strip() if description is not None else None,
        "category": category or None,
        "language": language.strip() if language is not None else None,
        "subscribers": subscribers,
        "avgViews": avg_views,
        "engagementRate": float(engagement_rate) if engagement_rate is not None else None,
        "postsPerWeek": float(posts_per_week) if posts_per_week is not None else None,
        "trustScore": trust_score,
        "pricing": [
            {
                "format": fmt,
                "price": ton_number(price),
                "enabled": bool(enabled),
                "description": text.strip() if text is not None else None,
                "cpm": ton_number(price_cpm) if price_cpm is not None else None,
            }
            for fmt, price, enabled, text, price_cpm in prices
        ],
        "minPrice": ton_number(min_price) if min_price is not None else None,
        "cpm": ton_number(cpm) if cpm is not None else None,
        "rating": round(rating_sum / rating_count, 2) if rating_count else None,
        "reviewCount": rating_count,
        "isVerified": bool(is_verified),
        "isActive": bool(is_active),
        "inactiveReason": (
            None if is_active or deactivated_reason is None else deactivated_reason.strip()
        ),
        "statsUpdatedAt": stats_updated_at,
        "createdAt": created_at,
        "updatedAt": updated_at,
    }


# The model's order of a channel's prices, by the format's wire value (`AdFormat` order).
_FORMAT_RANK = {fmt.value: index for index, fmt in enumerate(AdFormat)}


def _format_rank(price: Sequence[Any]) -> int:
    return _FORMAT_RANK[price[0]]


async def to_schemas(session: AsyncSession, channels: Sequence[Channel]) -> list[schemas.Channel]:
    prices = await repository.prices_of(session, [c.id for c in channels])
    return [to_schema(c, prices[c.id]) for c in channels]


async def managers(session: AsyncSession, channel: Channel) -> list[schemas.Manager]:
    rows = await repository.admins(session, channel.id)
    ours = await repository.registered_user_ids(session, [row.user_id for row in rows])
    return [
        schemas.Manager(
            user_id=row.user_id,
            username=row.username,
            first_name=row.first_name,
            is_owner=row.user_id == channel.owner_id,
            is_creator=row.is_creator,
            is_user=row.user_id in ours,
            can_post_messages=row.can_post_messages,
            can_edit_messages=row.can_edit_messages,
            can_delete_messages=row.can_delete_messages,
            synced_at=row.synced_at,
        )
        for row in rows
    ]
