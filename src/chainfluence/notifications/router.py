"""/v1/notifications: the caller's inbox."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from chainfluence.auth.dependencies import CurrentReader, CurrentUser
from chainfluence.dependencies import DBSession
from chainfluence.kit.pagination import Page, json_page
from chainfluence.kit.schemas import IntId, QueryBool
from chainfluence.notifications import repository, schemas, service

router = APIRouter(prefix="/notifications", tags=["notifications"])


@router.get("", response_model=list[schemas.Notification])
async def list_notifications(
    reader: CurrentReader,
    page: Page,
    unread: Annotated[QueryBool, Query(description="Only unread ones")] = False,
) -> Response:
    rows, total = await repository.inbox_page(
        reader.connection, reader.user_id, unread_only=unread, page=page
    )
    return json_page([service.list_item(row) for row in rows], total)


@router.get("/unread-count", response_model=schemas.Count)
async def unread_count(user: CurrentUser, session: DBSession) -> schemas.Count:
    return schemas.Count(count=await repository.unread_count(session, user.id))


@router.patch("/{notification_id}/read", response_model=schemas.Notification)
async def mark_read(
    notification_id: IntId, user: CurrentUser, session: DBSession
) -> schemas.Notification:
    notification = await service.set_read(
        session, user_id=user.id, notification_id=notification_id, read=True
    )
    return service.to_schema(notification)


@router.patch("/{notification_id}", response_model=schemas.Notification)
async def update_notification(
    notification_id: IntId,
    body: schemas.NotificationUpdate,
    user: CurrentUser,
    session: DBSession,
) -> schemas.Notification:
    notification = await service.set_read(
        session, user_id=user.id, notification_id=notification_id, read=body.read
    )
    return service.to_schema(notification)


@router.post("/read-all", response_model=schemas.Count)
async def read_all(user: CurrentUser, session: DBSession) -> schemas.Count:
    return schemas.Count(count=await service.read_all(session, user_id=user.id))
