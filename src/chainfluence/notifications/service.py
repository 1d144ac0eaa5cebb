"""The notification service: `notify()` for every domain, and the inbox operations.

A notification is stored in the caller's transaction and its bot push is queued to run after
that transaction commits, so a push never blocks, and never announces, something rolled back.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from chainfluence import jobs
from chainfluence.kit.errors import NotFound
from chainfluence.kit.time import utcnow
from chainfluence.models import Notification, NotificationType, PushStatus, RelatedType
from chainfluence.notifications import repository, schemas

TITLE_MAX = 200


async def notify(
    session: AsyncSession,
    *,
    user_id: int,
    type: NotificationType,
    title: str,
    body: str = "",
    related: tuple[RelatedType, int] | None = None,
) -> Notification:
    related_type, related_id = related if related else (None, None)
    notification = Notification(
        user_id=user_id,
        type=type,
        title=title[:TITLE_MAX],
        body=body,
        related_type=related_type,
        related_id=related_id,
        push_status=PushStatus.pending,
        push_attempts=0,
    )
    session.add(notification)
    await session.flush()
    await jobs.enqueue(
        session,
        "notifications.push",
        {"notification_id": notification.id},
        dedup_key=f"notifications.push:{notification.id}",
    )
    return notification


def list_item(row: tuple[Any, ...]) -> dict[str, Any]:
    """A notification as `schemas.Notification` puts it on the wire, from a row of
    `repository.LIST_COLUMNS` (the inbox builds these directly; tested equal to the model's
    rendering). Its times stay aware UTC datetimes, which `kit.pagination.json_page` writes as
    the model does."""
    id_, type_, title, body, related_id, related_type, read_at, created_at = row
    if related_type == RelatedType.channel.value and related_id is not None:
        related_id = str(related_id)
    # Response models strip their strings (kit.schemas.Schema); so does the wire shape.
    return {
        "id": id_,
        "type": type_,
        "title": title.strip(),
        "body": body.strip(),
        "relatedId": related_id,
        "relatedType": related_type,
        "read": read_at is not None,
        "readAt": read_at,
        "createdAt": created_at,
    }


def to_schema(notification: Notification) -> schemas.Notification:
    related_id: int | str | None = notification.related_id
    if notification.related_type is RelatedType.channel and related_id is not None:
        related_id = str(related_id)
    return schemas.Notification(
        id=notification.id,
        type=notification.type,
        title=notification.title,
        body=notification.body,
        related_id=related_id,
        related_type=notification.related_type,
        read=notification.read_at is not None,
        read_at=notification.read_at,
        created_at=notification.created_at,
    )


async def set_read(
    session: AsyncSession, *, user_id: int, notification_id: int, read: bool
) -> Notification:
    # Another user's notification is indistinguishable from a missing one.
    notification = await repository.get_owned(session, notification_id, user_id)
    if notification is None:
        raise NotFound("No such notification.", code="notification_not_found")
    if read and notification.read_at is None:
        notification.read_at = utcnow()
    elif not read:
        notification.read_at = None
    await session.flush()
    return notification


async def read_all(session: AsyncSession, *, user_id: int) -> int:
    return await repository.mark_all_read(session, user_id, utcnow())
