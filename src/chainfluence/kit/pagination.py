"""List pagination: `limit` (default 50, max 200), `offset`, the total in `X-Total-Count`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import orjson
from fastapi import Depends, Query, Response
from sqlalchemy import Integer, Select, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from chainfluence.kit.db import DirectRead

TOTAL_COUNT_HEADER = "X-Total-Count"
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PageParams:
    limit: int
    offset: int


def total_on_page(rows: int, page: PageParams) -> int | None:
    """The total a page proves by itself: a short page that is not past the end."""
    if rows < page.limit and (rows or page.offset == 0):
        return page.offset + rows
    return None


async def _page_params(
    limit: Annotated[int, Query(ge=1, le=200, description="Items per page")] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000, description="Items to skip")] = 0,
) -> PageParams:
    return PageParams(limit=limit, offset=offset)


Page = Annotated[PageParams, Depends(_page_params)]


def count_query(statement: Select[Any]) -> Select[int]:
    """How many rows `statement` yields, whatever its order and loader options."""
    return select(func.count()).select_from(statement.order_by(None).options().subquery())


def written_page(statement: Select[Any]) -> Select[Any]:
    """`statement` limited by the bind parameters `limit` and `offset`, written into the SQL at
    each execution (for a `DirectRead` shape, run with `limit=` and `offset=`).

    Bound, they leave PostgreSQL's plan cache no generic plan it would use (it prices an unknown
    LIMIT at a tenth of the rows), so each run of a page's prepared statement is planned again.
    Written in, a page that runs often gets its generic plan after five runs and is not planned
    any more (catalogue default at 100k channels: database CPU 727 -> 431 us/request).
    """
    limit = bindparam("limit", type_=Integer(), literal_execute=True)
    offset = bindparam("offset", type_=Integer(), literal_execute=True)
    return statement.limit(limit).offset(offset)


async def read_page(
    connection: AsyncConnection,
    read: DirectRead,
    page: PageParams,
    params: Mapping[str, Any],
    count: Callable[[], Awaitable[int]],
) -> tuple[list[tuple[Any, ...]], int]:
    """One page of a `written_page` read run with `params`, and the list's total: the page's own
    when it proves it (`total_on_page`: a short page not past the end), else what `count` says
    (a count, or a total kept between writes)."""
    rows = await read.all(connection, **params, limit=page.limit, offset=page.offset)
    total = total_on_page(len(rows), page)
    return rows, await count() if total is None else total


class PagedRead:
    """A list of one shape read as `DirectRead` reads: a page of `columns` in `statement`'s
    order, its total counted only when the page does not prove it. For the lists whose totals
    are not kept between writes (a caller's own: few rows, each counted on its index).

    Build it once per shape, `statement` filtered with `bindparam`s, and run it with their
    values on a `kit.db.read_connection`. A list whose count costs more than its page can keep
    its totals: `read_page(connection, paged.page, ...)` with `count` in a `kept_total`."""

    __slots__ = ("_count", "page")

    def __init__(self, statement: Select[Any], columns: Sequence[Any]) -> None:
        self.page = DirectRead(written_page(statement.with_only_columns(*columns)))
        self._count = DirectRead(count_query(statement))

    async def read(
        self, connection: AsyncConnection, page: PageParams, **params: Any
    ) -> tuple[list[tuple[Any, ...]], int]:
        """The page's rows (tuples of the columns) and the list's total."""
        return await read_page(
            connection, self.page, page, params, lambda: self.count(connection, **params)
        )

    async def count(self, connection: AsyncConnection, /, **params: Any) -> int:
        """How many rows the list holds (its order aside)."""
        row = await self._count.first(connection, **params)
        assert row is not None
        return int(row[0])


def page_query(statement: Select[Any], page: PageParams) -> Select[Any]:
    """One page of `statement`, each row carrying the total count as its last column.

    The count rides along as an uncorrelated scalar subquery, which the database evaluates once:
    one round trip and one statement instead of two.
    """
    total = count_query(statement).correlate(None).scalar_subquery()
    return statement.add_columns(total).limit(page.limit).offset(page.offset)


async def paginate(
    session: AsyncSession, statement: Select[Any], page: PageParams
) -> tuple[list[Any], int]:
    """Run `statement` for one page and count all its rows (see `page_query`). A page past the
    end has no row to carry the count, so it is counted on its own."""
    rows = (await session.execute(page_query(statement, page))).all()
    if rows:
        return [row[0] for row in rows], int(rows[0][-1])
    if page.offset == 0:
        return [], 0
    return [], int((await session.execute(count_query(statement))).scalar_one())


def page_columns_query(
    statement: Select[Any], columns: Sequence[Any], page: PageParams
) -> Select[Any]:
    """`page_query` selecting `columns` in place of what `statement` selects."""
    total = count_query(statement).correlate(None).scalar_subquery()
    return statement.with_only_columns(*columns, total).limit(page.limit).offset(page.offset)


async def paginate_columns(
    session: AsyncSession, statement: Select[Any], columns: Sequence[Any], page: PageParams
) -> tuple[list[tuple[Any, ...]], int]:
    """`paginate`, reading only `columns` (plain tuples, no ORM objects) in place of what
    `statement` selects; its filters and order stay, and the total counts `statement`'s rows."""
    rows = (await session.execute(page_columns_query(statement, columns, page))).all()
    if rows:
        return [tuple(row)[:-1] for row in rows], int(rows[0][-1])
    if page.offset == 0:
        return [], 0
    return [], int((await session.execute(count_query(statement))).scalar_one())


def json_page(items: list[dict[str, Any]], total: int) -> Response:
    """A list answered as already-shaped JSON, its total in `X-Total-Count`.

    For hot read paths: the route keeps declaring its response model (the OpenAPI document), and
    the handler builds the wire dicts itself instead of models that are validated and dumped.
    Dates and aware UTC datetimes may stay objects: orjson writes them as the models do
    (`kit.schemas.iso_utc`: ISO 8601, "Z" for UTC).
    """
    return Response(
        orjson.dumps(items, option=orjson.OPT_UTC_Z),
        media_type="application/json",
        headers={TOTAL_COUNT_HEADER: str(total)},
    )


def json_item(item: dict[str, Any]) -> Response:
    """One item answered as already-shaped JSON, written as `json_page` writes a list's."""
    return Response(orjson.dumps(item, option=orjson.OPT_UTC_Z), media_type="application/json")


def set_total(response: Response, total: int) -> None:
    response.headers[TOTAL_COUNT_HEADER] = str(total)
