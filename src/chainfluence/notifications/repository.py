"""Notification queries."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import String, bindparam, func, select, type_coerce, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from chainfluence.kit.pagination import PagedRead, PageParams
from chainfluence.models import Notification, PushStatus

# What the inbox reads (and answers), the enums as their text (the wire wants the text).
LIST_COLUMNS: tuple[Any, ...] = (
    Notification.id,
    type_coerce(Notification.type, String()).label("type"),
    Notification.title,
    Notification.body,
    Notification.related_id,
    type_coerce(Notification.related_type, String()).label("related_type"),
    Notification.read_at,
    Notification.created_at,
)


async def inbox_page(
    connection: AsyncConnection, user_id: int, *, unread_only: bool, page: PageParams
) -> tuple[list[tuple[Any, ...]], int]:
    """A page of the user's notifications (`LIST_COLUMNS`), newest first, and their total."""
    return await _inbox(unread_only).read(connection, page, user_id=user_id)


@functools.cache
def _inbox(unread_only: bool) -> PagedRead:
    statement = select(Notification).where(Notification.user_id == bindparam("user_id"))
    if unread_only:
        statement = statement.where(Notification.read_at.is_(None))
    return PagedRead(statement.order_by(Notification.id.desc()), LIST_COLUMNS)


async def get_owned(
    session: AsyncSession, notification_id: int, user_id: int
) -> Notification | None:
    statement = select(Notification).where(
        Notification.id == notification_id, Notification.user_id == user_id
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def unread_count(session: AsyncSession, user_id: int) -> int:
    statement = (
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
    )
    return int((await session.execute(statement)).scalar_one())


async def mark_all_read(session: AsyncSession, user_id: int, now: dt.datetime) -> int:
    statement = (
        update(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=now)
        .execution_options(synchronize_session=False)
    )
    result = await session.execute(statement)
    return int(result.rowcount)  # type: ignore[attr-defined]


async def get_for_push(session: AsyncSession, notification_id: int) -> Notification | None:
    statement = select(Notification).where(Notification.id == notification_id).with_for_update()
    return (await session.execute(statement)).scalar_one_or_none()


async def pending_pushes(
    session: AsyncSession, *, older_than: dt.datetime, limit: int
) -> Sequence[int]:
    statement = (
        select(Notification.id)
        .where(Notification.push_status == PushStatus.pending, Notification.created_at < older_than)
        .order_by(Notification.id)
        .limit(limit)
    )
    return (await session.execute(statement)).scalars().all()
