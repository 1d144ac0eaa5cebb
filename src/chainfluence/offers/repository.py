"""Offer queries, and the channel lookups offers need."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence

from sqlalchemy import BigInteger, Select, and_, any_, func, or_, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from chainfluence.formats import AdFormat
from chainfluence.models import (
    Campaign,
    ChannelPrice,
    Offer,
    OfferDirection,
    OfferStatus,
)
from chainfluence.offers.channel_access import managed_channel_ids


async def get(session: AsyncSession, offer_id: int) -> Offer | None:
    return await session.get(Offer, offer_id)


async def get_for_update(session: AsyncSession, offer_id: int) -> Offer | None:
    """The offer, row-locked and re-read: a concurrent decision is seen once it committed."""
    statement = (
        select(Offer)
        .where(Offer.id == offer_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def pending_on_campaign(
    session: AsyncSession, campaign_id: int, channel_id: int
) -> Offer | None:
    statement = select(Offer).where(
        Offer.campaign_id == campaign_id,
        Offer.channel_id == channel_id,
        Offer.status == OfferStatus.pending,
    )
    return (await session.execute(statement)).scalars().first()


def of_campaign(campaign_id: int, *, status: OfferStatus | None = None) -> Select[Offer]:
    statement = select(Offer).where(Offer.campaign_id == campaign_id)
    if status is not None:
        statement = statement.where(Offer.status == status)
    return statement.order_by(Offer.id.desc())


def involving(
    user_id: int,
    dialect: str,
    *,
    role: str | None = None,
    status: OfferStatus | None = None,
    direction: OfferDirection | None = None,
    campaign_id: int | None = None,
    channel_id: int | None = None,
) -> Select[Offer]:
    """Offers the user is a party to: as advertiser, or for a channel they own or manage.

    Each side has an index of its own (advertiser, publisher, author, channel), which PostgreSQL
    reads as one bitmap OR: the managed channels go in as an array, since an IN subquery inside
    an OR is no index condition (it scanned the table). The page is then sorted from the caller's
    rows (the subquery is fenced with OFFSET 0): ordered over the table itself, PostgreSQL
    guessed the caller has a thousand offers and walked the primary key until it found a page,
    24,244 rows for a publisher of 92 (benchmarks/results/offers_mine_explain_*.txt).
    """
    managed = managed_channel_ids(user_id)
    on_managed = (
        Offer.channel_id == any_(func.array(managed.scalar_subquery(), type_=ARRAY(BigInteger)))
        if dialect == "postgresql"
        else Offer.channel_id.in_(managed)
    )
    as_advertiser = Offer.advertiser_id == user_id
    as_publisher = or_(Offer.publisher_id == user_id, Offer.author_id == user_id, on_managed)
    if role == "advertiser":
        statement = select(Offer).where(as_advertiser)
    elif role == "publisher":
        statement = select(Offer).where(and_(as_publisher, Offer.advertiser_id != user_id))
    else:
        statement = select(Offer).where(or_(as_advertiser, as_publisher))
    if status is not None:
        statement = statement.where(Offer.status == status)
    if direction is not None:
        statement = statement.where(Offer.direction == direction)
    if campaign_id is not None:
        statement = statement.where(Offer.campaign_id == campaign_id)
    if channel_id is not None:
        statement = statement.where(Offer.channel_id == channel_id)
    mine = aliased(Offer, statement.offset(0).subquery("mine"))
    return select(mine).order_by(mine.id.desc())


async def counter_ids(session: AsyncSession, offer_ids: Collection[int]) -> dict[int, int]:
    """For each countered offer among `offer_ids`, the id of the version that countered it."""
    if not offer_ids:
        return {}
    statement = select(Offer.previous_offer_id, Offer.id).where(
        Offer.previous_offer_id.in_(list(offer_ids))
    )
    rows = (await session.execute(statement)).all()
    return {int(previous): new for previous, new in rows if previous is not None}


async def pending_of_campaign_for_update(
    session: AsyncSession, campaign_id: int
) -> Sequence[Offer]:
    statement = (
        select(Offer)
        .where(Offer.campaign_id == campaign_id, Offer.status == OfferStatus.pending)
        .order_by(Offer.id)
        .with_for_update()
    )
    return (await session.execute(statement)).scalars().all()


async def due_to_expire(
    session: AsyncSession, *, now: dt.datetime, today: dt.date, limit: int, skip_locked: bool
) -> Sequence[Offer]:
    """Pending offers past their own date or their campaign's last day, locked for the sweep."""
    campaign_closed = Offer.campaign_id.in_(
        select(Campaign.id).where(Campaign.deadline.is_not(None), Campaign.deadline < today)
    )
    statement = (
        select(Offer)
        .where(
            Offer.status == OfferStatus.pending,
            or_(Offer.expires_at <= now, campaign_closed),
        )
        .order_by(Offer.id)
        .limit(limit)
        .with_for_update(skip_locked=skip_locked)
    )
    return (await session.execute(statement)).scalars().all()


async def enabled_prices(session: AsyncSession, channel_id: int) -> dict[AdFormat, int]:
    """The formats a channel sells right now, with their prices in nanotons."""
    statement = select(ChannelPrice.format, ChannelPrice.price_nano).where(
        ChannelPrice.channel_id == channel_id, ChannelPrice.enabled.is_(True)
    )
    return {AdFormat(fmt): int(price) for fmt, price in (await session.execute(statement)).all()}
