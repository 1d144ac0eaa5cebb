"""The public catalogue query: filters and sorts for `GET /v1/channels`.

Only active, verified channels (the partial indexes cover exactly those rows).

Price and CPM: with `format`, a channel must offer that format (enabled) and `price`/`cpm` are
that format's; without it they are the cheapest enabled format's (`channels.min_price_nano` and
its CPM). CPM = price × 1000 / average views (nanotons per thousand views), kept up to date in
stored columns whenever prices or average views change; it is unknown (null, sorted last) while
a channel's average views are. ER is average views / subscribers in percent. Trust is the
stored trust score (`channels.trust`, null while unknown and sorted last), indexed with `id`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from typing import Annotated, Any

from fastapi import Query
from sqlalchemy import Float, Select, and_, bindparam, func, not_, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import aliased

from chainfluence.categories import Category, CategoryIn
from chainfluence.channels import repository
from chainfluence.channels.schemas import CatalogueSort
from chainfluence.formats import AdFormat
from chainfluence.kit.db import DirectRead
from chainfluence.kit.dialect import contains_pattern, contains_text, pattern_param
from chainfluence.kit.money import TonAmount
from chainfluence.kit.pagination import PageParams, count_query, read_page, written_page
from chainfluence.kit.schemas import Count, QueryText
from chainfluence.kit.totals import Totals, bump_on_writes, kept_total
from chainfluence.models import Channel, ChannelPrice
from chainfluence.models.channels import RATING


@dataclass(frozen=True, slots=True)
class Filters:
    q: str | None = None
    category: Category | None = None
    language: str | None = None
    min_subscribers: int | None = None
    max_subscribers: int | None = None
    min_avg_views: int | None = None
    min_er: float | None = None
    format: AdFormat | None = None
    min_price_nano: int | None = None
    max_price_nano: int | None = None
    min_rating: float | None = None
    min_trust: int | None = None
    sort: CatalogueSort = CatalogueSort.subscribers_desc


async def filters(
    q: Annotated[
        QueryText | None,
        Query(max_length=100, description="Substring of title, @username or description"),
    ] = None,
    category: Annotated[
        CategoryIn | None, Query(description="Any case: `crypto` = `Crypto`")
    ] = None,
    language: Annotated[QueryText | None, Query(max_length=8)] = None,
    min_subscribers: Annotated[Count | None, Query(alias="minSubscribers")] = None,
    max_subscribers: Annotated[Count | None, Query(alias="maxSubscribers")] = None,
    min_avg_views: Annotated[Count | None, Query(alias="minAvgViews")] = None,
    min_er: Annotated[
        float | None,
        Query(
            alias="minEr",
            ge=0,
            le=100_000,
            allow_inf_nan=False,
            description="Percent: 10 = average views at least 10 % of subscribers",
        ),
    ] = None,
    format: Annotated[
        AdFormat | None, Query(description="Offers this format; price and CPM are its own")
    ] = None,
    min_price: Annotated[TonAmount | None, Query(alias="minPrice", description="TON")] = None,
    max_price: Annotated[TonAmount | None, Query(alias="maxPrice", description="TON")] = None,
    min_rating: Annotated[
        float | None, Query(alias="minRating", ge=0, le=5, allow_inf_nan=False)
    ] = None,
    min_trust: Annotated[
        int | None,
        Query(
            alias="minTrust",
            ge=0,
            le=100,
            description="Trust score at least this (0-100); channels without one are left out",
        ),
    ] = None,
    sort: Annotated[CatalogueSort, Query(description="Prefix - for descending")] = (
        CatalogueSort.subscribers_desc
    ),
) -> Filters:
    text = q.strip() if q else None
    return Filters(
        q=text or None,
        category=category,
        language=language.strip().lower() if language else None,
        min_subscribers=min_subscribers,
        max_subscribers=max_subscribers,
        min_avg_views=min_avg_views,
        min_er=min_er,
        format=format,
        min_price_nano=min_price,
        max_price_nano=max_price,
        min_rating=min_rating,
        min_trust=min_trust,
        sort=sort,
    )


def statement(f: Filters) -> Select[Any]:
    """The catalogue's channels for `f`, in its order (its shape's statement, `f`'s values)."""
    values = _values(f)
    return _shaped(frozenset(values), f.sort, _searched(f)).params(values)


def _values(f: Filters) -> dict[str, Any]:
    """The bind parameters of the filters `f` sets. Their names and the sort are the statement's
    shape: one statement per shape (`_shaped`) serves every request of that shape."""
    values: dict[str, Any] = {
        "q": contains_pattern(f.q) if f.q else None,
        "q_username": contains_pattern(f.q.removeprefix("@")) if f.q else None,
        "category": f.category.value if f.category is not None else None,
        "language": f.language or None,
        "min_subscribers": f.min_subscribers,
        "max_subscribers": f.max_subscribers,
        "min_avg_views": f.min_avg_views,
        "min_er": f.min_er,
        "format": f.format,
        "min_price_nano": f.min_price_nano,
        "max_price_nano": f.max_price_nano,
        "min_rating": f.min_rating,
        "min_trust": f.min_trust,
    }
    return {name: value for name, value in values.items() if value is not None}


async def listing(
    connection: AsyncConnection, totals: Totals | None, f: Filters, page: PageParams
) -> tuple[list[tuple[Any, ...]], int]:
    """One page of the catalogue for `f` (rows of `repository.LIST_COLUMNS` followed by
    `repository.prices_json`, for `service.list_item`) and its total (see `total`)."""
    read, values = page_read(f, connection.dialect.name)
    return await read_page(connection, read, page, values, lambda: total(connection, totals, f))


async def page(connection: AsyncConnection, f: Filters, page: PageParams) -> list[tuple[Any, ...]]:
    """The rows of `listing`'s page, without its total."""
    read, values = page_read(f, connection.dialect.name)
    return await read.all(connection, **values, limit=page.limit, offset=page.offset)


def page_read(f: Filters, dialect: str) -> tuple[DirectRead, dict[str, Any]]:
    """The read of a page of `f`'s shape (run with `limit` and `offset`) and `f`'s values."""
    values = _values(f)
    return _page_read(frozenset(values), f.sort, dialect, _searched(f)), values


@functools.lru_cache(maxsize=512)
def _page_read(
    names: frozenset[str], sort: CatalogueSort, dialect: str, searched: bool
) -> DirectRead:
    columns = page_columns(dialect)
    return DirectRead(written_page(_shaped(names, sort, searched).with_only_columns(*columns)))


def page_columns(dialect: str) -> tuple[Any, ...]:
    """What a catalogue page selects: the list's columns and the channel's prices as JSON."""
    return (*repository.LIST_COLUMNS, repository.prices_json(dialect))


@functools.lru_cache(maxsize=512)
def _count_read(names: frozenset[str]) -> DirectRead:
    if "format" in names and names <= _PRICE_FILTERS:
        return DirectRead(_price_count(names))
    return DirectRead(count_query(_shaped(names, CatalogueSort.subscribers_desc)))


# Filters that read a format's price row alone.
_PRICE_FILTERS = frozenset({"format", "min_price_nano", "max_price_nano"})


def _price_count(names: frozenset[str]) -> Select[Any]:
    """The count of a shape that filters a format's prices only: its enabled prices in range,
    less those of channels out of the catalogue. The same number as joining the listed channels
    (every price has its channel), but read from the price index and the small index of unlisted
    channels instead of every listed channel's id (at 1,000,000 channels a join of 950,000)."""
    unlisted = select(Channel.id).where(
        Channel.id == ChannelPrice.channel_id,
        # The predicate of the index of unlisted channels (models/channels.py UNLISTED_SQL).
        not_(and_(Channel.is_active, Channel.is_verified)),
    )
    query = (
        select(func.count())
        .select_from(ChannelPrice)
        .where(
            ChannelPrice.format == bindparam("format"),
            ChannelPrice.enabled,
            ~unlisted.exists(),
        )
    )
    if "min_price_nano" in names:
        query = query.where(ChannelPrice.price_nano >= bindparam("min_price_nano"))
    if "max_price_nano" in names:
        query = query.where(ChannelPrice.price_nano <= bindparam("max_price_nano"))
    return query


@functools.lru_cache(maxsize=512)
def _shaped(names: frozenset[str], sort: CatalogueSort, searched: bool = False) -> Select[Any]:
    """The statement of a shape: the filters named, each with its bind parameter."""
    query = select(Channel).where(Channel.is_active, Channel.is_verified)
    if "format" in names:
        price_row = aliased(ChannelPrice)
        query = query.join(
            price_row,
            and_(
                price_row.channel_id == Channel.id,
                price_row.format == bindparam("format"),
                # Plain `enabled`, the partial indexes' predicate: PostgreSQL does not match
                # `enabled IS true` to them.
                price_row.enabled,
            ),
        )
        price: Any = price_row.price_nano
        cpm: Any = price_row.cpm_nano
        tie: Any = price_row.channel_id
    else:
        price, cpm, tie = Channel.min_price_nano, Channel.min_price_cpm_nano, Channel.id
    if "q" in names:
        query = query.where(
            or_(
                contains_text(Channel.title, pattern_param("q")),
                contains_text(Channel.username, pattern_param("q_username")),
                contains_text(Channel.description, pattern_param("q")),
            )
        )
    if "category" in names:
        query = query.where(Channel.category == bindparam("category"))
    if "language" in names:
        query = query.where(Channel.language == bindparam("language"))
    if "min_subscribers" in names:
        query = query.where(Channel.subscribers >= bindparam("min_subscribers"))
    if "max_subscribers" in names:
        query = query.where(Channel.subscribers <= bindparam("max_subscribers"))
    if "min_avg_views" in names:
        query = query.where(Channel.avg_views >= bindparam("min_avg_views"))
    if "min_er" in names:
        query = query.where(Channel.engagement_rate >= bindparam("min_er"))
    if "min_price_nano" in names:
        query = query.where(price >= bindparam("min_price_nano"))
    if "max_price_nano" in names:
        query = query.where(price <= bindparam("max_price_nano"))
    if "min_rating" in names:
        # The rating sorts' own expression (null while unrated, which no bound passes), so the
        # rating indexes serve the filter (a range of them) and their statistics estimate it.
        query = query.where(RATING >= bindparam("min_rating", type_=Float))  # noqa: SIM300
    if "min_trust" in names:
        query = query.where(Channel.trust_score >= bindparam("min_trust"))
    return query.order_by(*_order(sort, price=price, cpm=cpm, tie=tie, searched=searched))


def _searched(f: Filters) -> bool:
    """`f` searches for text the trigram indexes can find (three characters or more)."""
    return f.q is not None and len(f.q) >= 3


def _order(sort: CatalogueSort, *, price: Any, cpm: Any, tie: Any, searched: bool) -> list[Any]:
    descending = sort.value.startswith("-")
    key = sort.value.removeprefix("-")
    columns: dict[str, Any] = {
        "subscribers": Channel.subscribers,
        "avgViews": Channel.avg_views,
        "er": Channel.engagement_rate,
        "price": price,
        "cpm": cpm,
        "rating": RATING,
        "trust": Channel.trust_score,
        "createdAt": Channel.created_at,
    }
    column = columns[key]
    if searched:
        # Ordered by an expression no index has (coalesce(x, x) is x): a search reads its
        # matches through the trigram indexes and sorts them. Otherwise PostgreSQL may walk the
        # sort's index filtering the text, on an estimate of the matches taken from a sample of
        # 100 titles (0 or 1 %): q=market, 153 matches, 247 ms that way against 0.8 ms.
        column = func.coalesce(column, column)
    if key in ("subscribers", "createdAt"):
        # Never null for a listed channel: plain ASC/DESC, which the (value, id) indexes serve
        # in either direction.
        return [column.desc(), tie.desc()] if descending else [column.asc(), tie.asc()]
    # Unknown figures go last either way.
    ordered = column.desc().nulls_last() if descending else column.asc().nulls_last()
    return [ordered, tie.desc() if descending else tie.asc()]


# --- X-Total-Count ------------------------------------------------------------------------------
# Counting every listed channel a filter matches is the costly part of a page (~30 ms of an
# index-only join over 100,000 channels, against ~1 ms for the page itself). A total is exact
# without counting when the page is not full; otherwise it is kept per filter in `Totals`
# (kit/totals.py) until a commit changes what it counts, which bumps its scope's version:
# - the unfiltered catalogue counts listed channels: only a channel listed, unlisted, added or
#   removed changes it (LISTED_SCOPE), not the stats and figures written all day long;
# - a format's price range (`_price_count`) reads that and the prices' format, state and price;
# - every other filter reads more of a channel: any write to a channel or a price.

TOTALS_SCOPE = "catalogue"
LISTED_SCOPE = "catalogue.listed"
PRICES_SCOPE = "catalogue.prices"
_LISTED_COLUMNS = ("is_active", "is_verified")
_PRICE_COLUMNS = ("channel_id", "format", "enabled", "price_nano")


async def total(connection: AsyncConnection, totals: Totals | None, f: Filters) -> int:
    """How many listed channels `f` matches (its sort aside): kept, or counted and kept."""
    values = _values(f)
    names = frozenset(values)

    async def count() -> int:
        row = await _count_read(names).first(connection, **values)
        assert row is not None
        return int(row[0])

    key = repr(replace(f, sort=CatalogueSort.subscribers_desc))
    return await kept_total(totals, _scope(names), key, count)


def _scope(names: frozenset[str]) -> str:
    if not names:
        return LISTED_SCOPE
    if "format" in names and names <= _PRICE_FILTERS:
        return PRICES_SCOPE
    return TOTALS_SCOPE


def install() -> None:
    """Bump the catalogue's totals on every commit that writes what they count (idempotent; the
    wiring calls it)."""
    bump_on_writes(TOTALS_SCOPE, Channel.__tablename__, ChannelPrice.__tablename__)
    bump_on_writes(LISTED_SCOPE, Channel.__tablename__, columns=_LISTED_COLUMNS)
    bump_on_writes(PRICES_SCOPE, Channel.__tablename__, columns=_LISTED_COLUMNS)
    bump_on_writes(PRICES_SCOPE, ChannelPrice.__tablename__, columns=_PRICE_COLUMNS)
