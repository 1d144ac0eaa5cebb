"""Offer queries, and the channel lookups offers need."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    String,
    Subquery,
    and_,
    any_,
    bindparam,
    func,
    literal_column,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import aliased

from chainfluence.formats import AdFormat
from chainfluence.kit.pagination import PagedRead, PageParams
from chainfluence.models import (
    Campaign,
    ChannelPrice,
    Deal,
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


@dataclass(frozen=True, slots=True)
class MineFilters:
    """GET /v1/offers/mine's query: which side, status, direction, campaign and channel."""

    role: str | None = None
    status: OfferStatus | None = None
    direction: OfferDirection | None = None
    campaign_id: int | None = None
    channel_id: int | None = None


def involving(user_id: Any, dialect: str, filters: MineFilters = MineFilters()) -> Subquery:
    """Offers the user is a party to: as advertiser, or for a channel they own or manage; as a
    subquery to order and page (the filters' values, and `user_id`, may be `bindparam`s).

    Each side has an index of its own (advertiser, publisher, author, channel), which PostgreSQL
    reads as one bitmap OR: the managed channels go in as an array, since an IN subquery inside
    an OR is no index condition (it scanned the table). The subquery is fenced (OFFSET 0) so that
    the page is sorted from the caller's rows: ordered over the table itself, PostgreSQL guessed
    the caller has a thousand offers and walked the primary key until it found a page, 24,244
    rows for a publisher of 92 (benchmarks/results/offers_mine_explain_*.txt).
    """
    managed = managed_channel_ids(user_id)
    on_managed = (
        Offer.channel_id == any_(func.array(managed.scalar_subquery(), type_=ARRAY(BigInteger)))
        if dialect == "postgresql"
        else Offer.channel_id.in_(managed)
    )
    as_advertiser = Offer.advertiser_id == user_id
    as_publisher = or_(Offer.publisher_id == user_id, Offer.author_id == user_id, on_managed)
    if filters.role == "advertiser":
        statement = select(Offer).where(as_advertiser)
    elif filters.role == "publisher":
        statement = select(Offer).where(and_(as_publisher, Offer.advertiser_id != user_id))
    else:
        statement = select(Offer).where(or_(as_advertiser, as_publisher))
    if filters.status is not None:
        statement = statement.where(Offer.status == filters.status)
    if filters.direction is not None:
        statement = statement.where(Offer.direction == filters.direction)
    if filters.campaign_id is not None:
        statement = statement.where(Offer.campaign_id == filters.campaign_id)
    if filters.channel_id is not None:
        statement = statement.where(Offer.channel_id == filters.channel_id)
    return statement.offset(literal_column("0")).subquery("mine")


async def involving_page(
    connection: AsyncConnection, user_id: int, filters: MineFilters, page: PageParams
) -> tuple[list[tuple[Any, ...]], int]:
    """A page of the offers `user_id` is a party to (`list_columns`, for `views.list_item`),
    newest first, and their total."""
    read, params = involving_read(connection.dialect.name, filters)
    return await read.read(connection, page, user_id=user_id, **params)


def involving_read(dialect: str, filters: MineFilters) -> tuple[PagedRead, dict[str, Any]]:
    """The read of `filters`' shape (built once per shape), and its values but `user_id`."""
    values = {
        "status": filters.status,
        "direction": filters.direction,
        "campaign_id": filters.campaign_id,
        "channel_id": filters.channel_id,
    }
    shape = tuple(name for name, value in values.items() if value is not None)
    return _involving(dialect, filters.role, shape), {name: values[name] for name in shape}


@functools.cache
def _involving(dialect: str, role: str | None, shape: tuple[str, ...]) -> PagedRead:
    filters = MineFilters(role, **{name: bindparam(name) for name in shape})  # type: ignore[arg-type]
    mine = involving(bindparam("user_id", type_=BigInteger()), dialect, filters)
    return listed(mine)


def of_campaign(campaign_id: Any, *, status: Any = None) -> Subquery:
    """A campaign's offers, as a subquery to order and page (values may be `bindparam`s)."""
    statement = select(Offer).where(Offer.campaign_id == campaign_id)
    if status is not None:
        statement = statement.where(Offer.status == status)
    return statement.subquery("mine")


async def of_campaign_page(
    connection: AsyncConnection, campaign_id: int, status: OfferStatus | None, page: PageParams
) -> tuple[list[tuple[Any, ...]], int]:
    """A page of the campaign's offers (`list_columns`), newest first, and their total."""
    if status is None:
        return await _of_campaign(False).read(connection, page, campaign_id=campaign_id)
    return await _of_campaign(True).read(connection, page, campaign_id=campaign_id, status=status)


@functools.cache
def _of_campaign(with_status: bool) -> PagedRead:
    status = bindparam("status", type_=Offer.status.type) if with_status else None
    return listed(of_campaign(bindparam("campaign_id", type_=BigInteger()), status=status))


def listed(mine: Subquery) -> PagedRead:
    """Offers of `mine` newest first, each with what the API shows with it (`list_columns`)."""
    return PagedRead(select(mine).order_by(mine.c.id.desc()), list_columns(mine))


def list_columns(mine: Subquery) -> tuple[Any, ...]:
    """What a listed offer reads (`views.list_item`): the offer, its enums as their text, its
    campaign's summary and deadline, the deal it made and the version that countered it.

    The related rows are scalar subqueries, each an index lookup that PostgreSQL makes for the
    page's rows only (after the sort and limit); a join to campaigns was made for all the
    caller's offers it expected, a hash join over the whole campaigns table."""

    def of_campaign(column: Any) -> Any:
        return select(column).where(Campaign.id == mine.c.campaign_id).scalar_subquery()

    deal_id = select(Deal.id).where(Deal.offer_id == mine.c.id).limit(1).scalar_subquery()
    countered = aliased(Offer, name="countered")
    counter_id = (
        select(countered.id)
        .where(countered.previous_offer_id == mine.c.id)
        .order_by(countered.id)
        .limit(1)
        .scalar_subquery()
    )
    return (
        mine.c.id,
        mine.c.campaign_id,
        mine.c.channel_id,
        mine.c.publisher_id,
        mine.c.advertiser_id,
        mine.c.author_id,
        type_coerce(mine.c.direction, String()).label("direction"),
        type_coerce(mine.c.status, String()).label("status"),
        mine.c.amount_nano,
        type_coerce(mine.c.format, String()).label("format"),
        mine.c.proposed_at,
        mine.c.message,
        mine.c.version,
        mine.c.previous_offer_id,
        counter_id.label("counter_offer_id"),
        mine.c.expires_at,
        mine.c.decided_at,
        deal_id.label("deal_id"),
        of_campaign(Campaign.title).label("campaign_title"),
        of_campaign(type_coerce(Campaign.status, String())).label("campaign_status"),
        of_campaign(Campaign.deadline).label("campaign_deadline"),
        mine.c.created_at,
        mine.c.updated_at,
    )


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
