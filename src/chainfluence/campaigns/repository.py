"""Campaign queries: lookups, the public list, counts, and matching against channels."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    SQLColumnExpression,
    String,
    and_,
    bindparam,
    case,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from chainfluence.campaigns.schemas import CampaignSort
from chainfluence.deals.repository import PUBLISHED_STATUSES
from chainfluence.formats import AdFormat
from chainfluence.kit.db import DirectRead
from chainfluence.kit.dialect import (
    contains_pattern,
    contains_text,
    json_array_contains,
    json_array_is_empty,
    pattern_param,
)
from chainfluence.kit.pagination import (
    PagedRead,
    PageParams,
    count_query,
    read_page,
    written_page,
)
from chainfluence.kit.totals import Totals, bump_on_writes, kept_total
from chainfluence.models import (
    Campaign,
    CampaignStatus,
    Channel,
    ChannelPrice,
    Deal,
    DealStatus,
    Offer,
    OfferStatus,
    Upload,
)

_ADVERTISER_OF = DirectRead(
    select(Campaign.advertiser_id).where(
        Campaign.id == bindparam("campaign_id", type_=BigInteger()), Campaign.deleted_at.is_(None)
    )
)


async def advertiser_of(connection: AsyncConnection, campaign_id: int) -> int | None:
    """Whose campaign it is, for a campaign that is not deleted (`get`, as a `DirectRead`)."""
    row = await _ADVERTISER_OF.first(connection, campaign_id=campaign_id)
    return int(row[0]) if row is not None else None


async def get(session: AsyncSession, campaign_id: int) -> Campaign | None:
    """A campaign that is not deleted."""
    campaign = await session.get(Campaign, campaign_id)
    return campaign if campaign is not None and campaign.deleted_at is None else None


async def get_for_update(
    session: AsyncSession, campaign_id: int, *, include_deleted: bool = False
) -> Campaign | None:
    """The campaign, row-locked and re-read (deleted ones only when asked: offers on them)."""
    statement = (
        select(Campaign)
        .where(Campaign.id == campaign_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if not include_deleted:
        statement = statement.where(Campaign.deleted_at.is_(None))
    return (await session.execute(statement)).scalar_one_or_none()


async def committed_nano(session: AsyncSession, campaign_id: int) -> int:
    """What the campaign's deals cost, except deals that ended without the money being spent."""
    statement = select(func.coalesce(func.sum(Deal.price_nano), 0)).where(
        Deal.campaign_id == campaign_id,
        Deal.status.not_in([DealStatus.cancelled, DealStatus.refunded]),
    )
    return int((await session.execute(statement)).scalar_one())


async def get_many(session: AsyncSession, ids: Collection[int]) -> dict[int, Campaign]:
    """Campaigns by id, deleted ones included (offers keep pointing at them)."""
    if not ids:
        return {}
    statement = select(Campaign).where(Campaign.id.in_(list(ids)))
    return {c.id: c for c in (await session.execute(statement)).scalars()}


@dataclass(frozen=True, slots=True)
class ListFilters:
    status: CampaignStatus = CampaignStatus.active
    q: str | None = None
    category: str | None = None
    format: AdFormat | None = None
    min_budget_nano: int | None = None
    max_budget_nano: int | None = None
    advertiser_id: int | None = None
    sort: CampaignSort = CampaignSort.created_at_desc


_SORT_COLUMNS = {
    "createdAt": Campaign.created_at,
    "budget": Campaign.budget_nano,
    "deadline": Campaign.deadline,
}


def accepts_format(dialect: str, fmt: AdFormat | SQLColumnExpression[str]) -> ColumnElement[bool]:
    """The campaign takes `fmt`: it lists it, or it states no preference."""
    return or_(
        json_array_is_empty(dialect, Campaign.preferred_formats),
        json_array_contains(dialect, Campaign.preferred_formats, fmt),
    )


def public_list(dialect: str, filters: ListFilters, *, today: dt.date) -> Select[Campaign]:
    """The campaigns the public list holds for `filters`, in its order, values bound."""
    return public_list_shape(dialect, list_shape(filters)).params(list_params(filters, today=today))


# The public list is built once per *shape* (which filters are present, and the sort) with a
# bind parameter for every value, so one statement (and its cache key, and its compilation)
# serves every request of that shape: building and keying a fresh statement per request cost
# the API more CPU than PostgreSQL spent running it. `list_params` gives the values.
@dataclass(frozen=True, slots=True)
class ListShape:
    active: bool
    q: bool
    category: bool
    format: bool
    min_budget: bool
    max_budget: bool
    advertiser: bool
    sort: CampaignSort


def list_shape(filters: ListFilters) -> ListShape:
    return ListShape(
        active=filters.status is CampaignStatus.active,
        q=filters.q is not None,
        category=filters.category is not None,
        format=filters.format is not None,
        min_budget=filters.min_budget_nano is not None,
        max_budget=filters.max_budget_nano is not None,
        advertiser=filters.advertiser_id is not None,
        sort=filters.sort,
    )


def list_params(filters: ListFilters, *, today: dt.date) -> dict[str, Any]:
    """The bind values of `public_list_shape(dialect, list_shape(filters))`."""
    params: dict[str, Any] = {"status": filters.status}
    if filters.status is CampaignStatus.active:
        params["today"] = today
    if filters.q is not None:
        params["q"] = contains_pattern(filters.q)
    if filters.category is not None:
        params["category"] = filters.category
    if filters.format is not None:
        params["format"] = filters.format.value
    if filters.min_budget_nano is not None:
        params["min_budget"] = filters.min_budget_nano
    if filters.max_budget_nano is not None:
        params["max_budget"] = filters.max_budget_nano
    if filters.advertiser_id is not None:
        params["advertiser_id"] = filters.advertiser_id
    return params


@functools.lru_cache(maxsize=512)
def public_list_shape(dialect: str, shape: ListShape) -> Select[Campaign]:
    """The public list of one shape, every value a bind parameter (see `list_params`)."""
    # The status is written into the SQL (a handful of values): with it and the page's LIMIT
    # known, PostgreSQL's generic plan of a page is as cheap as a custom one, so a prepared
    # page is not planned again on every run.
    statement = select(Campaign).where(
        Campaign.deleted_at.is_(None),
        Campaign.status == bindparam("status", literal_execute=True),
    )
    if shape.active:
        # Past its last day an active campaign takes no offers, so it is not advertised.
        statement = statement.where(
            or_(Campaign.deadline.is_(None), Campaign.deadline >= bindparam("today"))
        )
    if shape.q:
        pattern = pattern_param("q")
        statement = statement.where(
            or_(
                contains_text(Campaign.title, pattern),
                contains_text(Campaign.description, pattern),
            )
        )
    if shape.category:
        statement = statement.where(Campaign.category == bindparam("category"))
    if shape.format:
        statement = statement.where(accepts_format(dialect, bindparam("format", type_=String())))
    if shape.min_budget:
        statement = statement.where(Campaign.budget_nano >= bindparam("min_budget"))
    if shape.max_budget:
        statement = statement.where(Campaign.budget_nano <= bindparam("max_budget"))
    if shape.advertiser:
        statement = statement.where(Campaign.advertiser_id == bindparam("advertiser_id"))
    descending = shape.sort.value.startswith("-")
    column = _SORT_COLUMNS[shape.sort.value.lstrip("-")]
    order = column.desc() if descending else column.asc()
    if column is Campaign.deadline:
        order = order.nulls_last()
    # The id breaks ties so that pages never overlap or skip rows.
    return statement.order_by(order, Campaign.id.desc() if descending else Campaign.id.asc())


@functools.lru_cache(maxsize=512)
def public_page(dialect: str, shape: ListShape) -> DirectRead:
    """A page of the public list (`LIST_COLUMNS`), run with `list_params` and `limit` and
    `offset`. The limit and offset are written into the SQL, as the pattern of a search is:
    PostgreSQL then keeps one plan per page size and position (bound, it planned every run)."""
    statement = public_list_shape(dialect, shape).with_only_columns(*LIST_COLUMNS)
    return DirectRead(written_page(statement))


# --- X-Total-Count of the public list -----------------------------------------------------------
# Counting every campaign a filter matches costs more than the page itself, whose rows come
# from an index. Its total is exact without counting when the page is not full (kit/totals.py's
# `total_on_page`); otherwise it is kept per filter until a commit writes a campaign, which bumps
# the list's version. Only the campaigns table decides which rows the list holds (the offer and
# deal counts are columns of a row, not filters), and the date is part of the key while the
# list leaves out active campaigns past their deadline.

TOTALS_SCOPE = "campaigns"


@functools.lru_cache(maxsize=512)
def _public_count(dialect: str, shape: ListShape) -> DirectRead:
    return DirectRead(count_query(public_list_shape(dialect, shape)))


async def public_total(
    connection: AsyncConnection,
    totals: Totals | None,
    dialect: str,
    filters: ListFilters,
    *,
    today: dt.date,
) -> int:
    """How many campaigns the public list holds for `filters` (its sort aside)."""

    async def count() -> int:
        shape = replace(list_shape(filters), sort=CampaignSort.created_at_desc)
        row = await _public_count(dialect, shape).first(
            connection, **list_params(filters, today=today)
        )
        assert row is not None
        return int(row[0])

    key = repr(replace(filters, sort=CampaignSort.created_at_desc))
    if filters.status is CampaignStatus.active:
        key += f" {today.isoformat()}"
    return await kept_total(totals, TOTALS_SCOPE, key, count)


def install() -> None:
    """Bump the public list's totals on every commit that writes a campaign (idempotent; the
    wiring calls it)."""
    bump_on_writes(TOTALS_SCOPE, Campaign.__tablename__)


async def owned_page(
    connection: AsyncConnection, user_id: int, status: CampaignStatus | None, page: PageParams
) -> tuple[list[tuple[Any, ...]], int]:
    """A page of the advertiser's own campaigns (`LIST_COLUMNS`), newest first, and their total."""
    if status is None:
        return await _owned(False).read(connection, page, user_id=user_id)
    return await _owned(True).read(connection, page, user_id=user_id, status=status)


@functools.cache
def _owned(with_status: bool) -> PagedRead:
    statement = select(Campaign).where(
        Campaign.advertiser_id == bindparam("user_id"), Campaign.deleted_at.is_(None)
    )
    if with_status:
        statement = statement.where(Campaign.status == bindparam("status"))
    return PagedRead(statement.order_by(Campaign.id.desc()), LIST_COLUMNS)


# A fixed list of bound values rather than an expanding IN: the statement compiles once and
# needs no per-execution rendering of the list.
_PUBLISHED = [literal(status, Deal.status.type) for status in sorted(PUBLISHED_STATUSES)]

# What a campaign list reads (and answers): the campaign's columns and its three counts, each a
# subquery on the row, so a page and its total come back in one statement.
LIST_COLUMNS: tuple[Any, ...] = (
    Campaign.id,
    Campaign.advertiser_id,
    Campaign.title,
    Campaign.description,
    Campaign.category,
    # The status as its text: no enum conversion per row (the wire wants the text anyway).
    type_coerce(Campaign.status, String()).label("status"),
    Campaign.budget_nano,
    Campaign.total_budget_nano,
    Campaign.creative_text,
    Campaign.content_guidelines,
    Campaign.creative_images,
    Campaign.preferred_formats,
    Campaign.min_subscribers,
    Campaign.min_engagement,
    Campaign.preferred_categories,
    Campaign.deadline,
    select(func.count())
    .where(Offer.campaign_id == Campaign.id, Offer.status != OfferStatus.countered)
    .scalar_subquery()
    .label("offer_count"),
    select(func.count()).where(Deal.campaign_id == Campaign.id).scalar_subquery().label("accepted"),
    select(func.count())
    .where(Deal.campaign_id == Campaign.id, Deal.status.in_(_PUBLISHED))
    .scalar_subquery()
    .label("live"),
    Campaign.created_at,
    Campaign.updated_at,
)


@dataclass(frozen=True, slots=True)
class Counts:
    offers: int = 0
    accepted: int = 0
    live: int = 0


async def counts(session: AsyncSession, campaign_ids: Collection[int]) -> dict[int, Counts]:
    """Offer and deal counts per campaign, in two grouped queries for a whole page."""
    if not campaign_ids:
        return {}
    ids = list(campaign_ids)
    offers = dict(
        (
            await session.execute(
                select(Offer.campaign_id, func.count())
                .where(Offer.campaign_id.in_(ids), Offer.status != OfferStatus.countered)
                .group_by(Offer.campaign_id)
            )
        ).all()
    )
    published = case((Deal.status.in_(list(PUBLISHED_STATUSES)), 1), else_=0)
    deals = {
        campaign_id: (int(total), int(live or 0))
        for campaign_id, total, live in (
            await session.execute(
                select(Deal.campaign_id, func.count(), func.sum(published))
                .where(Deal.campaign_id.in_(ids))
                .group_by(Deal.campaign_id)
            )
        ).all()
    }
    return {
        campaign_id: Counts(
            offers=int(offers.get(campaign_id, 0)),
            accepted=deals.get(campaign_id, (0, 0))[0],
            live=deals.get(campaign_id, (0, 0))[1],
        )
        for campaign_id in ids
    }


async def owned_upload_ids(session: AsyncSession, owner_id: int, ids: Collection[str]) -> set[str]:
    if not ids:
        return set()
    statement = select(Upload.id).where(Upload.owner_id == owner_id, Upload.id.in_(list(ids)))
    return set((await session.execute(statement)).scalars())


def matching_channels(campaign: Campaign) -> Select[Channel]:
    """Active, verified channels that fit the campaign's targeting, best (largest) first.

    Unknown stats never pass a threshold: a null subscriber count is not "enough subscribers".
    """
    statement = select(Channel).where(
        Channel.is_active.is_(True),
        Channel.is_verified.is_(True),
        Channel.deleted_at.is_(None),
        Channel.owner_id != campaign.advertiser_id,
    )
    categories = target_categories(campaign)
    if categories:
        statement = statement.where(Channel.category.in_(categories))
    if campaign.min_subscribers:
        statement = statement.where(Channel.subscribers >= campaign.min_subscribers)
    if campaign.min_engagement:
        statement = statement.where(Channel.engagement_rate >= campaign.min_engagement)
    price = select(ChannelPrice.channel_id).where(
        ChannelPrice.channel_id == Channel.id, ChannelPrice.enabled.is_(True)
    )
    if campaign.preferred_formats:
        price = price.where(ChannelPrice.format.in_(campaign.preferred_formats))
    if campaign.budget_nano > 0:
        price = price.where(ChannelPrice.price_nano <= campaign.budget_nano)
    statement = statement.where(exists(price))
    return statement.order_by(
        Channel.subscribers.desc().nulls_last(),
        Channel.engagement_rate.desc().nulls_last(),
        Channel.id,
    )


def target_categories(campaign: Campaign) -> list[str]:
    """The channel categories a campaign wants: its preferred ones, else its own, else any."""
    if campaign.preferred_categories:
        return list(campaign.preferred_categories)
    return [campaign.category] if campaign.category else []


async def matching_page(
    connection: AsyncConnection,
    totals: Totals | None,
    channel: MatchedChannel,
    page: PageParams,
    *,
    today: dt.date,
) -> tuple[list[tuple[Any, ...]], int]:
    """A page of the active campaigns `channel` fits (`LIST_COLUMNS`), largest budget first
    (the mirror of `matching_channels`), and their total.

    The total is kept between writes as the public list's is (`public_total`): counting the
    matches reads every active campaign (~45 ms at 50,000), the page a few hundred rows of the
    budget index (~1 ms). Only the campaigns table decides which campaigns match; the
    channel's figures and prices and the date are all in the key (its bind values)."""
    prices = [(fmt, price) for fmt, price, enabled in channel.prices if enabled]
    values: dict[str, Any] = {
        "today": today,
        "owner_id": channel.owner_id,
        "category": channel.category,
        "subscribers": channel.subscribers,
        "engagement": channel.engagement_rate,
    }
    for i, (fmt, price) in enumerate(prices):
        values[f"format_{i}"] = fmt
        values[f"price_{i}"] = price
    # An unknown figure is a shape of its own (no bind parameter), not a NULL bound.
    params = {name: value for name, value in values.items() if value is not None}
    shape = MatchShape(
        category="category" in params,
        subscribers="subscribers" in params,
        engagement="engagement" in params,
        prices=len(prices),
    )
    read = _matching(connection.dialect.name, shape)
    key = f"matching {sorted(params.items())!r}"
    return await read_page(
        connection,
        read.page,
        page,
        params,
        lambda: kept_total(totals, TOTALS_SCOPE, key, lambda: read.count(connection, **params)),
    )


@dataclass(frozen=True, slots=True)
class MatchedChannel:
    """What matching reads of a channel: its owner, audience and prices (format, price in
    nanotons, enabled)."""

    owner_id: int
    category: str | None
    subscribers: int | None
    engagement_rate: float | None
    prices: Sequence[tuple[str, int, bool]]


# Matching is built once per *shape* (which of the channel's figures are known, how many prices
# it has enabled), its values bound, as the public list is (`ListShape`).
@dataclass(frozen=True, slots=True)
class MatchShape:
    category: bool
    subscribers: bool
    engagement: bool
    prices: int


@functools.lru_cache(maxsize=256)
def _matching(dialect: str, shape: MatchShape) -> PagedRead:
    statement = select(Campaign).where(
        Campaign.deleted_at.is_(None),
        Campaign.status == CampaignStatus.active,
        or_(Campaign.deadline.is_(None), Campaign.deadline >= bindparam("today")),
        Campaign.advertiser_id != bindparam("owner_id"),
    )
    no_preference = json_array_is_empty(dialect, Campaign.preferred_categories)
    untargeted = and_(no_preference, Campaign.category.is_(None))
    if not shape.category:
        statement = statement.where(untargeted)
    else:
        category = bindparam("category", type_=String())
        statement = statement.where(
            or_(
                untargeted,
                and_(no_preference, Campaign.category == category),
                json_array_contains(dialect, Campaign.preferred_categories, category),
            )
        )
    statement = statement.where(
        _meets(Campaign.min_subscribers, bindparam("subscribers") if shape.subscribers else None),
        _meets(Campaign.min_engagement, bindparam("engagement") if shape.engagement else None),
    )
    offered = [
        and_(
            accepts_format(dialect, bindparam(f"format_{i}", type_=String())),
            or_(Campaign.budget_nano == 0, Campaign.budget_nano >= bindparam(f"price_{i}")),
        )
        for i in range(shape.prices)
    ]
    statement = statement.where(or_(*offered) if offered else false())
    return PagedRead(
        statement.order_by(Campaign.budget_nano.desc(), Campaign.id.desc()), LIST_COLUMNS
    )


def _meets(threshold: SQLColumnExpression[Any], value: Any) -> ColumnElement[bool]:
    no_threshold = or_(threshold.is_(None), threshold == 0)
    return no_threshold if value is None else or_(no_threshold, threshold <= value)


async def prices_of(
    session: AsyncSession, channel_ids: Collection[int]
) -> dict[int, list[ChannelPrice]]:
    if not channel_ids:
        return {}
    statement = (
        select(ChannelPrice)
        .where(ChannelPrice.channel_id.in_(list(channel_ids)))
        .order_by(ChannelPrice.channel_id, ChannelPrice.price_nano)
    )
    result: dict[int, list[ChannelPrice]] = {}
    for price in (await session.execute(statement)).scalars():
        result.setdefault(price.channel_id, []).append(price)
    return result


async def ending_on(
    session: AsyncSession, day: dt.date, *, limit: int, skip_locked: bool
) -> Sequence[Campaign]:
    """Open campaigns whose last day is `day` and whose owner was not told yet, locked."""
    statement = (
        select(Campaign)
        .where(
            Campaign.deadline == day,
            Campaign.ending_notified_at.is_(None),
            Campaign.deleted_at.is_(None),
            Campaign.status.in_([CampaignStatus.active, CampaignStatus.paused]),
        )
        .order_by(Campaign.id)
        .limit(limit)
        .with_for_update(skip_locked=skip_locked)
    )
    return (await session.execute(statement)).scalars().all()
