"""Bot API helpers for chats: what a chat is, who administers it, what rights the bot holds.

Telegram's answers are turned into a few domain-free outcomes (`ChatUnreachable` with a reason,
`TelegramDown`) that the channels service maps to user-facing errors. The calls go through the
plain Bot API client (`telegram.botapi`): they are made while an API request waits, and the API
process does not load aiogram.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from chainfluence.kit.errors import TooManyRequests
from chainfluence.ports import BotApiCaller
from chainfluence.telegram.botapi import (
    BadRequest,
    Forbidden,
    NetworkError,
    RetryAfter,
    ServerError,
)

# What the bot needs in a channel to publish an ad, fix it and take it down.
REQUIRED_RIGHTS = ("can_post_messages", "can_edit_messages", "can_delete_messages")
ADMIN_STATUSES = frozenset({"creator", "administrator"})

Unreachable = Literal["not_found", "not_member", "kicked", "no_member_list"]


class ChatUnreachable(Exception):
    def __init__(self, reason: Unreachable, description: str) -> None:
        super().__init__(description)
        self.reason = reason


class TelegramDown(Exception):
    """Telegram did not answer usefully (network, 5xx, flood limit): try again later."""


@contextlib.contextmanager
def translate_errors() -> Iterator[None]:
    try:
        yield
    except Forbidden as exc:
        text = exc.message.lower()
        reason: Unreachable = "kicked" if "kicked" in text else "not_member"
        raise ChatUnreachable(reason, exc.message) from exc
    except BadRequest as exc:
        text = exc.message.lower()
        if "chat not found" in text:
            raise ChatUnreachable("not_found", exc.message) from exc
        if "member list is inaccessible" in text:
            raise ChatUnreachable("no_member_list", exc.message) from exc
        raise
    except (RetryAfter, ServerError, NetworkError) as exc:
        raise TelegramDown(str(exc)) from exc
    except TooManyRequests as exc:
        raise TelegramDown(exc.message) from exc


@dataclass(frozen=True, slots=True)
class MemberRights:
    status: str  # creator, administrator, member, restricted, left, kicked
    can_post_messages: bool = False
    can_edit_messages: bool = False
    can_delete_messages: bool = False

    @property
    def is_admin(self) -> bool:
        return self.status in ADMIN_STATUSES

    @property
    def missing(self) -> list[str]:
        """Required rights not held (all of them when not an administrator)."""
        return [right for right in REQUIRED_RIGHTS if not getattr(self, right)]

    @classmethod
    def of(cls, member: dict[str, Any]) -> MemberRights:
        """From a ChatMember as the Bot API spells it."""
        status = str(member.get("status") or "left")
        if status == "creator":
            return cls(status, True, True, True)
        return cls(
            status,
            bool(member.get("can_post_messages", False)),
            bool(member.get("can_edit_messages", False)),
            bool(member.get("can_delete_messages", False)),
        )


@dataclass(frozen=True, slots=True)
class ChatInfo:
    """What getChat says of a chat, the fields we keep."""

    id: int
    type: str
    title: str | None = None
    username: str | None = None
    description: str | None = None

    @classmethod
    def of(cls, chat: dict[str, Any]) -> ChatInfo:
        return cls(
            id=int(chat["id"]),
            type=str(chat["type"]),
            title=chat.get("title"),
            username=chat.get("username"),
            description=chat.get("description"),
        )


@dataclass(frozen=True, slots=True)
class Administrator:
    user_id: int
    username: str | None
    first_name: str
    is_bot: bool
    rights: MemberRights


async def get_chat(bot: BotApiCaller, chat: int | str) -> ChatInfo:
    with translate_errors():
        return ChatInfo.of(await bot.call("getChat", chat_id=chat))


async def member_rights(bot: BotApiCaller, chat_id: int, user_id: int) -> MemberRights:
    """A member's status and rights; an id Telegram does not know reads as 'left'."""
    with translate_errors():
        try:
            member = await bot.call("getChatMember", chat_id=chat_id, user_id=user_id)
        except BadRequest as exc:
            if "user not found" in exc.message.lower() or "participant" in exc.message.lower():
                return MemberRights("left")
            raise
        return MemberRights.of(member)


async def bot_rights(bot: BotApiCaller, chat_id: int) -> MemberRights:
    """The bot's own status and rights in a chat (raises `ChatUnreachable` if it can't see it)."""
    return await member_rights(bot, chat_id, bot.id)


async def administrators(bot: BotApiCaller, chat_id: int) -> list[Administrator]:
    with translate_errors():
        members = await bot.call("getChatAdministrators", chat_id=chat_id)
    return [
        Administrator(
            user_id=int(m["user"]["id"]),
            username=m["user"].get("username"),
            first_name=m["user"].get("first_name") or "",
            is_bot=bool(m["user"].get("is_bot", False)),
            rights=MemberRights.of(m),
        )
        for m in members
    ]


async def member_count(bot: BotApiCaller, chat_id: int) -> int:
    with translate_errors():
        return int(await bot.call("getChatMemberCount", chat_id=chat_id))


async def bot_username(bot: BotApiCaller) -> str | None:
    """The bot's @username (getMe), or None when Telegram does not say."""
    try:
        me = await bot.call("getMe")
    except Exception:
        return None
    username = me.get("username") if isinstance(me, dict) else None
    return str(username) if username else None
