"""Notification jobs: push one notification by bot; sweep pushes that were never sent."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from chainfluence.jobs import JobContext, job, periodic
from chainfluence.kit.time import utcnow
from chainfluence.models import (
    Deal,
    DealStatus,
    Notification,
    PushStatus,
    RelatedType,
    User,
)
from chainfluence.notifications import repository
from chainfluence.notifications.push import (
    PushMessage,
    RecipientUnreachable,
    TransientPushError,
    start_param,
)
from chainfluence.ports import Attachments, Configured, Enqueuer, Pusher, Sessions
from chainfluence.telegram.links import pay_page_url


class _Ports(Sessions, Configured, Enqueuer, Pusher, Attachments, Protocol):
    """What this module needs of the process."""


PUSH_SWEEP_AGE = dt.timedelta(seconds=60)


@job("notifications.push", max_attempts=6)
async def push_notification(ctx: JobContext, *, notification_id: int) -> None:
    runtime = ctx.runtime
    sender = runtime.push_sender
    async with runtime.session() as session:
        notification = await repository.get_for_push(session, notification_id)
        if notification is None or notification.push_status is not PushStatus.pending:
            return
        user = await session.get(User, notification.user_id)
        if sender is None or user is None or not user.can_receive_pushes:
            notification.push_status = PushStatus.skipped
            return
        notification.push_attempts += 1
        message = PushMessage(
            chat_id=user.id,
            title=notification.title,
            body=notification.body,
            start_param=start_param(notification),
            document=(
                await runtime.push_attachment(session, notification, runtime.settings)
                if runtime.push_attachment is not None
                else None
            ),
            pay_url=await _pay_url(session, runtime, notification),
        )
    # Telegram is called outside any transaction; the outcome is recorded afterwards.
    try:
        await sender.send_push(message)
    except RecipientUnreachable:
        await _record(runtime, notification_id, PushStatus.skipped, blocked_user=message.chat_id)
        return
    except TransientPushError:
        if ctx.attempt >= ctx.max_attempts:
            await _record(runtime, notification_id, PushStatus.failed)
            return
        raise
    await _record(runtime, notification_id, PushStatus.sent)


async def _pay_url(
    session: AsyncSession, runtime: _Ports, notification: Notification
) -> str | None:
    """The pay page, when the notification is about a deal its reader still has to pay."""
    if notification.related_type is not RelatedType.deal or notification.related_id is None:
        return None
    deal = await session.get(Deal, notification.related_id)
    if deal is None or deal.status is not DealStatus.pending:
        return None
    if notification.user_id != deal.advertiser_id:
        return None
    return pay_page_url(runtime.settings.public_url, deal.id)


async def _record(
    runtime: _Ports, notification_id: int, status: PushStatus, *, blocked_user: int | None = None
) -> None:
    async with runtime.session() as session:
        notification = await repository.get_for_push(session, notification_id)
        if notification is not None:
            notification.push_status = status
            if status is PushStatus.sent:
                notification.pushed_at = utcnow()
        if blocked_user is not None:
            user = await session.get(User, blocked_user)
            if user is not None and user.bot_blocked_at is None:
                user.bot_blocked_at = utcnow()


@periodic("notifications.sweep_pushes", every_seconds=60)
async def sweep_pushes(runtime: _Ports) -> None:
    """Re-queue pushes whose job was lost (a crash, a dropped queue message)."""
    async with runtime.session(write=False) as session:
        ids = await repository.pending_pushes(
            session, older_than=utcnow() - PUSH_SWEEP_AGE, limit=500
        )
    for notification_id in ids:
        await runtime.queue.enqueue(
            "notifications.push",
            {"notification_id": notification_id},
            dedup_key=f"notifications.push:{notification_id}",
        )
