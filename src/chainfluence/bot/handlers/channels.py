"""Channels and the bot: its promotions and demotions, its colleagues' (managers') rights, and
the posts it sees."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import ChatMemberUpdated, Message
from sqlalchemy.ext.asyncio import AsyncSession

from chainfluence.channels import bot_events
from chainfluence.kit.time import as_utc, from_unix
from chainfluence.telegram.chats import MemberRights


async def bot_status_changed(update: ChatMemberUpdated, session: AsyncSession) -> None:
    await bot_events.on_bot_status(
        session,
        chat_id=update.chat.id,
        chat_type=str(update.chat.type),
        title=update.chat.title,
        username=update.chat.username,
        actor_id=update.from_user.id if update.from_user else None,
        rights=MemberRights.of(update.new_chat_member.model_dump(mode="json")),
    )


async def member_status_changed(update: ChatMemberUpdated, session: AsyncSession) -> None:
    member = update.new_chat_member
    if member.user.is_bot:
        return
    await bot_events.on_member_status(
        session,
        chat_id=update.chat.id,
        user_id=member.user.id,
        username=member.user.username,
        first_name=member.user.first_name,
        rights=MemberRights.of(member.model_dump(mode="json")),
    )


async def channel_post(post: Message, session: AsyncSession) -> None:
    await bot_events.record_post(
        session,
        channel_id=post.chat.id,
        message_id=post.message_id,
        posted_at=as_utc(post.date),
        edited_at=from_unix(post.edit_date) if post.edit_date else None,
        text=post.text if post.text is not None else post.caption,
        has_media=bool(post.photo or post.video or post.document or post.animation),
        media_group_id=post.media_group_id,
    )


def router() -> Router:
    """A fresh router (an aiogram router belongs to one dispatcher)."""
    channels = Router(name="channels")
    channels.my_chat_member.register(
        bot_status_changed, F.chat.type.in_({"channel", "supergroup", "group"})
    )
    channels.chat_member.register(member_status_changed, F.chat.type == "channel")
    channels.channel_post.register(channel_post)
    channels.edited_channel_post.register(channel_post)
    return channels
