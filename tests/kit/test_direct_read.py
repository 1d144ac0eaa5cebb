"""kit.db.DirectRead: a statement compiled once, run straight on asyncpg on PostgreSQL and through
SQLAlchemy elsewhere; its rows are the tuples SQLAlchemy's own execution gives, on both."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import (
    Float,
    Integer,
    Numeric,
    String,
    bindparam,
    cast,
    event,
    func,
    literal,
    or_,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from chainfluence.formats import AdFormat
from chainfluence.kit.db import (
    DirectRead,
    create_sessionmaker,
    read_connection,
    statement_connection,
)
from chainfluence.kit.dialect import upsert_statement
from chainfluence.kit.time import UTC
from chainfluence.models import Channel, ChannelPrice, User

CREATED = dt.datetime(2026, 3, 1, 12, 30, 15, 250_000, tzinfo=UTC)
STATS_AT = dt.datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@pytest.fixture
async def channels(db: AsyncEngine) -> AsyncEngine:
    """Two listed channels: one with every figure and two prices, one with nulls and none."""
    async with create_sessionmaker(db)() as session:
        session.add(User(id=7, first_name="Owner", member_since=CREATED))
        await session.flush()
        session.add_all(
            [
                Channel(
                    id=-1001,
                    owner_id=7,
                    title="Crypto daily",
                    username="cryptodaily",
                    category="crypto",
                    subscribers=5000,
                    engagement_rate=12.5,
                    stats_updated_at=STATS_AT,
                    stats_sources={"subscribers": {"source": "bot_api"}},
                    is_verified=True,
                    is_active=True,
                    rating_sum=9,
                    rating_count=2,
                    created_at=CREATED,
                    updated_at=CREATED,
                ),
                Channel(
                    id=-1002,
                    owner_id=7,
                    title="Quiet one",
                    subscribers=10,
                    is_verified=True,
                    is_active=True,
                    rating_sum=0,
                    rating_count=0,
                    created_at=CREATED + dt.timedelta(days=1),
                    updated_at=CREATED + dt.timedelta(days=1),
                ),
            ]
        )
        await session.flush()
        session.add_all(
            [
                ChannelPrice(
                    channel_id=-1001, format=AdFormat.two_48, price_nano=3_500_000_000, enabled=True
                ),
                ChannelPrice(
                    channel_id=-1001,
                    format=AdFormat.one_24,
                    price_nano=2_000_000_000,
                    enabled=False,
                ),
            ]
        )
        await session.commit()
    return db


def _listing() -> Any:
    return (
        select(
            Channel.id,
            Channel.title,
            Channel.username,
            Channel.category,
            Channel.subscribers,
            Channel.engagement_rate,
            Channel.is_active,
            Channel.stats_updated_at,
            Channel.created_at,
            Channel.stats_sources,
            cast(Channel.subscribers, Numeric(20, 2)).label("subscribers_numeric"),
            cast(Channel.subscribers, Float).label("subscribers_float"),
        )
        .where(
            Channel.is_active,
            Channel.subscribers >= bindparam("min_subscribers"),
            # An optional filter in one shape: NULL means any category.
            or_(
                bindparam("category", type_=String).is_(None),
                Channel.category == bindparam("category", type_=String),
            ),
        )
        .order_by(Channel.id.desc())
        .limit(bindparam("limit"))
    )


async def _sqlalchemy_rows(engine: AsyncEngine, statement: Any, **params: Any) -> list[Any]:
    async with read_connection(engine) as connection:
        return [tuple(row) for row in (await connection.execute(statement, params)).all()]


async def test_rows_are_what_sqlalchemy_returns_for_every_type(channels: AsyncEngine) -> None:
    read = DirectRead(_listing())

    async with read_connection(channels) as connection:
        rows = await read.all(connection, min_subscribers=0, category=None, limit=10)

    assert rows == await _sqlalchemy_rows(
        channels, _listing(), min_subscribers=0, category=None, limit=10
    )
    full, empty = rows
    assert full[:7] == (-1001, "Crypto daily", "cryptodaily", "crypto", 5000, 12.5, True)
    assert (full[7], full[7].tzinfo) == (STATS_AT, UTC)
    assert (full[8], full[8].tzinfo) == (CREATED, UTC)
    assert full[9] == {"subscribers": {"source": "bot_api"}}
    assert full[10] == 5000
    assert isinstance(full[11], float)
    assert full[11] == 5000.0
    # NULL columns come back as None.
    assert empty[:7] == (-1002, "Quiet one", None, None, 10, None, True)
    assert (empty[7], empty[9]) == (None, None)


async def test_one_shape_serves_different_values(channels: AsyncEngine) -> None:
    read = DirectRead(_listing())

    async with read_connection(channels) as connection:
        big = await read.all(connection, min_subscribers=1000, category=None, limit=10)
        crypto = await read.all(connection, min_subscribers=0, category="crypto", limit=10)
        other = await read.all(connection, min_subscribers=0, category="gaming", limit=10)
        one = await read.all(connection, min_subscribers=0, category=None, limit=1)
        first = await read.first(connection, min_subscribers=10**9, category=None, limit=1)

    assert [row[0] for row in big] == [-1001]
    assert [row[0] for row in crypto] == [-1001]
    assert other == []
    assert [row[0] for row in one] == [-1001]
    assert first is None


async def test_listeners_for_statements_still_see_each_read(channels: AsyncEngine) -> None:
    read = DirectRead(_listing())
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(channels.sync_engine, "before_cursor_execute", record)
    try:
        async with read_connection(channels) as connection:
            rows = await read.all(connection, min_subscribers=0, category="crypto", limit=10)
    finally:
        event.remove(channels.sync_engine, "before_cursor_execute", record)

    assert [row[0] for row in rows] == [-1001]
    reads = [sql for sql in seen if sql.lstrip().upper().startswith("SELECT")]
    assert len(reads) == 1, seen
    assert "channels" in reads[0]


async def test_a_one_statement_write_runs_and_commits_on_its_own(channels: AsyncEngine) -> None:
    table = User.__table__
    defaults = {"is_premium": False, "is_publisher": False, "is_advertiser": False,
                "rating_sum": 0, "rating_count": 0}  # fmt: skip
    columns = ("id", "first_name", "member_since", "created_at", "updated_at", *defaults)

    def upsert(columns: tuple[str, ...]) -> DirectRead:
        return DirectRead(
            upsert_statement(
                channels.dialect.name,
                table,
                columns,
                index_elements=("id",),
                update=("first_name", "updated_at"),
            )
        )

    later = CREATED + dt.timedelta(days=1)
    first = {"member_since": CREATED, "created_at": CREATED, "updated_at": CREATED}
    again = {"member_since": later, "created_at": later, "updated_at": later}
    async with statement_connection(channels) as connection:
        await upsert(columns).execute(connection, id=8, first_name="New", **first, **defaults)
    async with statement_connection(channels) as connection:
        await upsert(columns).execute(connection, id=8, first_name="Renamed", **again, **defaults)
        if channels.dialect.driver == "asyncpg":
            # Without a value for each column with a Python default: refused, never NULLs sent.
            with pytest.raises(ValueError, match="column defaults"):
                await upsert(columns[:5]).execute(connection, id=9, first_name="No", **again)

    async with channels.connect() as connection:
        stored = (
            await connection.execute(
                select(table.c.first_name, table.c.member_since, table.c.updated_at).where(
                    table.c.id == 8
                )
            )
        ).one()
    assert tuple(stored) == ("Renamed", CREATED, later)


async def test_enums_json_aggregates_and_bound_datetimes_match_sqlalchemy(
    channels: AsyncEngine,
) -> None:
    prices = (
        select(ChannelPrice.format, ChannelPrice.price_nano, ChannelPrice.enabled)
        .join(Channel, Channel.id == ChannelPrice.channel_id)
        .where(
            Channel.created_at <= bindparam("before"),
            ChannelPrice.format != bindparam("excluded"),
        )
        .order_by(ChannelPrice.price_nano)
    )
    read = DirectRead(prices)
    params = {"before": CREATED.astimezone(dt.timezone(dt.timedelta(hours=3))), "excluded": None}

    async with read_connection(channels) as connection:
        rows = await read.all(connection, **params)
        none_excluded = await read.all(connection, before=CREATED, excluded=AdFormat.test)

    # `format != NULL` matches nothing, as in SQL; with a value both prices are there.
    assert rows == await _sqlalchemy_rows(channels, prices, **params) == []
    assert none_excluded == [
        (AdFormat.one_24, 2_000_000_000, False),
        (AdFormat.two_48, 3_500_000_000, True),
    ]
    assert none_excluded == await _sqlalchemy_rows(
        channels, prices, before=CREATED, excluded=AdFormat.test
    )
    assert isinstance(none_excluded[0][0], AdFormat)


async def test_a_json_column_without_a_type_is_decoded_by_the_driver_on_postgresql(
    channels: AsyncEngine,
) -> None:
    postgresql = channels.dialect.name == "postgresql"
    aggregate = func.json_agg if postgresql else func.json_group_array
    statement = select(
        select(aggregate(ChannelPrice.price_nano)).scalar_subquery(), literal(1).label("one")
    )
    read = DirectRead(statement)

    async with read_connection(channels) as connection:
        rows = await read.all(connection)

    assert rows == await _sqlalchemy_rows(channels, statement)
    (aggregated, one) = rows[0]
    assert one == 1
    if postgresql:
        assert sorted(aggregated) == [2_000_000_000, 3_500_000_000]
    else:
        assert isinstance(aggregated, str)


async def test_a_missing_parameter_is_refused(channels: AsyncEngine) -> None:
    read = DirectRead(_listing())

    async with read_connection(channels) as connection:
        with pytest.raises(Exception, match="min_subscribers"):
            await read.all(connection, category=None, limit=1)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # compiled for asyncpg
async def test_statements_with_expanding_parameters_are_refused(channels: AsyncEngine) -> None:
    read = DirectRead(select(Channel.id).where(Channel.id.in_(bindparam("ids", expanding=True))))

    async with read_connection(channels) as connection:
        with pytest.raises(ValueError, match="expanding"):
            await read.all(connection, ids=[-1001])


async def test_literal_execute_values_are_written_into_each_execution(
    channels: AsyncEngine,
) -> None:
    # One shape, a pattern and a LIMIT written into the SQL per execution (each its own
    # prepared statement on PostgreSQL), next to an ordinary bound value.
    read = DirectRead(
        select(Channel.id)
        .where(
            Channel.title.ilike(bindparam("pattern", literal_execute=True)),
            Channel.subscribers >= bindparam("min_subscribers"),
        )
        .order_by(Channel.id)
        .limit(bindparam("limit", type_=Integer, literal_execute=True))
    )

    async with read_connection(channels) as connection:
        crypto = await read.all(connection, pattern="%crypto%", min_subscribers=0, limit=10)
        quiet = await read.all(connection, pattern="%QUIET%", min_subscribers=0, limit=10)
        every = await read.all(connection, pattern="%", min_subscribers=0, limit=10)
        one = await read.all(connection, pattern="%", min_subscribers=0, limit=1)
        quote = await read.all(connection, pattern="%'; --%", min_subscribers=0, limit=10)
        big = await read.all(connection, pattern="%crypto%", min_subscribers=10**6, limit=10)

    assert [row[0] for row in crypto] == [-1001]
    assert [row[0] for row in quiet] == [-1002]
    assert [row[0] for row in every] == [-1002, -1001]
    assert [row[0] for row in one] == [-1002]
    assert quote == []
    assert big == []


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_connection_the_server_closed_is_invalidated(channels: AsyncEngine) -> None:
    read = DirectRead(select(text("1")))

    async with read_connection(channels) as connection:
        pid = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        async with read_connection(channels) as other:
            await other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        with pytest.raises(Exception):  # noqa: B017, PT011 - asyncpg's own, whichever it is
            await read.all(connection)
        assert connection.invalidated

    async with read_connection(channels) as connection:
        assert await read.all(connection) == [(1,)]
