"""Telegram-backed checks: may this channel be listed, and may this person act for it now.

DESIGN §3: the bot must be an administrator with the rights to post, edit and delete, and the
person must be the channel's creator or an administrator — checked when the channel is listed and
re-checked (`require_channel_manager(..., fresh=True)`) before every money-moving or publishing
step. Telegram is asked directly; nothing here trusts our own copy for those decisions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from chainfluence.channels import repository
from chainfluence.channels.exceptions import (
    BotCannotEditOrDelete,
    BotCannotPost,
    BotLostRights,
    BotNotAdmin,
    ChannelGone,
    ChannelNotFound,
    NotAChannel,
    NotChannelAdmin,
    NotChannelManager,
    TelegramBotNotConfigured,
    TelegramChatNotFound,
    TelegramUnavailable,
)
from chainfluence.kit.time import utcnow
from chainfluence.models import Channel, ChannelAdmin
from chainfluence.ports import BotApiCaller, Messenger, Sessions
from chainfluence.telegram import chats
from chainfluence.telegram.chats import (
    Administrator,
    ChatInfo,
    ChatUnreachable,
    MemberRights,
    TelegramDown,
)


class _Ports(Sessions, Messenger, Protocol):
    """What this module needs of the process."""


@dataclass(frozen=True, slots=True)
class VerifiedChannel:
    chat: ChatInfo
    bot: MemberRights
    caller: MemberRights
    subscribers: int
    admins: list[Administrator]


def _need_bot(bot: BotApiCaller | None) -> BotApiCaller:
    if bot is None:
        raise TelegramBotNotConfigured()
    return bot


_bot_username = chats.bot_username


async def verify_for_listing(
    bot: BotApiCaller | None, *, reference: int | str, user_id: int
) -> VerifiedChannel:
    """Everything Telegram must confirm before `user_id` lists the chat `reference`."""
    bot = _need_bot(bot)
    shown = reference if isinstance(reference, str) else str(reference)
    try:
        try:
            chat = await chats.get_chat(bot, reference)
        except ChatUnreachable as exc:
            if exc.reason == "kicked":
                raise BotNotAdmin(shown, await _bot_username(bot), banned=True) from None
            raise TelegramChatNotFound(shown) from None
        title = chat.title or shown
        if chat.type != "channel":
            kind = {"supergroup": "group", "group": "group", "private": "person"}.get(
                chat.type, chat.type
            )
            raise NotAChannel(title, kind)
        try:
            rights = await chats.bot_rights(bot, chat.id)
        except ChatUnreachable as exc:
            raise BotNotAdmin(
                title, await _bot_username(bot), banned=exc.reason == "kicked"
            ) from None
        if not rights.is_admin:
            raise BotNotAdmin(title, await _bot_username(bot), banned=rights.status == "kicked")
        if not rights.can_post_messages:
            raise BotCannotPost(title, rights.missing)
        if rights.missing:
            raise BotCannotEditOrDelete(title, rights.missing)
        caller = await chats.member_rights(bot, chat.id, user_id)
        if not caller.is_admin:
            raise NotChannelAdmin(title)
        subscribers = await chats.member_count(bot, chat.id)
        admins = await chats.administrators(bot, chat.id)
    except ChatUnreachable:
        # The chat vanished or the bot lost access between two calls.
        raise TelegramChatNotFound(shown) from None
    except TelegramDown:
        raise TelegramUnavailable() from None
    return VerifiedChannel(chat, rights, caller, subscribers, admins)


async def check_bot_rights(bot: BotApiCaller | None, channel: Channel) -> MemberRights:
    """The bot's rights in the channel now; `ChannelGone` / `BotLostRights` when insufficient."""
    bot = _need_bot(bot)
    try:
        rights = await chats.bot_rights(bot, channel.id)
    except ChatUnreachable:
        raise ChannelGone(channel.title) from None
    except TelegramDown:
        raise TelegramUnavailable() from None
    if not rights.is_admin:
        raise ChannelGone(channel.title)
    if rights.missing:
        raise BotLostRights(channel.title, rights.missing)
    return rights


def is_manager_row(channel: Channel, user_id: int, admin: ChannelAdmin | None) -> bool:
    return channel.owner_id == user_id or repository.may_act(admin)


async def require_channel_manager(
    session: AsyncSession,
    bot: BotApiCaller | None,
    *,
    user_id: int,
    channel: Channel | int,
    fresh: bool = True,
) -> Channel:
    """The channel, if `user_id` may act for it: its owner or one of its Telegram administrators.

    `fresh=False` reads our synced copy (cheap; for edits of the listing). `fresh=True` asks
    Telegram now — the bot still holds post/edit/delete rights and the person is still the
    creator or an administrator — for money-moving and publishing steps; their admin row is
    refreshed on the way. Raises `ChannelNotFound` (404), `NotChannelManager` (403),
    `ChannelGone` / `BotLostRights` (409) or `TelegramUnavailable` (503).
    """
    if isinstance(channel, int):
        found = await repository.get(session, channel)
        if found is None:
            raise ChannelNotFound()
        channel = found
    elif channel.deleted_at is not None:
        raise ChannelNotFound()
    if not fresh:
        admin = await repository.admin_row(session, channel.id, user_id)
        if not is_manager_row(channel, user_id, admin):
            raise NotChannelManager()
        return channel
    person = await ask_telegram_for_manager(bot, channel, user_id)
    await _record_manager(session, channel.id, user_id, person)
    return channel


async def read_managed_channel(
    connection: AsyncConnection, *, user_id: int, channel_id: int
) -> tuple[Any, ...]:
    """`require_channel_manager(..., fresh=False)` for a handler that only reads, on a plain
    connection: the channel's row of `repository.managed_channel`, or the same 404 and 403."""
    row = await repository.managed_channel(connection, channel_id, user_id)
    if row is None:
        raise ChannelNotFound()
    if not row[-1]:
        raise NotChannelManager()
    return row


async def confirm_channel_manager(runtime: _Ports, *, user_id: int, channel_id: int) -> None:
    """`require_channel_manager(..., fresh=True)` for jobs, without holding a transaction open
    while Telegram answers: the channel is read, Telegram asked, and the admin row refreshed,
    each step on its own (on SQLite a write transaction would block every other writer)."""
    async with runtime.session(write=False) as session:
        channel = await repository.get(session, channel_id)
        if channel is None:
            raise ChannelNotFound()
        session.expunge(channel)
    person = await ask_telegram_for_manager(runtime.bot, channel, user_id)
    async with runtime.session() as session:
        await _record_manager(session, channel_id, user_id, person)


async def ask_telegram_for_manager(
    bot: BotApiCaller | None, channel: Channel, user_id: int
) -> MemberRights:
    """Telegram's answer now: the bot still holds its rights and `user_id` administers `channel`."""
    bot = _need_bot(bot)
    await check_bot_rights(bot, channel)
    try:
        person = await chats.member_rights(bot, channel.id, user_id)
    except ChatUnreachable:
        raise ChannelGone(channel.title) from None
    except TelegramDown:
        raise TelegramUnavailable() from None
    if not person.is_admin:
        raise NotChannelManager("act for this channel (you are no longer its administrator)")
    if person.missing and user_id != channel.owner_id:
        raise NotChannelManager(
            "act for this channel (your administrator rights lack "
            + ", ".join(right.removeprefix("can_").replace("_", " ") for right in person.missing)
            + ")"
        )
    return person


async def _record_manager(
    session: AsyncSession, channel_id: int, user_id: int, person: MemberRights
) -> None:
    existing = await repository.admin_row(session, channel_id, user_id)
    await repository.upsert_admin(
        session,
        channel_id,
        {
            "user_id": user_id,
            "username": existing.username if existing else None,
            "first_name": existing.first_name if existing else None,
            "is_creator": person.status == "creator",
            "can_post_messages": person.can_post_messages,
            "can_edit_messages": person.can_edit_messages,
            "can_delete_messages": person.can_delete_messages,
            "synced_at": utcnow(),
        },
    )
