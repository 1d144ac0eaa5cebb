"""List pagination: `limit` (default 50, max 200), `offset`, the total in `X-Total-Count`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Query, Response
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

TOTAL_COUNT_HEADER = "X-Total-Count"
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PageParams:
    limit: int
    offset: int


async def _page_params(
    limit: Annotated[int, Query(ge=1, le=200, description="Items per page")] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000, description="Items to skip")] = 0,
) -> PageParams:
    return PageParams(limit=limit, offset=offset)


Page = Annotated[PageParams, Depends(_page_params)]


async def paginate(
    session: AsyncSession, statement: Select[Any], page: PageParams
) -> tuple[list[Any], int]:
    """Run `statement` for one page and count all its rows.

    The count rides along in the page's own query as an uncorrelated scalar subquery, which the
    database evaluates once: one round trip and one statement instead of two. A page past the
    end has no row to carry it and is counted on its own.
    """
    count_statement = select(func.count()).select_from(
        statement.order_by(None).options().subquery()
    )
    total = count_statement.correlate(None).scalar_subquery()
    page_statement = statement.add_columns(total).limit(page.limit).offset(page.offset)
    rows = (await session.execute(page_statement)).all()
    if rows:
        return [row[0] for row in rows], int(rows[0][-1])
    if page.offset == 0:
        return [], 0
    return [], int((await session.execute(count_statement)).scalar_one())


def set_total(response: Response, total: int) -> None:
    response.headers[TOTAL_COUNT_HEADER] = str(total)
