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


def _page_params(
    limit: Annotated[int, Query(ge=1, le=200, description="Items per page")] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000, description="Items to skip")] = 0,
) -> PageParams:
    return PageParams(limit=limit, offset=offset)


Page = Annotated[PageParams, Depends(_page_params)]


async def paginate(
    session: AsyncSession, statement: Select[Any], page: PageParams
) -> tuple[list[Any], int]:
    """Run `statement` for one page and count all its rows."""
    count_statement = select(func.count()).select_from(
        statement.order_by(None).options().subquery()
    )
    total = (await session.execute(count_statement)).scalar_one()
    rows = (await session.execute(statement.limit(page.limit).offset(page.offset))).scalars()
    return list(rows), int(total)


def set_total(response: Response, total: int) -> None:
    response.headers[TOTAL_COUNT_HEADER] = str(total)
