"""What the bot hears about channels: its own promotions and demotions, changes of people's
administrator rights, and channel posts.

Called by the bot's handlers (bot/handlers/channels.py) inside the update's session.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging

from sqlalchemy.ext.asyncio import AsyncSession

from chainfluence.channels import repository
from chainfluence.kit.text import clean_text
from chainfluence.kit.time import utcnow
from chainfluence.models import Channel, NotificationType, RelatedType
from chainfluence.notifications.service import notify
from chainfluence.telegram import language
from chainfluence.telegram.chats import MemberRights

log = logging.getLogger(__name__)

_REASONS = {
    "bot_removed": "the bot is no longer an administrator of it",
    "bot_rights_lost": "the bot lost the right to post, edit or delete messages in it",
}


async def on_bot_status(
    session: AsyncSession,
    *,
    chat_id: int,
    chat_type: str,
    title: str | None,
    username: str | None,
    actor_id: int | None,
    rights: MemberRights,
) -> None:
    """The bot's status changed in a chat: remember it; a listed channel it can no longer serve
    is deactivated and its owner told (in-app and by push)."""
    now = utcnow()
    known = await repository.bot_chat(session, chat_id)
    was_admin = known is not None and known.status in ("creator", "administrator")
    promoted_by = known.promoted_by if known else None
    admin_since = known.admin_since if known else None
    if rights.is_admin and not was_admin:
        promoted_by, admin_since = actor_id, now
    elif not rights.is_admin:
        admin_since = None
    await repository.save_bot_chat(
        session,
        {
            "chat_id": chat_id,
            "chat_type": chat_type,
            "title": clean_text(title) if title else title,
            "username": username,
            "status": rights.status,
            "can_post_messages": rights.can_post_messages,
            "can_edit_messages": rights.can_edit_messages,
            "can_delete_messages": rights.can_delete_messages,
            "promoted_by": promoted_by,
            "admin_since": admin_since,
            "updated_at": now,
        },
    )
    channel = await repository.get_for_update(session, chat_id)
    if channel is None:
        return
    channel.bot_status_at = now
    if rights.is_admin and not was_admin and actor_id is not None:
        channel.bot_added_by = actor_id
    if not rights.is_admin:
        await deactivate(session, channel, "bot_removed")
    elif rights.missing:
        await deactivate(session, channel, "bot_rights_lost")
    await session.flush()


async def on_member_status(
    session: AsyncSession,
    *,
    chat_id: int,
    user_id: int,
    username: str | None,
    first_name: str | None,
    rights: MemberRights,
) -> None:
    """Someone's status or administrator rights changed in a chat (`chat_member`): for a listed
    channel, their manager row follows at once — removed or demoted, they no longer act for it
    or see its deals; promoted with the rights, they may."""
    channel = await repository.get(session, chat_id)
    if channel is None:
        return
    if not rights.is_admin:
        await repository.remove_admin(session, chat_id, user_id)
        return
    await repository.upsert_admin(
        session,
        chat_id,
        {
            "user_id": user_id,
            "username": clean_text(username) if username else None,
            "first_name": clean_text(first_name) if first_name else None,
            "is_creator": rights.status == "creator",
            "can_post_messages": rights.can_post_messages,
            "can_edit_messages": rights.can_edit_messages,
            "can_delete_messages": rights.can_delete_messages,
            "synced_at": utcnow(),
        },
    )


async def deactivate(session: AsyncSession, channel: Channel, reason: str) -> None:
    if not channel.is_active:
        return
    channel.is_active = False
    channel.deactivated_reason = reason
    channel.updated_at = utcnow()
    log.info("channel %s deactivated: %s", channel.id, reason)
    await notify(
        session,
        user_id=channel.owner_id,
        type=NotificationType.channel_deactivated,
        title=f"{channel.title} is no longer listed",
        body=(
            f"We took {channel.title} out of the catalogue because {_REASONS[reason]}. "
            "Make the bot an administrator with the rights to post, edit and delete messages, "
            "then reactivate the channel in the app."
        ),
        related=(RelatedType.channel, channel.id),
    )


async def record_post(
    session: AsyncSession,
    *,
    channel_id: int,
    message_id: int,
    posted_at: dt.datetime,
    edited_at: dt.datetime | None,
    text: str | None,
    has_media: bool,
    media_group_id: str | None,
) -> None:
    """Store (or update, for an edit) a channel post the bot received."""
    body = text or ""
    detected = await asyncio.to_thread(language.detect, body) if body else None
    values = {
        "channel_id": channel_id,
        "message_id": message_id,
        "posted_at": posted_at,
        "edited_at": edited_at,
        "text_length": len(body),
        "text_hash": hashlib.sha256(body.encode()).hexdigest() if body else None,
        "has_media": has_media,
        "media_group_id": media_group_id,
        "language": detected,
        "source": "update",
        "observed_at": utcnow(),
    }
    update = ["edited_at", "text_length", "text_hash", "has_media", "language"]
    await repository.save_post(session, values, update=update)
